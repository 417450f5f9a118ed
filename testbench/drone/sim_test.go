package drone

import (
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func TestHeartbeatOnlyUntilAsked(t *testing.T) {
	r := newRig(t, Options{})
	mark := r.cl.mark()
	r.advance(3*time.Second, 100*time.Millisecond)
	r.barrier()
	var hbs []rx
	for _, g := range r.cl.since(mark) {
		switch g.id {
		case 0:
			hbs = append(hbs, g)
		case 22: // the barrier's answer
		default:
			t.Errorf("message %d sent without being asked for", g.id)
		}
	}
	// Heartbeats at 0 s (attach), 1, 2 and 3 s.
	if len(hbs) < 3 || len(hbs) > 4 {
		t.Fatalf("got %d heartbeats in 3 s, want 3 or 4", len(hbs))
	}
	var hb mavlink.Heartbeat
	hbs[0].decode(t, &hb)
	if hb.Type != mavlink.MAV_TYPE_QUADROTOR || hb.Autopilot != mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA {
		t.Errorf("heartbeat type/autopilot = %v/%v, want quadrotor/ardupilotmega", hb.Type, hb.Autopilot)
	}
	if hb.BaseMode&mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED == 0 || hb.BaseMode&mavlink.MAV_MODE_FLAG_SAFETY_ARMED != 0 {
		t.Errorf("heartbeat base mode = %#x, want custom mode enabled and disarmed", hb.BaseMode)
	}
	if Mode(hb.CustomMode) != ModeStabilize || hb.SystemStatus != mavlink.MAV_STATE_STANDBY {
		t.Errorf("heartbeat mode/status = %v/%v, want STABILIZE/STANDBY", Mode(hb.CustomMode), hb.SystemStatus)
	}
	for i, g := range hbs {
		if g.version != 2 || g.sys != 1 || g.comp != 1 {
			t.Errorf("heartbeat %d: v%d from %d/%d, want v2 from 1/1", i, g.version, g.sys, g.comp)
		}
		if i > 0 && g.seq != hbs[i-1].seq+1 {
			t.Errorf("heartbeat %d: seq %d after %d, want consecutive", i, g.seq, hbs[i-1].seq)
		}
	}
}

func count(frames []rx, id uint32) int {
	n := 0
	for _, g := range frames {
		if g.id == id {
			n++
		}
	}
	return n
}

func TestStreamsAtRequestedRates(t *testing.T) {
	r := newRig(t, Options{})
	// GLOBAL_POSITION_INT at 5 Hz by interval; ATTITUDE (EXTRA1) at 10 Hz
	// and EXTENDED_STATUS at 2 Hz by stream groups.
	r.mustCommand(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 33, 200000)
	r.send(&mavlink.RequestDataStream{TargetSystem: 1, TargetComponent: 1, ReqStreamID: uint8(mavlink.MAV_DATA_STREAM_EXTRA1), ReqMessageRate: 10, StartStop: 1})
	r.send(&mavlink.RequestDataStream{TargetSystem: 1, TargetComponent: 1, ReqStreamID: uint8(mavlink.MAV_DATA_STREAM_EXTENDED_STATUS), ReqMessageRate: 2, StartStop: 1})
	r.barrier() // the requests are in before time moves
	mark := r.cl.mark()
	r.advance(10*time.Second, 20*time.Millisecond)
	r.barrier()
	got := r.cl.since(mark)
	for _, c := range []struct {
		name string
		id   uint32
		want int
	}{
		{"GLOBAL_POSITION_INT", 33, 50},
		{"ATTITUDE", 30, 100},
		{"SYS_STATUS", 1, 20},
		{"GPS_RAW_INT", 24, 20},
		{"MISSION_CURRENT", 42, 20},
		{"VFR_HUD (EXTRA2 not asked)", 74, 0},
		{"BATTERY_STATUS (EXTRA3 not asked)", 147, 0},
	} {
		if n := count(got, c.id); n < c.want-1 || n > c.want+1 {
			t.Errorf("%s: %d in 10 s, want %d±1", c.name, n, c.want)
		}
	}

	// -1 stops a message; the group keeps the others.
	r.mustCommand(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 30, -1)
	mark = r.cl.mark()
	r.advance(2*time.Second, 20*time.Millisecond)
	r.barrier()
	got = r.cl.since(mark)
	if n := count(got, 30); n != 0 {
		t.Errorf("ATTITUDE after interval -1: %d in 2 s, want 0", n)
	}
	if n := count(got, 33); n < 9 {
		t.Errorf("GLOBAL_POSITION_INT after stopping ATTITUDE: %d in 2 s, want 10", n)
	}

	// A one-shot comes after its ACK.
	r.mustCommand(mavlink.MAV_CMD_REQUEST_MESSAGE, 242)
	var home mavlink.HomePosition
	r.wait("HOME_POSITION", isMsg(242)).decode(t, &home)
	if home.Latitude != e7(24.3504) || home.Longitude != e7(102.5420) {
		t.Errorf("HOME_POSITION at %d,%d, want the start position", home.Latitude, home.Longitude)
	}
	if got := r.command(mavlink.MAV_CMD_REQUEST_MESSAGE, 9999); got != mavlink.MAV_RESULT_FAILED {
		t.Errorf("REQUEST_MESSAGE of an unknown message = %v, want FAILED", got)
	}
}

func TestArmRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		inject func(*Sim)
		mode   Mode
		text   string
	}{
		{"no GPS fix", func(s *Sim) { s.SetGPSLost(true) }, ModeStabilize, "PreArm: Need 3D Fix"},
		{"battery low", func(s *Sim) { s.SetBatteryPct(20) }, ModeGuided, "PreArm: Battery 1 below minimum arming capacity"},
		{"injected", func(s *Sim) { s.RefuseArming("Compass not calibrated") }, ModeGuided, "PreArm: Compass not calibrated"},
		{"mode", func(*Sim) {}, ModeLand, "Arm: Mode not armable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{})
			c.inject(r.sim)
			if c.mode != ModeStabilize {
				if got := r.setMode(c.mode); got != mavlink.MAV_RESULT_ACCEPTED {
					t.Fatalf("set mode %v = %v, want ACCEPTED", c.mode, got)
				}
			}
			if got := r.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1); got != mavlink.MAV_RESULT_FAILED {
				t.Fatalf("arm = %v, want FAILED", got)
			}
			r.text(c.text)
			if r.sim.State().Armed {
				t.Fatal("armed after a refusal")
			}
		})
	}

	t.Run("no fix refuses GUIDED, force arms", func(t *testing.T) {
		r := newRig(t, Options{})
		r.sim.SetGPSLost(true)
		if got := r.setMode(ModeGuided); got != mavlink.MAV_RESULT_FAILED {
			t.Fatalf("set GUIDED without fix = %v, want FAILED", got)
		}
		r.text("Mode change to GUIDED failed: requires position")
		r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1, forceMagic)
		if !r.sim.State().Armed {
			t.Fatal("forced arm did not arm")
		}
	})
}

