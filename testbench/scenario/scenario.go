// Package scenario reads and runs bench scenarios: YAML files of steps at
// simulated times (commands, fault injections, weather, agent kill and
// restart, broker stop and start, serial unplug and replug) and
// expectations (an event within a time, a state value, a command reply,
// no event for a time, and bounds the simulated drone's own state keeps
// for a time).
// A scenario passes when every expectation held, no safety invariant was
// seen broken, and every event reached the broker once, in seq order.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
	"go.yaml.in/yaml/v3"
)

// Scenario is one scenario file.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Timeout bounds the whole run in simulated time (default 30m).
	Timeout time.Duration `yaml:"timeout"`
	// World sets up the bench before the agent starts.
	World WorldSetup `yaml:"world"`
	Steps []Step     `yaml:"steps"`
	// AllowViolations lists invariants a scenario expects to see broken by
	// its own fault injection (none of the shipped ones do).
	AllowViolations []int `yaml:"allow_violations"`
}

// WorldSetup is the bench's initial state.
type WorldSetup struct {
	LidTravel  time.Duration `yaml:"lid_travel"`
	ArmsTravel time.Duration `yaml:"arms_travel"`
	Weather    *Weather      `yaml:"weather"`
	// BatteryPct starts the drone with this charge (default full).
	BatteryPct *float64 `yaml:"battery_pct"`
	// Config edits of the generated agent config (limits).
	Limits map[string]float64 `yaml:"limits"`
}

// Weather sets readings of the weather station; nil fields stay.
type Weather struct {
	WindMPS     *float64 `yaml:"wind_mps"`
	GustMPS     *float64 `yaml:"gust_mps"`
	DirDeg      *float64 `yaml:"dir_deg"`
	TempC       *float64 `yaml:"temp_c"`
	HumidityPct *float64 `yaml:"humidity_pct"`
	Rain        *bool    `yaml:"rain"`
}

// Step is one thing to do or to expect. When it happens: At (since the
// start) or After (since the previous step ended); neither is at once.
// Exactly one action or expectation per step.
type Step struct {
	At    *time.Duration `yaml:"at"`
	After time.Duration  `yaml:"after"`
	Note  string         `yaml:"note"`

	// Actions.
	Command string         `yaml:"command"` // MQTT command name
	Args    map[string]any `yaml:"args"`
	Raw     string         `yaml:"raw"` // the command payload as is (bad-input scenarios)
	// Reply expects the command's reply: "ok" or an error code. Empty
	// accepts any reply.
	Reply   string   `yaml:"reply"`
	Save    string   `yaml:"save"` // remember result.sortie_id under this name
	Fault   string   `yaml:"fault"`
	Weather *Weather `yaml:"weather"`

	// Expectations.
	Expect *Expect `yaml:"expect"`
}

// Expect is a condition that must hold within a time.
type Expect struct {
	// Event: a new event of this type whose fields contain Where.
	Event string         `yaml:"event"`
	Where map[string]any `yaml:"where"`
	// State: the latest `state` contains these values (dotted paths:
	// vehicle.armed).
	State map[string]any `yaml:"state"`
	// NoEvent: no such event (type + Where) arrives within Within.
	NoEvent string `yaml:"no_event"`
	// Drone: the simulated drone's true state (not the agent's view of
	// it) stays within these bounds for the whole of Within; it fails at
	// the first sample outside. Where State must become true, Drone must
	// keep holding.
	Drone *DroneBounds `yaml:"drone"`
	// Within is the simulated time allowed (default 1m).
	Within time.Duration `yaml:"within"`
}

// DroneBounds are limits on the simulated drone's true state; unset
// fields are not checked, at least one must be set.
type DroneBounds struct {
	// MinRelAltM: at least this many metres above home (a hold on station
	// that must not sink).
	MinRelAltM *float64 `yaml:"min_rel_alt_m"`
	// MaxDistHomeM: at most this many metres from home horizontally (back
	// at the dock, not lying in a field the agent calls docked).
	MaxDistHomeM *float64 `yaml:"max_dist_home_m"`
	// Armed: armed (true) or disarmed (false) throughout.
	Armed *bool `yaml:"armed"`
}

