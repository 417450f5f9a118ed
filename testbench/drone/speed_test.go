package drone

import (
	"math"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// reposition sends MAV_CMD_DO_REPOSITION as COMMAND_INT (relative
// altitude) with speed in param1 and returns the result.
func (r *rig) reposition(speed float32, lat, lon float64, relAlt float32) mavlink.MAVResult {
	r.t.Helper()
	r.send(&mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Command: mavlink.MAV_CMD_DO_REPOSITION, Param1: speed, Param2: repositionChangeMode, X: e7(lat), Y: e7(lon), Z: relAlt})
	return r.ackOf(mavlink.MAV_CMD_DO_REPOSITION)
}

// changeSpeedInt sends MAV_CMD_DO_CHANGE_SPEED as COMMAND_INT.
func (r *rig) changeSpeedInt(typ, mps float32) mavlink.MAVResult {
	r.t.Helper()
	r.send(&mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_DO_CHANGE_SPEED, Param1: typ, Param2: mps})
	return r.ackOf(mavlink.MAV_CMD_DO_CHANGE_SPEED)
}

// cruise returns the ground speed after 20 s of a go-to 2 km north.
func (r *rig) cruise() float64 {
	r.t.Helper()
	r.advance(20*time.Second, 200*time.Millisecond)
	return r.sim.State().GroundSpeedMPS
}

// The speed of a GUIDED go-to is ArduCopter's, not the one DO_REPOSITION
// asks for: its param1 is ignored, the first go-to after a take-off (or
// after entering GUIDED) starts at WPNAV_SPEED (10 m/s by default) and
// DO_CHANGE_SPEED changes it from then on, at once, until the next
// take-off or GUIDED entry.
func TestGuidedSpeedIsArduCopters(t *testing.T) {
	for _, c := range []struct {
		name string
		fly  func(r *rig, lat, lon float64)
		want float64 // m/s
	}{
		{"reposition asks 15: ignored", func(r *rig, lat, lon float64) {
			r.mustResult(r.reposition(15, lat, lon, 30))
		}, 10},
		{"reposition asks -1: WPNAV_SPEED", func(r *rig, lat, lon float64) {
			r.mustResult(r.reposition(-1, lat, lon, 30))
		}, 10},
		{"DO_CHANGE_SPEED 15 (COMMAND_LONG) after the go-to", func(r *rig, lat, lon float64) {
			r.mustResult(r.reposition(-1, lat, lon, 30))
			r.advance(5*time.Second, 200*time.Millisecond)
			r.mustCommand(mavlink.MAV_CMD_DO_CHANGE_SPEED, 1, 15)
		}, 15},
		{"DO_CHANGE_SPEED 15 (COMMAND_INT) after the go-to", func(r *rig, lat, lon float64) {
			r.mustResult(r.reposition(-1, lat, lon, 30))
			r.mustResult(r.changeSpeedInt(1, 15))
		}, 15},
		{"DO_CHANGE_SPEED 6 then another go-to keeps 6", func(r *rig, lat, lon float64) {
			r.mustResult(r.reposition(-1, lat, lon, 30))
			r.mustResult(r.changeSpeedInt(0, 6)) // airspeed: taken as ground speed
			r.advance(5*time.Second, 200*time.Millisecond)
			r.mustResult(r.reposition(12, lat, lon, 25))
		}, 6},
		{"DO_CHANGE_SPEED before the first go-to is dropped", func(r *rig, lat, lon float64) {
			r.mustCommand(mavlink.MAV_CMD_DO_CHANGE_SPEED, 1, 15)
			r.mustResult(r.reposition(-1, lat, lon, 30))
		}, 10},
		{"WPNAV_SPEED 1200 before the go-to", func(r *rig, lat, lon float64) {
			r.setParam("WPNAV_SPEED", 1200)
			r.mustResult(r.reposition(-1, lat, lon, 30))
		}, 12},
		{"climb speed change leaves the horizontal", func(r *rig, lat, lon float64) {
			r.mustResult(r.reposition(-1, lat, lon, 30))
			r.mustCommand(mavlink.MAV_CMD_DO_CHANGE_SPEED, 2, 1)
		}, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{GPSNoiseM: -1})
			r.takeOff(30)
			lat, lon := offsetPos(r.sim.State().Home, 2000, 0)
			c.fly(r, lat, lon)
			if got := r.cruise(); math.Abs(got-c.want) > 0.2 {
				t.Errorf("cruising at %.1f m/s, want %.1f", got, c.want)
			}
		})
	}
}

func (r *rig) mustResult(got mavlink.MAVResult) {
	r.t.Helper()
	if got != mavlink.MAV_RESULT_ACCEPTED {
		r.t.Fatalf("result %v, want MAV_RESULT_ACCEPTED", got)
	}
}

// A speed set for one flight is not the next one's: a second take-off
// starts again at WPNAV_SPEED (the bench once matched only when a patrol
// before had set 15 m/s).
func TestSecondFlightStartsAtWPNavSpeed(t *testing.T) {
	r := newRig(t, Options{GPSNoiseM: -1})
	r.takeOff(20)
	home := r.sim.State().Home
	lat, lon := offsetPos(home, 2000, 0)
	r.mustResult(r.reposition(-1, lat, lon, 20))
	r.mustCommand(mavlink.MAV_CMD_DO_CHANGE_SPEED, 1, 15)
	if got := r.cruise(); math.Abs(got-15) > 0.2 {
		t.Fatalf("first flight cruising at %.1f m/s, want 15", got)
	}
	r.mustCommand(mavlink.MAV_CMD_NAV_LAND)
	r.advanceUntil("land and disarm", 2*time.Minute, 200*time.Millisecond, func(st State) bool { return !st.Armed })

	r.takeOff(20)
	lat, lon = offsetPos(home, 4000, 0)
	r.mustResult(r.reposition(-1, lat, lon, 20))
	if got := r.cruise(); math.Abs(got-10) > 0.2 {
		t.Errorf("second flight cruising at %.1f m/s, want WPNAV_SPEED 10", got)
	}
}