// takeOff arms in GUIDED and climbs to alt metres.
func (r *rig) takeOff(alt float32) {
	r.t.Helper()
	if got := r.setMode(ModeGuided); got != mavlink.MAV_RESULT_ACCEPTED {
		r.t.Fatalf("set GUIDED = %v", got)
	}
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.mustCommand(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, alt)
	r.advanceUntil("take-off", 30*time.Second, 100*time.Millisecond, func(st State) bool {
		return st.Landed == mavlink.MAV_LANDED_STATE_IN_AIR
	})
}

func TestArmTakeoffAndGuidedGoTo(t *testing.T) {
	r := newRig(t, Options{})
	r.mustCommand(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 245, 500000) // EXTENDED_SYS_STATE
	if got := r.setMode(ModeGuided); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Fatalf("set GUIDED = %v", got)
	}
	if got := r.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 20); got != mavlink.MAV_RESULT_FAILED {
		t.Errorf("take-off while disarmed = %v, want FAILED", got)
	}
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.advance(time.Second, 100*time.Millisecond)
	r.wait("armed heartbeat", func(g rx) bool {
		var hb mavlink.Heartbeat
		if g.id != 0 {
			return false
		}
		g.decode(t, &hb)
		return hb.BaseMode&mavlink.MAV_MODE_FLAG_SAFETY_ARMED != 0 && Mode(hb.CustomMode) == ModeGuided
	})
	r.mustCommand(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 20)
	r.advance(time.Second, 100*time.Millisecond)
	if st := r.sim.State(); st.Landed != mavlink.MAV_LANDED_STATE_TAKEOFF || st.ClimbMPS < 1 {
		t.Errorf("1 s after take-off: landed %v climbing %.1f m/s, want TAKEOFF and climbing", st.Landed, st.ClimbMPS)
	}
	r.wait("EXTENDED_SYS_STATE TAKEOFF", func(g rx) bool {
		var e mavlink.ExtendedSysState
		if g.id != 245 {
			return false
		}
		g.decode(t, &e)
		return e.LandedState == mavlink.MAV_LANDED_STATE_TAKEOFF
	})
	st := r.advanceUntil("take-off to 20 m", 30*time.Second, 100*time.Millisecond, func(st State) bool {
		return st.Landed == mavlink.MAV_LANDED_STATE_IN_AIR
	})
	if math.Abs(st.RelAltM-20) > 0.6 {
		t.Errorf("take-off ended at %.1f m, want 20", st.RelAltM)
	}

	// Go-to by DO_REPOSITION (COMMAND_INT) 300 m north at 30 m.
	home := st.Home
	lat, lon := offsetPos(home, 300, 0)
	r.send(&mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Command: mavlink.MAV_CMD_DO_REPOSITION, Param1: -1, X: e7(lat), Y: e7(lon), Z: 30})
	if got := r.ackOf(mavlink.MAV_CMD_DO_REPOSITION); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Fatalf("DO_REPOSITION = %v, want ACCEPTED", got)
	}
	r.advance(15*time.Second, 100*time.Millisecond)
	if st := r.sim.State(); st.GroundSpeedMPS < 9 || st.GroundSpeedMPS > 10.5 {
		t.Errorf("cruising at %.1f m/s, want WPNAV_SPEED 10", st.GroundSpeedMPS)
	}
	st = r.advanceUntil("arrive at the reposition target", 60*time.Second, 500*time.Millisecond, func(st State) bool {
		return distM(st.Lat, st.Lon, lat, lon) < 1 && math.Abs(st.RelAltM-30) < 0.5
	})

	// Go-to by SET_POSITION_TARGET_GLOBAL_INT, 100 m east of home.
	lat, lon = offsetPos(home, 0, 100)
	r.send(&mavlink.SetPositionTargetGlobalInt{TargetSystem: 1, TargetComponent: 1, CoordinateFrame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		TypeMask: 0xFF8, LatInt: e7(lat), LonInt: e7(lon), Alt: 25})
	r.barrier() // no reply to SET_POSITION_TARGET: be sure it is in before time moves
	r.advanceUntil("arrive at the position target", 90*time.Second, 500*time.Millisecond, func(st State) bool {
		return distM(st.Lat, st.Lon, lat, lon) < 1 && math.Abs(st.RelAltM-25) < 0.5
	})

	if got := r.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0); got != mavlink.MAV_RESULT_FAILED {
		t.Errorf("disarm in the air = %v, want FAILED", got)
	}
	if !r.sim.State().Armed {
		t.Error("disarmed in the air without force")
	}
}

