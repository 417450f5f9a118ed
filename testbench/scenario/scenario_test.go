package scenario

import (
	"strings"
	"testing"
)

func TestParseRefusesMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "name: x\nsteps:\n  - fault: estop_press\n    colour: red\n", "field colour not found"},
		{"no steps", "name: x\n", "steps: none"},
		{"two actions", "name: x\nsteps:\n  - fault: estop_press\n    command: lid\n", "exactly one of command, fault, weather, expect"},
		{"unknown fault", "name: x\nsteps:\n  - fault: meteor\n", `unknown fault "meteor"`},
		{"empty expect", "name: x\nsteps:\n  - expect: {within: 5s}\n", "exactly one of event, state, no_event"},
		{"at and after", "name: x\nsteps:\n  - at: 5s\n    after: 2s\n    fault: estop_press\n", "at and after both set"},
		{"bad duration", "name: x\nsteps:\n  - after: soon\n    fault: estop_press\n", "soon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "s.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse([]byte("name: x\nsteps:\n  - expect: {event: estop}\n  - at: 3s\n    fault: battery:20\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Timeout.Minutes() != 30 || s.Steps[0].Expect.Within.Seconds() != 60 || s.Steps[1].At.Seconds() != 3 {
		t.Errorf("defaults: timeout %v within %v at %v", s.Timeout, s.Steps[0].Expect.Within, *s.Steps[1].At)
	}
}

func TestMatches(t *testing.T) {
	r := &runner{saved: map[string]string{"d1": "s-42"}}
	got := map[string]any{"phase": "complete", "sortie_id": "s-42", "vehicle": map[string]any{"armed": false, "battery_pct": 80.0}}
	for _, tc := range []struct {
		want map[string]any
		ok   bool
	}{
		{map[string]any{"phase": "complete"}, true},
		{map[string]any{"sortie_id": "$d1"}, true},
		{map[string]any{"vehicle.armed": false, "vehicle.battery_pct": 80}, true},
		{map[string]any{"vehicle.battery_pct": 81}, false},
		{map[string]any{"phase": "aborted"}, false},
		{map[string]any{"vehicle.nothing": "x"}, false},
	} {
		if got := r.matches(got, tc.want); got != tc.ok {
			t.Errorf("matches(%v) = %v, want %v", tc.want, got, tc.ok)
		}
	}
}
