package dock_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
	"github.com/dockagent/dock-agent/dock/fault"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const poll = 10 * time.Millisecond

// events records what the controller emits.
type events struct {
	mu sync.Mutex
	ev []dock.Event
}

func (e *events) Emit(ev dock.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ev = append(e.ev, ev)
	return nil
}

func (e *events) of(t dock.EventType) []dock.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []dock.Event
	for _, ev := range e.ev {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

type rig struct {
	t     *testing.T
	clock *clockwork.FakeClock
	hw    *docktest.Hardware
	veh   *docktest.Vehicle
	ev    *events
	c     *dock.Controller
	// wrap, when setup sets it, adapts the pins before the controller
	// gets them (a debounce, as the app puts on limit switches).
	wrap func(dock.Hardware) dock.Hardware
}

// newRig starts a controller on simulated hardware; setup may change the
// hardware and the vehicle before Run.
func newRig(t *testing.T, opts dock.ControllerOptions, hwOpts docktest.HardwareOptions, setup func(r *rig)) *rig {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	r := &rig{t: t, clock: clock, hw: docktest.NewHardware(clock, hwOpts), veh: docktest.NewVehicle(), ev: &events{}}
	if setup != nil {
		setup(r)
	}
	opts.Clock = clock
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	hw := r.hw.Dock()
	if r.wrap != nil {
		hw = r.wrap(hw)
	}
	c, err := dock.NewController(opts, hw, r.veh.State, r.ev)
	if err != nil {
		t.Fatalf("NewController() = %v", err)
	}
	r.c = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		if r.hw.AnyOn() {
			t.Errorf("an output is still on after Run returned")
		}
	})
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatalf("waiting for the loop's ticker: %v", err)
	}
	r.refresh()
	return r
}

func (r *rig) refresh() dock.State {
	r.t.Helper()
	s, err := r.c.Refresh(r.t.Context())
	if err != nil {
		r.t.Fatalf("Refresh() = %v", err)
	}
	return s
}

// step advances the clock by d in poll steps, letting the loop see each.
func (r *rig) step(d time.Duration) {
	r.t.Helper()
	for e := time.Duration(0); e < d; e += poll {
		r.clock.Advance(poll)
		r.refresh()
	}
}

// await steps until done delivers, at most max of simulated time.
func (r *rig) await(done <-chan error, max time.Duration) (error, time.Duration) {
	r.t.Helper()
	start := r.clock.Now()
	for r.clock.Since(start) <= max {
		select {
		case err := <-done:
			return err, r.clock.Since(start)
		default:
		}
		r.clock.Advance(poll)
		r.refresh()
	}
	r.t.Fatalf("motion still running after %v", max)
	return nil, 0
}

func (r *rig) start(m dock.Motion) <-chan error {
	r.t.Helper()
	done, err := r.c.StartMotion(r.t.Context(), m, "job-1")
	if err != nil {
		r.t.Fatalf("StartMotion(%v) = %v", m, err)
	}
	return done
}

func (r *rig) checkBothOff() {
	r.t.Helper()
	for _, a := range []*docktest.Actuator{r.hw.Lid, r.hw.Arms} {
		if a.BothOn() != 0 || (a.Up.On() && a.Down.On()) {
			r.t.Fatalf("both relays of %s were on together", a.Up.Name())
		}
	}
}

