package metrics

import "github.com/dockagent/dock-agent/dock"

// Blocker is one readiness check that fails: Check is a fixed word
// (estop, estop_latched, fault, mains, mode, vehicle_link, or what the
// server adds, such as controller_loop) and Detail says what it saw.
type Blocker struct {
	Check  string `json:"check"`
	Detail string `json:"detail"`
}

// readinessChecks are the checks Readiness makes, in its order; the
// dock_agent_dock_ready_blocked gauge has one series for each.
func readinessChecks() [6]string {
	return [...]string{"estop", "estop_latched", "fault", "mains", "mode", "vehicle_link"}
}

// Readiness lists what keeps the dock from launching now, from its state
// snapshot (whose Vehicle is the vehicle link's): the e-stop pressed or
// latched, a fault, mains lost, a mode other than auto, or no vehicle
// heartbeat. None means ready: the dock would take a dispatch and fly it
// unless a per-sortie gate (weather, battery, GPS, geofence) refuses it,
// which the preflight.blocked event reports. A dock busy with a sortie is
// ready in this sense: a dispatch queues or diverts it.
func Readiness(s dock.State) []Blocker {
	var b []Blocker
	if s.EStop {
		b = append(b, Blocker{"estop", "e-stop pressed"})
	}
	if s.EStopLatched {
		b = append(b, Blocker{"estop_latched", "e-stop latched: release the button and send reset"})
	}
	if s.Fault != "" {
		b = append(b, Blocker{"fault", s.Fault})
	}
	if !s.Power {
		b = append(b, Blocker{"mains", "mains power lost"})
	}
	switch s.Mode {
	case dock.ModeAuto:
	case "":
		b = append(b, Blocker{"mode", "dock state not read yet"})
	default:
		b = append(b, Blocker{"mode", "mode is " + string(s.Mode) + ", not auto"})
	}
	if !s.Vehicle.Link {
		b = append(b, Blocker{"vehicle_link", "no heartbeat from the vehicle"})
	}
	return b
}