// String describes the bounds: "rel_alt >= 40 m, armed".
func (b *DroneBounds) String() string {
	var parts []string
	if b.MinRelAltM != nil {
		parts = append(parts, fmt.Sprintf("rel_alt >= %g m", *b.MinRelAltM))
	}
	if b.MaxDistHomeM != nil {
		parts = append(parts, fmt.Sprintf("within %g m of home", *b.MaxDistHomeM))
	}
	if b.Armed != nil {
		parts = append(parts, map[bool]string{true: "armed", false: "disarmed"}[*b.Armed])
	}
	return strings.Join(parts, ", ")
}

// broken returns how a drone in state s is outside b, or "".
func (b *DroneBounds) broken(s world.DroneState) string {
	switch {
	case !s.Known:
		return "no simulated drone on this bench"
	case b.MinRelAltM != nil && s.RelAltM < *b.MinRelAltM:
		return fmt.Sprintf("rel_alt %.2f m < %g m (mode %s, climbing %.1f m/s, %.0f m from home)", s.RelAltM, *b.MinRelAltM, s.Mode, s.ClimbMPS, s.DistHomeM)
	case b.MaxDistHomeM != nil && s.DistHomeM > *b.MaxDistHomeM:
		return fmt.Sprintf("%.0f m from home > %g m (mode %s, armed %v, rel_alt %.1f m)", s.DistHomeM, *b.MaxDistHomeM, s.Mode, s.Armed, s.RelAltM)
	case b.Armed != nil && s.Armed != *b.Armed:
		return fmt.Sprintf("armed %v, want %v (mode %s, rel_alt %.1f m, %.0f m from home)", s.Armed, *b.Armed, s.Mode, s.RelAltM, s.DistHomeM)
	}
	return ""
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and checks a scenario; unknown keys are errors.
func Parse(data []byte, name string) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Minute
	}
	var errs []error
	if s.Name == "" {
		errs = append(errs, fmt.Errorf("%s: name: missing", name))
	}
	if len(s.Steps) == 0 {
		errs = append(errs, fmt.Errorf("%s: steps: none", name))
	}
	for i, st := range s.Steps {
		n := 0
		for _, set := range []bool{st.Command != "", st.Fault != "", st.Weather != nil, st.Expect != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			errs = append(errs, fmt.Errorf("%s: steps[%d]: want exactly one of command, fault, weather, expect (have %d)", name, i, n))
		}
		if st.Fault != "" {
			if err := checkFault(st.Fault); err != nil {
				errs = append(errs, fmt.Errorf("%s: steps[%d].fault: %w", name, i, err))
			}
		}
		if e := st.Expect; e != nil {
			k := 0
			for _, set := range []bool{e.Event != "", e.State != nil, e.NoEvent != "", e.Drone != nil} {
				if set {
					k++
				}
			}
			if k != 1 {
				errs = append(errs, fmt.Errorf("%s: steps[%d].expect: want exactly one of event, state, no_event, drone", name, i))
			}
			if e.Drone != nil && e.Drone.MinRelAltM == nil && e.Drone.MaxDistHomeM == nil && e.Drone.Armed == nil {
				errs = append(errs, fmt.Errorf("%s: steps[%d].expect.drone: no bound (min_rel_alt_m, max_dist_home_m, armed)", name, i))
			}
			if e.Within == 0 {
				s.Steps[i].Expect.Within = time.Minute
			}
		}
		if st.At != nil && st.After != 0 {
			errs = append(errs, fmt.Errorf("%s: steps[%d]: at and after both set", name, i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &s, nil
}

// faultNames are the faults the runner knows; some take an argument after
// a colon.
func faultNames() []string {
	return []string{
		"estop_press", "estop_release", "mains_lost", "mains_back", "rain_on", "rain_off",
		"lid_stuck", "lid_unstuck", "arms_stuck", "arms_unstuck", "lid_slow", "limit_stuck", "limit_release",
		"unplug", "replug", "broker_stop", "broker_start",
		"agent_kill", "agent_restart", "agent_term",
		"weather_silent", "weather_back",
		"gps_loss", "gps_back", "link_drop", "link_back", "battery", "refuse_arming", "allow_arming", "drop_mission_requests",
	}
}

func checkFault(f string) error {
	name, _, _ := strings.Cut(f, ":")
	for _, k := range faultNames() {
		if k == name {
			return nil
		}
	}
	return fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(faultNames(), ", "))
}