func TestMotionsArrive(t *testing.T) {
	tests := []struct {
		name   string
		hw     docktest.HardwareOptions
		motion dock.Motion
		out    func(h *docktest.Hardware) *docktest.OutPin
		want   func(s dock.State) bool
		travel time.Duration
	}{
		{"open lid", docktest.HardwareOptions{}, dock.MotionOpenLid,
			func(h *docktest.Hardware) *docktest.OutPin { return h.Lid.Up },
			func(s dock.State) bool { return s.Lid == dock.LidOpen }, 20 * time.Second},
		{"close lid over docked vehicle", docktest.HardwareOptions{LidOpen: true}, dock.MotionCloseLid,
			func(h *docktest.Hardware) *docktest.OutPin { return h.Lid.Down },
			func(s dock.State) bool { return s.Lid == dock.LidClosed }, 20 * time.Second},
		{"release arms", docktest.HardwareOptions{LidOpen: true}, dock.MotionReleaseArms,
			func(h *docktest.Hardware) *docktest.OutPin { return h.Arms.Up },
			func(s dock.State) bool { return s.Arms == dock.ArmsReleased }, 5 * time.Second},
		{"clamp arms", docktest.HardwareOptions{LidOpen: true, ArmsOpen: true}, dock.MotionClampArms,
			func(h *docktest.Hardware) *docktest.OutPin { return h.Arms.Down },
			func(s dock.State) bool { return s.Arms == dock.ArmsClamped }, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, dock.ControllerOptions{}, tt.hw, nil)
			done := r.start(tt.motion)
			r.step(poll)
			if !tt.out(r.hw).On() {
				t.Fatalf("%v: output not energised after one poll", tt.motion)
			}
			if s := r.c.Snapshot(); !s.Strobe && r.hw.Strobe.Changes() == nil {
				t.Errorf("%v: strobe not flashing while moving", tt.motion)
			}
			err, took := r.await(done, 30*time.Second)
			if err != nil {
				t.Fatalf("%v = %v, want nil", tt.motion, err)
			}
			if took < tt.travel-2*poll || took > tt.travel+3*poll {
				t.Errorf("%v took %v, want about %v", tt.motion, took, tt.travel)
			}
			s := r.refresh()
			if !tt.want(s) || tt.out(r.hw).On() || s.Fault != "" {
				t.Errorf("after %v: lid %s arms %s output on %v fault %q", tt.motion, s.Lid, s.Arms, tt.out(r.hw).On(), s.Fault)
			}
			r.step(time.Second)
			if r.hw.Strobe.On() {
				t.Errorf("strobe still on after the motion")
			}
			prog := r.ev.of(dock.EventCommandProgress)
			if len(prog) < 2 || prog[0].Fields["status"] != "in_progress" || prog[len(prog)-1].Fields["status"] != "ok" || prog[0].Fields["id"] != "job-1" {
				t.Errorf("progress events = %v, want in_progress ... ok for job-1", prog)
			}
			r.checkBothOff()
		})
	}
}

func TestMotionAlreadyThere(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{LidOpen: true}, nil)
	if err := r.c.OpenLid(t.Context()); err != nil {
		t.Fatalf("OpenLid() on an open lid = %v, want nil", err)
	}
	if r.hw.Lid.Up.Changes()[len(r.hw.Lid.Up.Changes())-1].Level {
		t.Errorf("open relay energised for a lid already open")
	}
}

func TestMotionFaults(t *testing.T) {
	tests := []struct {
		name      string
		hw        docktest.HardwareOptions
		motion    dock.Motion
		fault     func(h *docktest.Hardware)
		wantErr   error
		wantFault string
		wantCode  fault.Code
		within    time.Duration
	}{
		{"lid stuck times out", docktest.HardwareOptions{}, dock.MotionOpenLid,
			func(h *docktest.Hardware) { h.Lid.Stuck(true); h.Lid.SetPosition(0.5) },
			dock.ErrTimeout, "lid: open timeout after 25s", fault.LidTimeout, 26 * time.Second},
		{"lid too slow times out", docktest.HardwareOptions{}, dock.MotionOpenLid,
			func(h *docktest.Hardware) { h.Lid.Speed(0.5) },
			dock.ErrTimeout, "lid: open timeout after 25s", fault.LidTimeout, 26 * time.Second},
		{"arms stuck time out", docktest.HardwareOptions{}, dock.MotionReleaseArms,
			func(h *docktest.Hardware) { h.Arms.SetPosition(0.5); h.Arms.Stuck(true) },
			dock.ErrTimeout, "arms: release timeout after 8s", fault.ArmsTimeout, 9 * time.Second},
		{"closed limit stuck closed", docktest.HardwareOptions{}, dock.MotionOpenLid,
			func(h *docktest.Hardware) { h.Lid.StickLimit(docktest.EndLow, true) },
			dock.ErrFault, "lid: closed limit still closed 2s after opening started", fault.LidLimitStuck, 3 * time.Second},
		{"open limit never closes", docktest.HardwareOptions{}, dock.MotionOpenLid,
			func(h *docktest.Hardware) { h.Lid.StickLimit(docktest.EndHigh, false) },
			dock.ErrTimeout, "lid: open timeout after 25s", fault.LidTimeout, 26 * time.Second},
		{"clamped limit closes while releasing", docktest.HardwareOptions{}, dock.MotionReleaseArms,
			func(h *docktest.Hardware) { h.Arms.SetPosition(0.5) },
			dock.ErrFault, "arms: clamped limit closed again while releasing", fault.ArmsLimitReclosed, 2 * time.Second},
		{"both lid limits closed", docktest.HardwareOptions{}, dock.MotionOpenLid,
			func(h *docktest.Hardware) { h.Lid.SetPosition(0.5) },
			dock.ErrFault, "lid: open and closed limit switches both closed", fault.LidLimitsConflict, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, dock.ControllerOptions{}, tt.hw, func(r *rig) { tt.fault(r.hw) })
			done := r.start(tt.motion)
			switch tt.name { // faults that appear during the motion
			case "clamped limit closes while releasing":
				r.step(500 * time.Millisecond)
				r.hw.Arms.StickLimit(docktest.EndLow, true)
			case "both lid limits closed":
				r.step(500 * time.Millisecond)
				r.hw.Lid.StickLimit(docktest.EndLow, true)
				r.hw.Lid.StickLimit(docktest.EndHigh, true)
			}
			err, took := r.await(done, tt.within)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%v after %v = %v, want %v", tt.motion, took, err, tt.wantErr)
			}
			s := r.refresh()
			if s.Fault != tt.wantFault {
				t.Errorf("Fault = %q, want %q", s.Fault, tt.wantFault)
			}
			checkFaults(t, s, tt.wantCode)
			if r.hw.Lid.Up.On() || r.hw.Lid.Down.On() || r.hw.Arms.Up.On() || r.hw.Arms.Down.On() {
				t.Errorf("a motor is still energised after the fault")
			}
			if f := r.ev.of(dock.EventFault); len(f) == 0 || f[0].Fields["fault"] != tt.wantFault || f[0].Fields["message"] != tt.wantFault {
				t.Errorf("fault events = %v, want one with %q", f, tt.wantFault)
			} else {
				checkFaultEvent(t, f[0], tt.wantCode, 1)
			}
			// A faulted dock refuses motions in auto mode until reset.
			if _, err := r.c.StartMotion(t.Context(), dock.MotionCloseLid, ""); !errors.Is(err, dock.ErrFault) {
				t.Errorf("StartMotion() in fault = %v, want ErrFault", err)
			}
			for _, a := range []*docktest.Actuator{r.hw.Lid, r.hw.Arms} { // repair
				a.UnstickLimit(docktest.EndLow)
				a.UnstickLimit(docktest.EndHigh)
			}
			if err := r.c.Reset(t.Context()); err != nil {
				t.Fatalf("Reset() = %v", err)
			}
			if s := r.refresh(); s.Fault != "" || len(s.Faults) != 0 {
				t.Errorf("Fault after reset = %q, faults %v, want none", s.Fault, s.Faults)
			}
			if cl := r.ev.of(dock.EventFaultCleared); len(cl) != 1 {
				t.Errorf("fault.cleared events %v after reset, want 1", cl)
			} else {
				checkFaultEvent(t, cl[0], tt.wantCode, 1)
			}
		})
	}
}

