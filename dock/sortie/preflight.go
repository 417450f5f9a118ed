package sortie

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// gates checks every preflight gate of DESIGN.md §4 for flying r now and
// returns each that blocks, with its reading and limit. busy is checked by
// the caller. The estimate is returned when the battery model could make
// one.
func (e *Engine) gates(now time.Time, r route.Route) ([]dock.Gate, route.Estimate) {
	st := e.hw.Snapshot()
	v := e.veh.State()
	lim := e.opts.Limits
	var g []dock.Gate
	add := func(name, unit string, value, limit float64, note string) {
		g = append(g, dock.Gate{Name: name, Unit: unit, Value: value, Limit: limit, Note: note})
	}
	if st.EStop || st.EStopLatched {
		add("estop", "", 0, 0, "e-stop pressed or latched: release it and send reset")
	}
	if !st.Power {
		add("mains", "", 0, 0, "mains power missing")
	}
	if st.Fault != "" {
		add("dock_fault", "", 0, 0, st.Fault)
	}
	if st.Mode == dock.ModeMaintenance {
		add("maintenance", "", 0, 0, "dock in maintenance mode")
	}
	w := st.Weather
	if w.Stale || w.At.IsZero() {
		add("weather", "", 0, 0, "no fresh weather reading")
	}
	if lim.WindMPS > 0 && w.WindMPS > lim.WindMPS {
		add("wind", "mps", w.WindMPS, lim.WindMPS, "")
	}
	if lim.GustMPS > 0 && w.GustMPS > lim.GustMPS {
		add("gust", "mps", w.GustMPS, lim.GustMPS, "")
	}
	if lim.BlockOnRain && w.Rain {
		add("rain", "", 0, 0, "raining")
	}
	if lim.TempMinC != 0 || lim.TempMaxC != 0 {
		switch {
		case w.TempC < lim.TempMinC:
			add("temperature", "c", w.TempC, lim.TempMinC, "")
		case lim.TempMaxC > lim.TempMinC && w.TempC > lim.TempMaxC:
			add("temperature", "c", w.TempC, lim.TempMaxC, "")
		}
	}
	age := now.Sub(v.LastHeartbeat)
	switch {
	case !v.Link:
		add("heartbeat", "", 0, 0, "no vehicle heartbeat")
	case !v.LastHeartbeat.IsZero() && age > lim.HeartbeatMaxAge:
		add("heartbeat", "s", age.Seconds(), lim.HeartbeatMaxAge.Seconds(), "")
	}
	switch {
	case v.GPSFix < 3:
		add("gps", "", 0, 0, fmt.Sprintf("no 3D fix (fix type %d)", v.GPSFix))
	case lim.MinSats > 0 && v.Sats < lim.MinSats:
		add("gps", "sats", float64(v.Sats), float64(lim.MinSats), "")
	case lim.MaxHDOP > 0 && v.HDOP > lim.MaxHDOP:
		add("gps", "hdop", v.HDOP, lim.MaxHDOP, "")
	}
	if e.offPad(v) {
		d := route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, e.home)
		add("home", "m", math.Round(d*10)/10, e.opts.Dock.PadRadiusM,
			fmt.Sprintf("vehicle at %.6f,%.6f, dock surveyed at %.6f,%.6f: home is taken from the vehicle only on the pad",
				v.Lat, v.Lon, e.home.Lat, e.home.Lon))
	}
	switch {
	case !v.EKFHealthy:
		add("ekf", "", 0, 0, "the vehicle's position estimate is not healthy (EKF)")
	case v.Link && v.Autopilot == "ardupilot" && !v.HomeSet:
		// ArduPilot sets home once its EKF has a position: until then it
		// refuses to arm ("Need Position Estimate").
		add("ekf", "", 0, 0, "no position estimate yet (the vehicle has set no home)")
	}
	if !v.PrearmHealthy {
		add("prearm", "", 0, 0, "vehicle pre-arm checks failing")
	}
	if v.Armed || (v.Landed != dock.LandedOnGround && v.Landed != dock.LandedUndefined) {
		add("vehicle", "", 0, 0, "vehicle armed or not on the ground")
	}
	est, err := route.Check(r, e.home, e.fence, e.model(), windOf(st), v.BatteryPct, lim.BatteryReservePct)
	if err != nil {
		var be *route.BatteryError
		var ge *route.GeofenceError
		var we *route.WindError
		if errors.As(err, &be) {
			add("battery", "pct", be.AvailablePct, be.NeededPct+be.ReservePct, "")
		}
		if errors.As(err, &ge) {
			add("geofence", "", 0, 0, ge.Error())
		}
		if errors.As(err, &we) {
			add("wind", "", 0, 0, we.Error())
		}
		if be == nil && ge == nil && we == nil {
			add("route", "", 0, 0, err.Error())
		}
	}
	return g, est
}

// blocked reports gates: a preflight.blocked event and the error a command
// replies with.
func (e *Engine) blocked(now time.Time, s *sortie, g []dock.Gate) error {
	err := &dock.GateError{Gates: g}
	f := map[string]any{"gates": g, "kind": string(s.rec.Kind), "message": err.Error()}
	if s.rec.ID != "" {
		f["sortie_id"] = s.rec.ID
	}
	if s.rec.RequestID != "" {
		f["request_id"] = s.rec.RequestID
	}
	if s.rec.Route != "" {
		f["route"] = s.rec.Route
	}
	if s.rec.Schedule != "" {
		f["schedule"] = s.rec.Schedule
	}
	e.log.Warn("preflight blocked", "kind", string(s.rec.Kind), "err", err)
	e.emit(dock.EventPreflightBlocked, now, f)
	return err
}

// onlyBattery reports whether every gate is the battery: a turnaround that
// waits for charge.
func onlyBattery(g []dock.Gate) bool {
	for _, x := range g {
		if x.Name != "battery" {
			return false
		}
	}
	return len(g) > 0
}
