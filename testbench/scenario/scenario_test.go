package scenario

import (
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/testbench/world"
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
		{"drone and event", "name: x\nsteps:\n  - expect: {event: estop, drone: {armed: true}}\n", "exactly one of event, state, no_event, drone"},
		{"drone without bound", "name: x\nsteps:\n  - expect: {drone: {}, within: 5s}\n", "expect.drone: no bound"},
		{"drone unknown bound", "name: x\nsteps:\n  - expect: {drone: {max_speed: 3}}\n", "field max_speed not found"},
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

// TestDroneBounds: a drone expectation fails on the first sample outside
// its bounds and says how it was outside.
func TestDroneBounds(t *testing.T) {
	s, err := Parse([]byte("name: x\nsteps:\n  - expect: {drone: {min_rel_alt_m: 40, armed: true}, within: 60s}\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := s.Steps[0].Expect.Drone
	if got := b.String(); got != "rel_alt >= 40 m, armed" {
		t.Errorf("String() = %q", got)
	}
	holding := world.DroneState{Known: true, Armed: true, RelAltM: 58.7, Mode: "GUIDED", DistHomeM: 1203}
	for _, tc := range []struct {
		name string
		st   world.DroneState
		want string // substring of the reason, "" for within bounds
	}{
		{"holding on station", holding, ""},
		{"exactly at the floor", world.DroneState{Known: true, Armed: true, RelAltM: 40}, ""},
		{"sinking in LOITER", world.DroneState{Known: true, Armed: true, RelAltM: 37.2, Mode: "LOITER", ClimbMPS: -2.5, DistHomeM: 1204},
			"rel_alt 37.20 m < 40 m (mode LOITER, climbing -2.5 m/s, 1204 m from home)"},
		{"disarmed on the ground away", world.DroneState{Known: true, Armed: false, RelAltM: 41, Mode: "LOITER"}, "armed false, want true"},
		{"a real autopilot", world.DroneState{}, "no simulated drone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := b.broken(tc.st)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("broken(%+v) = %q, want %q", tc.st, got, tc.want)
			}
		})
	}
}

// TestDroneBoundsAtHome: "docked" in the agent's state is only landed,
// disarmed and clamped; the drone bound checks where it really is.
func TestDroneBoundsAtHome(t *testing.T) {
	s, err := Parse([]byte("name: x\nsteps:\n  - expect: {drone: {max_dist_home_m: 2, armed: false}, within: 5s}\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := s.Steps[0].Expect.Drone
	if got := b.String(); got != "within 2 m of home, disarmed" {
		t.Errorf("String() = %q", got)
	}
	for _, tc := range []struct {
		name string
		st   world.DroneState
		want string
	}{
		{"on the pad", world.DroneState{Known: true, OnGround: true, DistHomeM: 0.4}, ""},
		{"in a field 1.2 km away", world.DroneState{Known: true, OnGround: true, DistHomeM: 1204, Mode: "RTL"},
			"1204 m from home > 2 m (mode RTL, armed false, rel_alt 0.0 m)"},
		{"armed on the pad", world.DroneState{Known: true, Armed: true, DistHomeM: 0.4}, "armed true, want false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := b.broken(tc.st)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("broken(%+v) = %q, want %q", tc.st, got, tc.want)
			}
		})
	}
}