func TestInterlocksRefuse(t *testing.T) {
	armedOnGround := func(r *rig) { r.veh.SetArmed(true) }
	tests := []struct {
		name      string
		hw        docktest.HardwareOptions
		setup     func(r *rig)
		do        func(r *rig) error
		invariant int
	}{
		{"close lid over armed vehicle", docktest.HardwareOptions{LidOpen: true}, armedOnGround,
			func(r *rig) error { return r.c.CloseLid(r.t.Context()) }, 1},
		{"close lid with arms released", docktest.HardwareOptions{LidOpen: true, ArmsOpen: true}, nil,
			func(r *rig) error { return r.c.CloseLid(r.t.Context()) }, 1},
		{"close lid with link lost", docktest.HardwareOptions{LidOpen: true}, func(r *rig) { r.veh.SetLink(false) },
			func(r *rig) error { return r.c.CloseLid(r.t.Context()) }, 1},
		{"close lid under vehicle below clearance", docktest.HardwareOptions{LidOpen: true, ArmsOpen: true},
			func(r *rig) { r.veh.SetAirborne(5) },
			func(r *rig) error { return r.c.CloseLid(r.t.Context()) }, 1},
		{"release arms under armed vehicle", docktest.HardwareOptions{LidOpen: true}, armedOnGround,
			func(r *rig) error { return r.c.ReleaseArms(r.t.Context()) }, 3},
		{"clamp arms under armed vehicle", docktest.HardwareOptions{LidOpen: true, ArmsOpen: true}, armedOnGround,
			func(r *rig) error { return r.c.ClampArms(r.t.Context()) }, 3},
		{"charger for a vehicle away", docktest.HardwareOptions{LidOpen: true, ArmsOpen: true},
			func(r *rig) { r.veh.SetAirborne(40) },
			func(r *rig) error { return r.c.SetCharger(r.t.Context(), true) }, 5},
		{"charger for an armed vehicle", docktest.HardwareOptions{}, armedOnGround,
			func(r *rig) error { return r.c.SetCharger(r.t.Context(), true) }, 5},
		{"arm with lid closed", docktest.HardwareOptions{ArmsOpen: true}, nil,
			func(r *rig) error { return r.c.ArmPermitted() }, 2},
		{"arm with arms clamped", docktest.HardwareOptions{LidOpen: true}, nil,
			func(r *rig) error { return r.c.ArmPermitted() }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, dock.ControllerOptions{}, tt.hw, tt.setup)
			err := tt.do(r)
			ie, ok := errors.AsType[*dock.InvariantError](err)
			if !ok || ie.Invariant != tt.invariant {
				t.Fatalf("got %v, want *InvariantError for invariant %d", err, tt.invariant)
			}
			if r.hw.AnyOn() {
				t.Errorf("an output is on after a refusal")
			}
		})
	}
}