func TestRTLLandsAndDisarms(t *testing.T) {
	r := newRig(t, Options{})
	r.takeOff(10)
	st := r.sim.State()
	lat, lon := offsetPos(st.Home, 120, 80)
	r.send(&mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Command: mavlink.MAV_CMD_DO_REPOSITION, Param1: -1, X: e7(lat), Y: e7(lon)})
	r.ackOf(mavlink.MAV_CMD_DO_REPOSITION)
	r.advanceUntil("fly out", 60*time.Second, 500*time.Millisecond, func(st State) bool {
		return distM(st.Lat, st.Lon, lat, lon) < 1
	})
	r.mustCommand(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH)
	// RTL climbs to RTL_ALT (15 m) before it turns home.
	st = r.advanceUntil("climb to RTL_ALT", 20*time.Second, 100*time.Millisecond, func(st State) bool { return st.RelAltM > 14.5 })
	if d := distM(st.Lat, st.Lon, lat, lon); d > 2 {
		t.Errorf("left %.1f m before reaching RTL_ALT, want a climb in place", d)
	}
	var landingSeen bool
	st = r.advanceUntil("land at home and disarm", 180*time.Second, 200*time.Millisecond, func(st State) bool {
		landingSeen = landingSeen || st.Landed == mavlink.MAV_LANDED_STATE_LANDING
		return !st.Armed
	})
	if !landingSeen {
		t.Error("never in landed state LANDING")
	}
	if !st.OnGroundAtHome || st.Mode != ModeRTL {
		t.Errorf("after RTL: on ground at home %v (%.1f m away), mode %v; want at home in RTL", st.OnGroundAtHome, st.DistanceToHomeM, st.Mode)
	}
}