// DO_CHANGE_SPEED is ArduCopter's: DENIED for a speed that is not
// positive or an unknown speed type, FAILED in a mode that has no speed
// to change (only AUTO, GUIDED and RTL have).
func TestChangeSpeedRefusals(t *testing.T) {
	r := newRig(t, Options{})
	r.takeOff(10)
	for _, c := range []struct {
		name      string
		mode      Mode
		typ, mps  float32
		want      mavlink.MAVResult
		throttled bool
	}{
		{"zero speed", ModeGuided, 1, 0, mavlink.MAV_RESULT_DENIED, false},
		{"negative speed", ModeGuided, 1, -2, mavlink.MAV_RESULT_DENIED, false},
		{"unknown type", ModeGuided, 7, 5, mavlink.MAV_RESULT_DENIED, false},
		{"LOITER", ModeLoiter, 1, 5, mavlink.MAV_RESULT_FAILED, true},
		{"RTL", ModeRTL, 1, 5, mavlink.MAV_RESULT_ACCEPTED, false},
		{"GUIDED", ModeGuided, 1, 5, mavlink.MAV_RESULT_ACCEPTED, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.throttled {
				r.sim.SetPilotThrottle(0.5)
			}
			if got := r.setMode(c.mode); got != mavlink.MAV_RESULT_ACCEPTED {
				t.Fatalf("set %v = %v", c.mode, got)
			}
			if got := r.command(mavlink.MAV_CMD_DO_CHANGE_SPEED, c.typ, c.mps); got != c.want {
				t.Errorf("DO_CHANGE_SPEED(%v, %v) in %v = %v, want %v", c.typ, c.mps, c.mode, got, c.want)
			}
		})
	}
}

// A take-off climbs at WPNAV_SPEED_UP (2.5 m/s), and a go-to flies
// straight at its target in 3D: from 20 m to 60 m over 1.2 km it climbs
// all along the way at about a thirtieth of its ground speed, as the real
// vehicle did (10 m/s over ground, 0.3 m/s up).
func TestTakeoffClimbAndStraightLineGoTo(t *testing.T) {
	r := newRig(t, Options{GPSNoiseM: -1})
	if got := r.setMode(ModeGuided); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Fatalf("set GUIDED = %v", got)
	}
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.mustCommand(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 60)
	r.advance(6*time.Second, 100*time.Millisecond)
	if st := r.sim.State(); math.Abs(st.ClimbMPS-2.5) > 0.02 {
		t.Errorf("take-off climbing at %.2f m/s, want WPNAV_SPEED_UP 2.5", st.ClimbMPS)
	}
	r.advanceUntil("20 m", 30*time.Second, 100*time.Millisecond, func(st State) bool { return st.RelAltM >= 20 })
	lat, lon := offsetPos(r.sim.State().Home, 850, 850) // 1.2 km north-east
	r.mustResult(r.reposition(-1, lat, lon, 60))
	r.advance(30*time.Second, 200*time.Millisecond)
	st := r.sim.State()
	if math.Abs(st.GroundSpeedMPS-10) > 0.2 || st.ClimbMPS < 0.25 || st.ClimbMPS > 0.45 {
		t.Errorf("30 s into the go-to: %.1f m/s over ground, climbing %.2f m/s; want 10 and about 0.35", st.GroundSpeedMPS, st.ClimbMPS)
	}
	st = r.advanceUntil("arrive", 3*time.Minute, 500*time.Millisecond, func(st State) bool {
		return distM(st.Lat, st.Lon, lat, lon) < 1
	})
	if math.Abs(st.RelAltM-60) > 1 {
		t.Errorf("arrived at %.1f m, want 60: the climb ends with the leg", st.RelAltM)
	}
}

// DO_SET_HOME with param1 1 makes the vehicle's current position and
// altitude home, and HOME_POSITION says so.
func TestSetHomeHere(t *testing.T) {
	r := newRig(t, Options{GPSNoiseM: -1})
	r.takeOff(20)
	lat, lon := offsetPos(r.sim.State().Home, 100, 50)
	r.mustResult(r.reposition(-1, lat, lon, 30))
	r.advanceUntil("arrive", time.Minute, 500*time.Millisecond, func(st State) bool {
		return distM(st.Lat, st.Lon, lat, lon) < 0.5 && math.Abs(st.RelAltM-30) < 0.1
	})
	here := r.sim.State()
	r.cl.skip()
	r.mustCommand(mavlink.MAV_CMD_DO_SET_HOME, 1)
	var hp mavlink.HomePosition
	r.wait("HOME_POSITION", isMsg(242)).decode(t, &hp)
	if math.Abs(float64(hp.Latitude)-here.Lat*1e7) > 2 || math.Abs(float64(hp.Longitude)-here.Lon*1e7) > 2 ||
		math.Abs(float64(hp.Altitude)/1000-here.AltM) > 0.1 {
		t.Errorf("HOME_POSITION %d, %d, %.2f m; want the vehicle's %.7f, %.7f, %.2f m",
			hp.Latitude, hp.Longitude, float64(hp.Altitude)/1000, here.Lat, here.Lon, here.AltM)
	}
	if st := r.sim.State(); math.Abs(st.RelAltM) > 0.1 || st.DistanceToHomeM > 0.5 {
		t.Errorf("after DO_SET_HOME here: %.1f m above and %.1f m from home, want 0", st.RelAltM, st.DistanceToHomeM)
	}
}