func TestArmPermitted(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{LidOpen: true, ArmsOpen: true}, nil)
	if err := r.c.ArmPermitted(); err != nil {
		t.Fatalf("ArmPermitted() with lid open and arms released = %v, want nil", err)
	}
	r.hw.Set(r.hw.EStop, true)
	if err := r.c.ArmPermitted(); err == nil {
		t.Fatalf("ArmPermitted() with e-stop pressed = nil, want refusal")
	}
}

func TestCloseLidOverClearedVehicle(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{ClearanceAltM: 15}, docktest.HardwareOptions{LidOpen: true, ArmsOpen: true},
		func(r *rig) { r.veh.SetAirborne(30) })
	done := r.start(dock.MotionCloseLid)
	r.step(5 * time.Second)
	// The vehicle comes back down below the clearance: the lid stops.
	r.veh.SetAirborne(10)
	err, _ := r.await(done, time.Second)
	if ie, ok := errors.AsType[*dock.InvariantError](err); !ok || ie.Invariant != 1 {
		t.Fatalf("CloseLid() with vehicle descending = %v, want invariant 1", err)
	}
	if s := r.refresh(); s.Lid != dock.LidStopped || r.hw.Lid.Down.On() {
		t.Errorf("lid = %s close relay on %v, want stopped and off", s.Lid, r.hw.Lid.Down.On())
	}
	// Invariant 7 support: reopen at once.
	done = r.start(dock.MotionOpenLid)
	if err, _ := r.await(done, 10*time.Second); err != nil {
		t.Fatalf("OpenLid() = %v", err)
	}
}

func TestReversal(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{ReversePause: 300 * time.Millisecond}, docktest.HardwareOptions{LidOpen: true, ArmsOpen: true},
		func(r *rig) { r.veh.SetAirborne(30) })
	closing := r.start(dock.MotionCloseLid)
	r.step(4 * time.Second)
	opening := r.start(dock.MotionOpenLid)
	if err := <-closing; !errors.Is(err, dock.ErrStopped) {
		t.Fatalf("close interrupted by open = %v, want ErrStopped", err)
	}
	r.step(poll)
	if r.hw.Lid.Down.On() || r.hw.Lid.Up.On() {
		t.Fatalf("a lid relay is on during the reversal pause")
	}
	if err, took := r.await(opening, 10*time.Second); err != nil || took < 4*time.Second {
		t.Fatalf("open after reversal = %v after %v, want nil after about 4.3s", err, took)
	}
	r.checkBothOff()
}

