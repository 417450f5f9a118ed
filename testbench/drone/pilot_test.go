package drone

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// setParam sets a parameter with PARAM_SET and waits for its PARAM_VALUE.
func (r *rig) setParam(name string, value float32) {
	r.t.Helper()
	m := &mavlink.ParamSet{TargetSystem: 1, TargetComponent: 1, ParamValue: value}
	copy(m.ParamID[:], name)
	r.send(m)
	r.wait("PARAM_VALUE "+name, func(g rx) bool {
		var pv mavlink.ParamValue
		if g.id != 22 {
			return false
		}
		g.decode(r.t, &pv)
		return paramName(pv.ParamID[:]) == name && pv.ParamValue == value
	})
}

// A pilot mode with nobody on the sticks: ArduCopter reads the throttle
// stick at its low end (SITL's RC input without a pilot). ALT_HOLD, LOITER
// and POSHOLD take that as a descent at PILOT_SPEED_DN (0: PILOT_SPEED_UP,
// 2.5 m/s) all the way to the ground, STABILIZE as motors at idle; then
// the land detector and DISARM_DELAY (10 s) disarm the vehicle where it
// came down. The real trace: LOITER at 60 m, ground 32 s later at 2.49 m/s,
// disarmed 11.8 s after that, 1.2 km from home.
func TestPilotModeWithoutPilotComesDown(t *testing.T) {
	for _, c := range []struct {
		name     string
		mode     Mode
		params   map[string]float32
		throttle float64
		// Descent rate (m/s) 15 s after the mode change, 0 for a fall.
		rate float64
		// Seconds from the mode change to the ground, and the impact speed.
		downS, downMin, downMax float64
		holdsPos                bool // position control: no horizontal move
		// keepsArmed: the throttle is not at its low end, so ArduCopter's
		// auto-disarm never starts.
		keepsArmed bool
	}{
		{name: "LOITER", mode: ModeLoiter, rate: 2.5, downS: 25, downMin: 2.4, downMax: 2.6, holdsPos: true},
		{name: "ALT_HOLD", mode: ModeAltHold, rate: 2.5, downS: 25, downMin: 2.4, downMax: 2.6},
		{name: "POSHOLD", mode: ModePosHold, rate: 2.5, downS: 25, downMin: 2.4, downMax: 2.6, holdsPos: true},
		{name: "LOITER PILOT_SPEED_DN 150", mode: ModeLoiter, params: map[string]float32{"PILOT_SPEED_DN": 150},
			rate: 1.5, downS: 40.5, downMin: 1.45, downMax: 1.55, holdsPos: true},
		{name: "LOITER stick a fifth up", mode: ModeLoiter, throttle: 0.2, rate: 2.5 * 0.2 / 0.4, downS: 48.5, downMin: 1.2, downMax: 1.3,
			holdsPos: true, keepsArmed: true},
		{name: "STABILIZE motors at idle", mode: ModeStabilize, rate: 0, downS: 4.5, downMin: 25, downMax: 30.1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{GPSNoiseM: -1})
			for name, v := range c.params {
				r.setParam(name, v)
			}
			r.takeOff(60)
			r.advanceUntil("settle at 60 m", 10*time.Second, 100*time.Millisecond, func(st State) bool {
				return math.Abs(st.RelAltM-60) < 0.1 && math.Abs(st.ClimbMPS) < 0.05 && st.GroundSpeedMPS < 0.05
			})
			r.sim.SetPilotThrottle(c.throttle)
			if got := r.setMode(c.mode); got != mavlink.MAV_RESULT_ACCEPTED {
				t.Fatalf("set %v = %v, want ACCEPTED", c.mode, got)
			}
			start := r.sim.State()
			if c.rate > 0 {
				r.advance(15*time.Second, 100*time.Millisecond)
				if st := r.sim.State(); math.Abs(-st.ClimbMPS-c.rate) > 0.02 || st.Mode != c.mode {
					t.Errorf("15 s after %v: climbing %.2f m/s in %v, want %.2f down", c.mode, st.ClimbMPS, st.Mode, c.rate)
				}
			}
			down := r.advanceUntil("ground", 90*time.Second, 100*time.Millisecond, func(st State) bool {
				return st.Landed == mavlink.MAV_LANDED_STATE_ON_GROUND
			})
			if s := down.Time.Sub(start.Time).Seconds(); math.Abs(s-c.downS) > 1 {
				t.Errorf("on the ground %.1f s after the mode change, want %.1f", s, c.downS)
			}
			r.wait("SIM Hit ground", func(g rx) bool {
				var st mavlink.Statustext
				if g.id != 253 {
					return false
				}
				g.decode(t, &st)
				var v float64
				if n, _ := fmt.Sscanf(textOf(st), "SIM Hit ground at %f m/s", &v); n != 1 {
					return false
				}
				if v < c.downMin || v > c.downMax {
					t.Errorf("%q: hit at %.2f m/s, want %.2f..%.2f", textOf(st), v, c.downMin, c.downMax)
				}
				return true
			})
			if !down.Armed || down.Mode != c.mode {
				t.Errorf("at touchdown: armed %v mode %v, want still armed in %v", down.Armed, down.Mode, c.mode)
			}
			if c.keepsArmed {
				r.advance(30*time.Second, 500*time.Millisecond)
				if st := r.sim.State(); !st.Armed {
					t.Error("disarmed on the ground with the throttle stick off its low end")
				}
				return
			}
			off := r.advanceUntil("disarm", 30*time.Second, 100*time.Millisecond, func(st State) bool { return !st.Armed })
			// Land detector 1.5 s, spool down 0.5 s, DISARM_DELAY 10 s.
			if s := off.Time.Sub(down.Time).Seconds(); s < 11.8 || s > 12.2 {
				t.Errorf("disarmed %.1f s after touchdown, want 12 (land detector, spool down, DISARM_DELAY)", s)
			}
			r.text("Disarming motors")
			moved := distM(start.Lat, start.Lon, off.Lat, off.Lon)
			if c.holdsPos && moved > 0.5 {
				t.Errorf("came down %.1f m from where %v began, want straight down", moved, c.mode)
			}
		})
	}
}
