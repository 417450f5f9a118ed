package app

import (
	"context"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
)

// limitParam is one vehicle parameter the engine plans with, and how to
// store its value (scale turns the parameter's unit into m/s or m).
type limitParam struct {
	name  string
	scale float64
	set   func(l *dock.VehicleLimits, v float64)
}

// ArduCopter keeps speeds in cm/s and RTL_ALT in cm; PX4 in m/s and m.
var limitParams = map[vehicle.Autopilot][]limitParam{
	vehicle.ArduPilot: {
		{"WPNAV_SPEED", 0.01, func(l *dock.VehicleLimits, v float64) { l.CruiseMPS = v }},
		{"WPNAV_SPEED_UP", 0.01, func(l *dock.VehicleLimits, v float64) { l.ClimbMPS = v }},
		{"WPNAV_SPEED_DN", 0.01, func(l *dock.VehicleLimits, v float64) { l.DescentMPS = v }},
		{"RTL_ALT", 0.01, func(l *dock.VehicleLimits, v float64) { l.RTLAltM = v }},
		{"RTL_SPEED", 0.01, func(l *dock.VehicleLimits, v float64) { l.RTLMPS = v }},
	},
	vehicle.PX4: {
		{"MPC_XY_CRUISE", 1, func(l *dock.VehicleLimits, v float64) { l.CruiseMPS = v }},
		{"MPC_Z_VEL_MAX_UP", 1, func(l *dock.VehicleLimits, v float64) { l.ClimbMPS = v }},
		{"MPC_Z_VEL_MAX_DN", 1, func(l *dock.VehicleLimits, v float64) { l.DescentMPS = v }},
		{"RTL_RETURN_ALT", 1, func(l *dock.VehicleLimits, v float64) { l.RTLAltM = v }},
	},
}

// readLimits reads the vehicle's speed and altitude parameters after every
// link-up, until ctx ends. A parameter that cannot be read stays unknown
// (the config's figure is used) and is logged; reading is tried again at
// the next link-up.
func (v *vehicleLink) readLimits(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-v.linkUp:
		}
		ap := v.client.State().Autopilot
		var l dock.VehicleLimits
		var missing []string
		for _, p := range limitParams[ap] {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			x, err := v.client.GetParam(rctx, p.name)
			cancel()
			if err != nil {
				missing = append(missing, p.name)
				continue
			}
			if x > 0 {
				p.set(&l, x*p.scale)
			}
		}
		if ctx.Err() != nil {
			return
		}
		v.mu.Lock()
		v.limits = l
		v.mu.Unlock()
		v.log.Info("vehicle limits read", "autopilot", ap.String(), "cruise_mps", l.CruiseMPS, "climb_mps", l.ClimbMPS,
			"descent_mps", l.DescentMPS, "rtl_alt_m", l.RTLAltM, "unread", missing)
		if l.CruiseMPS > 0 && v.cruiseWant > l.CruiseMPS {
			v.log.Warn("flight.cruise_speed_mps is faster than the vehicle's cruise: planning and flying at the vehicle's",
				"config_mps", v.cruiseWant, "vehicle_mps", l.CruiseMPS)
		}
	}
}