func TestEStop(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, func(r *rig) {
		r.veh.SetLink(true)
	})
	r.c.SetWeather(dock.Weather{At: r.clock.Now()}, new(-5.0))
	if err := r.c.SetCharger(t.Context(), true); err != nil {
		t.Fatalf("SetCharger(on) = %v", err)
	}
	lid := r.start(dock.MotionOpenLid)
	r.step(3 * time.Second)
	if !r.hw.Lid.Up.On() || !r.hw.Charger.On() || !r.hw.Heater.On() {
		t.Fatalf("setup: lid relay %v charger %v heater %v, want all on", r.hw.Lid.Up.On(), r.hw.Charger.On(), r.hw.Heater.On())
	}
	// Press between two polls, the worst case.
	r.clock.Advance(poll / 10)
	pressed := r.clock.Now()
	r.hw.Set(r.hw.EStop, true)
	var last time.Time
	for r.hw.AnyOn() {
		if r.clock.Since(pressed) > time.Second {
			t.Fatalf("outputs still on 1s after the e-stop")
		}
		r.clock.Advance(poll)
		r.refresh()
	}
	for _, o := range r.hw.Outputs() {
		if off := o.LastOff(); off.After(last) {
			last = off
		}
	}
	took := last.Sub(pressed)
	t.Logf("e-stop to last output off: %v (bound 100ms, poll %v)", took, poll)
	if took > 100*time.Millisecond {
		t.Errorf("e-stop to last output off = %v, want <= 100ms", took)
	}
	if err := <-lid; !errors.Is(err, dock.ErrEStopLatched) {
		t.Errorf("lid motion at e-stop = %v, want ErrEStopLatched", err)
	}
	if s := r.refresh(); !s.EStop || !s.EStopLatched {
		t.Errorf("state estop %v latched %v, want both", s.EStop, s.EStopLatched)
	}
	if _, err := r.c.StartMotion(t.Context(), dock.MotionOpenLid, ""); !errors.Is(err, dock.ErrEStopLatched) {
		t.Errorf("StartMotion() while latched = %v, want ErrEStopLatched", err)
	}
	if err := r.c.Reset(t.Context()); !errors.Is(err, dock.ErrEStopLatched) {
		t.Errorf("Reset() with the button pressed = %v, want ErrEStopLatched", err)
	}
	r.hw.Set(r.hw.EStop, false)
	r.step(time.Second)
	if s := r.refresh(); !s.EStopLatched || r.hw.AnyOn() {
		t.Errorf("released without reset: latched %v outputs on %v, want latched and off", s.EStopLatched, r.hw.AnyOn())
	}
	if _, err := r.c.StartMotion(t.Context(), dock.MotionOpenLid, ""); !errors.Is(err, dock.ErrEStopLatched) {
		t.Errorf("StartMotion() released but not reset = %v, want ErrEStopLatched", err)
	}
	if err := r.c.Reset(t.Context()); err != nil {
		t.Fatalf("Reset() after release = %v", err)
	}
	if s := r.refresh(); s.EStopLatched {
		t.Errorf("still latched after reset")
	}
	if err, _ := r.await(r.start(dock.MotionOpenLid), 30*time.Second); err != nil {
		t.Errorf("OpenLid() after reset = %v", err)
	}
	if n := len(r.ev.of(dock.EventEStop)); n != 2 {
		t.Errorf("estop events = %d, want 2 (pressed, released)", n)
	}
}

func TestChargerFollowsVehicle(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *rig)
	}{
		{"vehicle arms", func(r *rig) { r.veh.SetArmed(true) }},
		{"link lost", func(r *rig) { r.veh.SetLink(false) }},
		{"vehicle leaves", func(r *rig) { r.veh.SetAirborne(3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
			if err := r.c.SetCharger(t.Context(), true); err != nil {
				t.Fatalf("SetCharger(on) = %v", err)
			}
			if s := r.refresh(); !s.Charger || !r.hw.Charger.On() {
				t.Fatalf("charger not on for a docked vehicle")
			}
			tt.change(r)
			r.step(poll)
			if r.hw.Charger.On() {
				t.Fatalf("charger still on after %s (invariant 5)", tt.name)
			}
			r.veh.SetAirborne(-1)
			r.veh.SetLink(true)
			r.step(poll)
			if r.hw.Charger.On() {
				t.Errorf("charger came back on by itself")
			}
		})
	}
}

func TestMainsLostDuringMotion(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	done := r.start(dock.MotionOpenLid)
	r.step(2 * time.Second)
	r.hw.Set(r.hw.Mains, false)
	err, _ := r.await(done, time.Second)
	if !errors.Is(err, dock.ErrPowerLost) {
		t.Fatalf("OpenLid() at mains loss = %v, want ErrPowerLost", err)
	}
	s := r.refresh()
	if s.Fault != "power: mains lost while lid opening" || s.Power || r.hw.Lid.Up.On() || s.Lid != dock.LidStopped {
		t.Errorf("fault %q power %v relay %v lid %s", s.Fault, s.Power, r.hw.Lid.Up.On(), s.Lid)
	}
	checkFaults(t, s, fault.MainsLostInMotion)
	if err := r.c.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.StartMotion(t.Context(), dock.MotionOpenLid, ""); !errors.Is(err, dock.ErrPowerLost) || !errors.Is(err, dock.ErrPrecondition) {
		t.Errorf("StartMotion() without mains = %v, want ErrPowerLost of kind ErrPrecondition", err)
	}
}

func TestStartupReconciliation(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, func(r *rig) {
		r.hw.Lid.SetPosition(0.4)
		r.veh.SetAirborne(50)
	})
	s := r.refresh()
	if s.Lid != dock.LidStopped {
		t.Errorf("half-open lid at start = %s, want stopped", s.Lid)
	}
	r.step(5 * time.Second)
	if r.hw.Lid.Position() != 0.4 || r.hw.AnyOn() {
		t.Errorf("something moved at start: lid at %v, outputs on %v", r.hw.Lid.Position(), r.hw.AnyOn())
	}
	st := r.ev.of(dock.EventSelfTest)
	if len(st) != 1 || st[0].Fields["ok"] != true || st[0].Fields["lid"] != "stopped" {
		t.Fatalf("selftest events = %v, want one ok with lid stopped", st)
	}
	rep := r.c.SelfTest()
	if !rep.OK() || !strings.Contains(rep.String(), "lid_open_limit") {
		t.Errorf("SelfTest() = %s", rep)
	}
}