func TestAutoDisarmOnGround(t *testing.T) {
	r := newRig(t, Options{})
	r.setMode(ModeGuided)
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.advance(9*time.Second, 500*time.Millisecond)
	if !r.sim.State().Armed {
		t.Fatal("disarmed before DISARM_DELAY (10 s)")
	}
	r.advance(1500*time.Millisecond, 100*time.Millisecond)
	if r.sim.State().Armed {
		t.Fatal("still armed 10.5 s after arming on the ground")
	}
}

func TestParameters(t *testing.T) {
	r := newRig(t, Options{})
	read := func(name string) (float32, uint8) {
		m := &mavlink.ParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamIndex: -1}
		copy(m.ParamID[:], name)
		r.send(m)
		var pv mavlink.ParamValue
		r.wait("PARAM_VALUE "+name, func(g rx) bool {
			if g.id != 22 {
				return false
			}
			g.decode(t, &pv)
			return paramName(pv.ParamID[:]) == name
		})
		return pv.ParamValue, pv.ParamType
	}
	// The speeds and altitudes an agent reads at link-up, with ArduCopter's
	// names, defaults, units (cm, cm/s, s) and types.
	for _, c := range []struct {
		name string
		want float32
		typ  uint8
	}{
		{"WPNAV_SPEED", 1000, paramReal32},
		{"WPNAV_SPEED_UP", 250, paramReal32},
		{"WPNAV_SPEED_DN", 150, paramReal32},
		{"WPNAV_ACCEL", 250, paramReal32},
		{"WPNAV_ACCEL_Z", 100, paramReal32},
		{"PILOT_SPEED_UP", 250, paramInt16},
		{"PILOT_SPEED_DN", 0, paramInt16},
		{"PILOT_ACCEL_Z", 250, paramInt16},
		{"RTL_ALT", 1500, paramInt32},
		{"RTL_SPEED", 0, paramInt16},
		{"LAND_SPEED", 50, paramInt16},
		{"DISARM_DELAY", 10, paramInt8},
	} {
		if v, typ := read(c.name); v != c.want || typ != c.typ {
			t.Errorf("%s = %v (type %d), want %v (type %d)", c.name, v, typ, c.want, c.typ)
		}
	}
	m := &mavlink.ParamSet{TargetSystem: 1, TargetComponent: 1, ParamValue: 3000, ParamType: paramInt32}
	copy(m.ParamID[:], "RTL_ALT")
	r.send(m)
	if v, _ := read("RTL_ALT"); v != 3000 {
		t.Errorf("RTL_ALT after PARAM_SET = %v, want 3000", v)
	}
	r.sim.mu.Lock()
	rtlAlt := r.sim.v.rtlAlt
	r.sim.mu.Unlock()
	if rtlAlt != 30 {
		t.Errorf("working RTL altitude = %v m, want 30", rtlAlt)
	}
}

func TestTimesync(t *testing.T) {
	r := newRig(t, Options{})
	r.advance(1500*time.Millisecond, 100*time.Millisecond)
	r.send(&mavlink.Timesync{Ts1: 42})
	var ts mavlink.Timesync
	r.wait("TIMESYNC", isMsg(111)).decode(t, &ts)
	if ts.Ts1 != 42 || ts.Tc1 != int64(1500*time.Millisecond) {
		t.Errorf("TIMESYNC answer tc1 %d ts1 %d, want 1.5 s since boot in ns and 42", ts.Tc1, ts.Ts1)
	}
}
