package vehicle

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Autopilot is the flight stack family, which decides how modes are encoded.
type Autopilot uint8

// Autopilot families (HEARTBEAT.autopilot).
const (
	AutopilotUnknown Autopilot = iota
	ArduPilot                  // MAV_AUTOPILOT_ARDUPILOTMEGA
	PX4                        // MAV_AUTOPILOT_PX4
)

func (a Autopilot) String() string {
	switch a {
	case ArduPilot:
		return "ardupilot"
	case PX4:
		return "px4"
	}
	return "unknown"
}

// arduCopterModes are ArduCopter's custom_mode numbers (ardupilotmega.xml
// COPTER_MODE, PROTOCOL.md §8). There is no 8, 10 or 12.
var arduCopterModes = map[string]uint32{
	"STABILIZE": 0, "ACRO": 1, "ALT_HOLD": 2, "AUTO": 3, "GUIDED": 4, "LOITER": 5,
	"RTL": 6, "CIRCLE": 7, "LAND": 9, "DRIFT": 11, "SPORT": 13, "FLIP": 14,
	"AUTOTUNE": 15, "POSHOLD": 16, "BRAKE": 17, "THROW": 18, "AVOID_ADSB": 19,
	"GUIDED_NOGPS": 20, "SMART_RTL": 21, "FLOWHOLD": 22, "FOLLOW": 23, "ZIGZAG": 24,
	"SYSTEMID": 25, "AUTOROTATE": 26, "AUTO_RTL": 27, "TURTLE": 28,
}

// ErrPilotMode is returned (wrapped) by SetMode for a mode that needs a
// pilot's sticks.
var ErrPilotMode = errors.New("a pilot mode: without stick input the vehicle descends or drifts, never selected for an unattended vehicle")

// arduCopterPilotModes are the ArduCopter modes flown from the sticks. With
// no RC input the throttle sits at its low end: ALT_HOLD, LOITER and
// POSHOLD descend at the pilot descent rate and land where they are,
// STABILIZE and ACRO drop. GUIDED, AUTO, RTL, LAND and BRAKE need no pilot.
var arduCopterPilotModes = map[string]bool{
	"STABILIZE": true, "ACRO": true, "ALT_HOLD": true, "LOITER": true, "DRIFT": true, "SPORT": true,
	"FLIP": true, "AUTOTUNE": true, "POSHOLD": true, "FLOWHOLD": true, "ZIGZAG": true, "SYSTEMID": true,
	"TURTLE": true, "THROW": true, "GUIDED_NOGPS": true,
}

// px4PilotModes are PX4's manual modes; its unattended hold is AUTO.LOITER.
var px4PilotModes = map[string]bool{
	"MANUAL": true, "ALTCTL": true, "POSCTL": true, "POSCTL.ORBIT": true, "ACRO": true, "STABILIZED": true,
}

// PilotMode reports whether name is a mode flown from a pilot's sticks on
// the autopilot family (case insensitive). Invariant 8: no automatic step
// hands the vehicle to one.
func PilotMode(a Autopilot, name string) bool {
	name = strings.ToUpper(strings.TrimSpace(name))
	switch a {
	case ArduPilot:
		return arduCopterPilotModes[name]
	case PX4:
		return px4PilotModes[name]
	}
	return arduCopterPilotModes[name] || px4PilotModes[name]
}

// PX4 main modes and AUTO sub-modes (px4_custom_mode.h, PROTOCOL.md §8).
const (
	px4MainManual     = 1
	px4MainAltCtl     = 2
	px4MainPosCtl     = 3
	px4MainAuto       = 4
	px4MainAcro       = 5
	px4MainOffboard   = 6
	px4MainStabilized = 7
)

type px4Mode struct{ main, sub uint8 }

var px4Modes = map[string]px4Mode{
	"MANUAL": {px4MainManual, 0}, "ALTCTL": {px4MainAltCtl, 0}, "POSCTL": {px4MainPosCtl, 0},
	"POSCTL.ORBIT": {px4MainPosCtl, 1}, "ACRO": {px4MainAcro, 0}, "OFFBOARD": {px4MainOffboard, 0},
	"STABILIZED": {px4MainStabilized, 0}, "TERMINATION": {10, 0},
	"AUTO.READY": {px4MainAuto, 1}, "AUTO.TAKEOFF": {px4MainAuto, 2}, "AUTO.LOITER": {px4MainAuto, 3},
	"AUTO.MISSION": {px4MainAuto, 4}, "AUTO.RTL": {px4MainAuto, 5}, "AUTO.LAND": {px4MainAuto, 6},
	"AUTO.FOLLOW_TARGET": {px4MainAuto, 8}, "AUTO.PRECLAND": {px4MainAuto, 9},
	"AUTO.VTOL_TAKEOFF": {px4MainAuto, 10},
}

// ModeName returns the display name of a HEARTBEAT custom_mode for the
// autopilot family: ArduCopter names ("LOITER"), PX4 main[.sub] names
// ("AUTO.MISSION"), or "MODE(n)" when the number is not in the table.
func ModeName(a Autopilot, customMode uint32) string {
	switch a {
	case ArduPilot:
		for name, n := range arduCopterModes {
			if n == customMode {
				return name
			}
		}
	case PX4:
		m := px4Mode{main: uint8(customMode >> 16), sub: uint8(customMode >> 24)}
		if m.main != px4MainAuto && m.main != px4MainPosCtl {
			m.sub = 0 // only AUTO and POSCTL have sub-modes
		}
		for name, pm := range px4Modes {
			if pm == m {
				return name
			}
		}
	}
	return "MODE(" + strconv.FormatUint(uint64(customMode), 10) + ")"
}

// CustomMode returns the HEARTBEAT custom_mode value of a mode name (case
// insensitive) for the autopilot family.
func CustomMode(a Autopilot, name string) (uint32, error) {
	name = strings.ToUpper(strings.TrimSpace(name))
	switch a {
	case ArduPilot:
		if n, ok := arduCopterModes[name]; ok {
			return n, nil
		}
	case PX4:
		if m, ok := px4Modes[name]; ok {
			return uint32(m.main)<<16 | uint32(m.sub)<<24, nil
		}
	default:
		return 0, fmt.Errorf("mode %q: autopilot kind unknown (no heartbeat from an ArduPilot or PX4 autopilot yet)", name)
	}
	return 0, fmt.Errorf("mode %q: not a %s mode (known: %s)", name, a, strings.Join(ModeNames(a), ", "))
}

// ModeNames returns the mode names known for the autopilot family, sorted by
// their custom_mode value.
func ModeNames(a Autopilot) []string {
	type nv struct {
		n string
		v uint32
	}
	var all []nv
	switch a {
	case ArduPilot:
		for n, v := range arduCopterModes {
			all = append(all, nv{n, v})
		}
	case PX4:
		for n, m := range px4Modes {
			all = append(all, nv{n, uint32(m.main)<<16 | uint32(m.sub)<<24})
		}
	}
	// Insertion sort: the tables are small.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && (all[j].v < all[j-1].v); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.n
	}
	return out
}

// setModeParams returns the MAV_CMD_DO_SET_MODE parameters for a mode:
// param1 is MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, then ArduPilot puts the
// custom mode in param2, PX4 its main mode in param2 and sub mode in param3.
func setModeParams(a Autopilot, name string) (p1, p2, p3 float32, err error) {
	cm, err := CustomMode(a, name)
	if err != nil {
		return 0, 0, 0, err
	}
	if a == PX4 {
		return 1, float32(cm >> 16 & 0xFF), float32(cm >> 24 & 0xFF), nil
	}
	return 1, float32(cm), 0, nil
}