func TestSelfTestFailure(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, func(r *rig) {
		r.hw.Fan.Fail(errors.New("modbus: no reply from unit 2"))
	})
	rep := r.c.SelfTest()
	if rep.OK() || !strings.Contains(rep.String(), "fan") {
		t.Errorf("SelfTest() = %s, want a failure naming fan", rep)
	}
	s := r.refresh()
	if !strings.HasPrefix(s.Fault, "selftest: fan") {
		t.Errorf("Fault = %q, want selftest: fan ...", s.Fault)
	}
	checkFaults(t, s, fault.SelfTestFailed)
	r.hw.Fan.Fail(nil)
}

// TestSelfTestCutsAllAtOnce: with CutAll the self-test switches every
// output off in that one step, writing no relay on its own (the start is
// not held up by a round trip per relay); when CutAll fails, each output
// is written, and the one that does not answer is named.
func TestSelfTestCutsAllAtOnce(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{CutAll: func() error { return nil }}, docktest.HardwareOptions{}, nil)
	if rep := r.c.SelfTest(); !rep.OK() {
		t.Fatalf("SelfTest() = %s", rep)
	}
	for _, p := range []*docktest.OutPin{r.hw.Lid.Up, r.hw.Heater, r.hw.Fan, r.hw.Strobe} {
		if ch := p.Changes(); len(ch) != 0 {
			t.Errorf("%s written %v at start, want no single write after CutAll", p, ch)
		}
	}

	dead := errors.New("modbus: no reply from unit 1")
	r2 := newRig(t, dock.ControllerOptions{CutAll: func() error { return dead }}, docktest.HardwareOptions{}, func(r *rig) {
		r.hw.Fan.Fail(errors.New("modbus: no reply from unit 2"))
	})
	rep := r2.c.SelfTest()
	if rep.OK() || !strings.Contains(rep.String(), "fan") {
		t.Errorf("SelfTest() after a failed CutAll = %s, want a failure naming fan", rep)
	}
	if ch := r2.hw.Heater.Changes(); len(ch) != 1 || ch[0].Level != gpio.Low {
		t.Errorf("heater writes after a failed CutAll = %v, want one Low", ch)
	}
	r2.hw.Fan.Fail(nil)
}

func TestThermostat(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{HeaterOnC: 5, HeaterOffC: 8, FanOnC: 35, FanOffC: 30}, docktest.HardwareOptions{}, nil)
	steps := []struct {
		c           float64
		heater, fan bool
	}{
		{20, false, false}, {4, true, false}, {6, true, false}, {9, false, false},
		{6, false, false}, {36, false, true}, {31, false, true}, {29, false, false},
	}
	for _, st := range steps {
		r.c.SetWeather(dock.Weather{At: r.clock.Now()}, new(st.c))
		r.step(poll)
		if r.hw.Heater.On() != st.heater || r.hw.Fan.On() != st.fan {
			t.Errorf("at %.0f °C: heater %v fan %v, want %v %v", st.c, r.hw.Heater.On(), r.hw.Fan.On(), st.heater, st.fan)
		}
	}
	r.c.SetWeather(dock.Weather{At: r.clock.Now()}, new(0.0))
	r.step(poll)
	r.step(31 * time.Second)
	if r.hw.Heater.On() {
		t.Errorf("heater on with a stale inside temperature")
	}
	if s := r.refresh(); !s.Weather.Stale {
		t.Errorf("weather not stale 31s after the last reading")
	}
}

// TestWeatherStaleness: the driver feeds only good readings; the
// controller alone decides when the last one is stale (issue 19).
func TestWeatherStaleness(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{WeatherStaleAfter: 10 * time.Second}, docktest.HardwareOptions{}, nil)
	if s := r.refresh(); !s.Weather.Stale || s.InsideC != nil {
		t.Errorf("before any reading: stale %v inside %v, want stale, inside unknown", s.Weather.Stale, s.InsideC)
	}
	at := r.clock.Now()
	r.c.SetWeather(dock.Weather{WindMPS: 5.2, At: at}, new(21.5))
	r.step(poll)
	if s := r.refresh(); s.Weather.Stale || s.Weather.WindMPS != 5.2 || s.InsideC == nil || *s.InsideC != 21.5 {
		t.Errorf("fresh reading: %+v inside %v, want fresh, wind 5.2, inside 21.5", s.Weather, s.InsideC)
	}
	r.step(11 * time.Second)
	s := r.refresh()
	if !s.Weather.Stale || s.Weather.WindMPS != 5.2 || !s.Weather.At.Equal(at) || s.InsideC != nil {
		t.Errorf("11s after the last reading: %+v inside %v, want stale, wind 5.2 kept, inside unknown", s.Weather, s.InsideC)
	}
	r.c.SetWeather(dock.Weather{WindMPS: 3, At: r.clock.Now()}, new(20.0))
	r.step(poll)
	if s := r.refresh(); s.Weather.Stale || s.InsideC == nil {
		t.Errorf("after a new reading: stale %v inside %v, want fresh", s.Weather.Stale, s.InsideC)
	}
}

func TestStrobeDuringSortie(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{StrobePeriod: time.Second}, docktest.HardwareOptions{}, nil)
	r.c.SetSortie(&dock.SortieRef{ID: "s1", Kind: dock.KindPatrol, Phase: dock.PhaseAirborne})
	r.step(3 * time.Second)
	ons := 0
	for _, ch := range r.hw.Strobe.Changes() {
		if ch.Level {
			ons++
		}
	}
	if ons < 3 || ons > 4 {
		t.Errorf("strobe flashed %d times in 3s, want 3", ons)
	}
	if err := r.c.SetMode(t.Context(), dock.ModeMaintenance); !errors.Is(err, dock.ErrBusy) {
		t.Errorf("SetMode(maintenance) during a sortie = %v, want ErrBusy", err)
	}
	r.c.SetSortie(nil)
	r.step(poll)
	if r.hw.Strobe.On() {
		t.Errorf("strobe on without sortie or motion")
	}
}

func TestMaintenance(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	if err := r.c.ManualLid(t.Context(), "m1", dock.ActionLidOpen); !errors.Is(err, dock.ErrNotMaintenance) {
		t.Fatalf("ManualLid(open) in auto = %v, want ErrNotMaintenance", err)
	}
	if err := r.c.ManualArms(t.Context(), "m1", dock.ActionArmsStop); !errors.Is(err, dock.ErrNotMaintenance) {
		t.Fatalf("ManualArms(stop) in auto = %v, want ErrNotMaintenance", err)
	}
	if err := r.c.ManualCharger(t.Context(), true); !errors.Is(err, dock.ErrNotMaintenance) || r.hw.Charger.On() {
		t.Fatalf("ManualCharger(on) in auto = %v (relay %v), want ErrNotMaintenance and the relay off", err, r.hw.Charger.On())
	}
	if err := r.c.ManualLid(t.Context(), "m1", "fly"); !errors.Is(err, dock.ErrInvalidArgument) {
		t.Errorf("ManualLid(fly) = %v, want ErrInvalidArgument", err)
	}
	if err := r.c.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatalf("SetMode(maintenance) = %v", err)
	}
	if err := r.c.ManualLid(t.Context(), "m1", dock.ActionLidOpen); err != nil {
		t.Fatalf("ManualLid(open) = %v", err)
	}
	r.step(time.Second)
	if err := r.c.ManualLid(t.Context(), "m2", dock.ActionLidStop); err != nil {
		t.Fatalf("ManualLid(stop) = %v", err)
	}
	r.step(poll)
	if s := r.refresh(); s.Lid != dock.LidStopped || r.hw.Lid.Up.On() {
		t.Errorf("after stop: lid %s relay %v", s.Lid, r.hw.Lid.Up.On())
	}
	prog := r.ev.of(dock.EventCommandProgress)
	if last := prog[len(prog)-1]; last.Fields["id"] != "m1" || last.Fields["status"] != "canceled" {
		t.Errorf("last progress = %v, want m1 canceled", last.Fields)
	}
	if err := r.c.ManualArms(t.Context(), "m3", dock.ActionArmsRelease); err != nil {
		t.Fatalf("ManualArms(release) = %v", err)
	}
	r.veh.SetArmed(true) // arming mid-motion stops the arms (invariant 3)
	r.step(poll)
	if r.hw.Arms.Up.On() {
		t.Errorf("arms still moving under an armed vehicle")
	}
}

func TestSubscribeLatestWins(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	ch, cancel := r.c.Subscribe()
	defer cancel()
	done := r.start(dock.MotionOpenLid)
	if err, _ := r.await(done, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	r.step(time.Second)
	// Hundreds of changes happened; the channel holds only the newest.
	s := <-ch
	if s.Lid != dock.LidOpen {
		t.Errorf("latest state lid = %s, want open", s.Lid)
	}
	select {
	case s := <-ch:
		t.Errorf("a second buffered state %v, want latest only", s.Lid)
	default:
	}
}

func TestInputsUnreadableStopsMotions(t *testing.T) {
	var mu sync.Mutex
	var health error
	opts := dock.ControllerOptions{InputsHealthy: func() error {
		mu.Lock()
		defer mu.Unlock()
		return health
	}}
	r := newRig(t, opts, docktest.HardwareOptions{}, nil)
	done := r.start(dock.MotionOpenLid)
	r.step(2 * time.Second)
	mu.Lock()
	health = errors.New("io module io unit 1 not answering")
	mu.Unlock()
	err, _ := r.await(done, time.Second)
	if !errors.Is(err, dock.ErrFault) {
		t.Fatalf("OpenLid() when the inputs went stale = %v, want ErrFault", err)
	}
	s := r.refresh()
	if s.Fault != "inputs: io module io unit 1 not answering" || r.hw.Lid.Up.On() {
		t.Errorf("fault %q, lid relay on %v; want the inputs fault and the relay off", s.Fault, r.hw.Lid.Up.On())
	}
	checkFaults(t, s, fault.IOModuleSilent)
	// Not even maintenance mode moves a part blind.
	if err := r.c.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.StartMotion(t.Context(), dock.MotionOpenLid, ""); !errors.Is(err, dock.ErrFault) {
		t.Errorf("StartMotion() with unreadable inputs in maintenance = %v, want ErrFault", err)
	}
	mu.Lock()
	health = nil
	mu.Unlock()
	r.step(poll)
	if s := r.refresh(); s.Fault != "" || len(s.Faults) != 0 {
		t.Errorf("fault %q (%v) after the inputs recovered, want it cleared", s.Fault, s.Faults)
	}
	if cl := r.ev.of(dock.EventFaultCleared); len(cl) != 1 {
		t.Errorf("%d fault.cleared events, want 1", len(cl))
	} else {
		checkFaultEvent(t, cl[0], fault.IOModuleSilent, 1)
		if cl[0].Fields["cause"] != "inputs readable again" {
			t.Errorf("fault.cleared cause %v, want inputs readable again", cl[0].Fields["cause"])
		}
	}
	if err := r.c.SetMode(t.Context(), dock.ModeAuto); err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.StartMotion(t.Context(), dock.MotionOpenLid, ""); err != nil {
		t.Errorf("StartMotion() in auto mode after the inputs recovered = %v, want nil", err)
	}
}

func TestEStopCutsAllAtOnce(t *testing.T) {
	var calls int
	var hw dock.Hardware
	opts := dock.ControllerOptions{CutAll: func() error {
		calls++ // called from the loop only
		return hw.Halt()
	}}
	r := newRig(t, opts, docktest.HardwareOptions{}, func(r *rig) {
		r.veh.SetLink(true)
		hw = r.hw.Dock()
	})
	r.refresh()
	if calls != 1 {
		t.Fatalf("CutAll called %d times by the start-up self-test, want 1", calls)
	}
	calls = 0
	lid := r.start(dock.MotionOpenLid)
	r.step(2 * time.Second)
	if !r.hw.Lid.Up.On() {
		t.Fatal("setup: lid relay off")
	}
	r.hw.Set(r.hw.EStop, true)
	r.step(poll)
	if err, _ := r.await(lid, poll); !errors.Is(err, dock.ErrEStopLatched) {
		t.Errorf("OpenLid() at the e-stop = %v, want ErrEStopLatched", err)
	}
	if r.hw.AnyOn() {
		t.Error("an output is on after the e-stop")
	}
	r.step(10 * poll)
	if calls != 1 {
		t.Errorf("CutAll called %d times for one press, want 1", calls)
	}
}

// TestOnMotionReportsEveryEnd: the metrics hook hears of each motion's end
// with its step and status, success and timeout alike.
func TestOnMotionReportsEveryEnd(t *testing.T) {
	var mu sync.Mutex
	var got []string
	opts := dock.ControllerOptions{OnMotion: func(step string, status dock.ProgressStatus) {
		mu.Lock()
		got = append(got, step+":"+string(status))
		mu.Unlock()
	}}
	r := newRig(t, opts, docktest.HardwareOptions{}, nil)
	if err, _ := r.await(r.start(dock.MotionOpenLid), time.Minute); err != nil {
		t.Fatalf("open lid = %v", err)
	}
	r.hw.Arms.SetPosition(0.5)
	r.hw.Arms.Stuck(true)
	if err, _ := r.await(r.start(dock.MotionReleaseArms), time.Minute); !errors.Is(err, dock.ErrTimeout) {
		t.Fatalf("release stuck arms = %v, want a timeout", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"lid.open:ok", "arms.release:timeout"}; !slices.Equal(got, want) {
		t.Errorf("OnMotion calls %v, want %v", got, want)
	}
}
