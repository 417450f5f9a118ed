package dock_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
)

const idle = 100 * time.Millisecond

// idleRig is a rig whose loop may rest for idle, woken through changed.
func idleRig(t *testing.T, opts dock.ControllerOptions, hwOpts docktest.HardwareOptions, setup func(r *rig)) (*rig, chan struct{}) {
	t.Helper()
	changed := make(chan struct{}, 1)
	opts.IdleInterval, opts.InputsChanged = idle, changed
	return newRig(t, opts, hwOpts, setup), changed
}

// advance moves the clock by d and waits until the loop, if its timer
// fired, has looked and set its timer again.
func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.clock.Advance(d)
	if err := r.clock.BlockUntilContext(r.t.Context(), 1); err != nil {
		r.t.Fatal(err)
	}
}

// waitState waits (at most 5 s of real time, as a failure guard) for a
// published state that satisfies ok.
func (r *rig) waitState(what string, ok func(dock.State) bool) dock.State {
	r.t.Helper()
	ch, cancel := r.c.Subscribe()
	defer cancel()
	if s := r.c.Snapshot(); ok(s) {
		return s
	}
	guard := time.After(5 * time.Second)
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return s
			}
		case <-guard:
			r.t.Fatalf("%s: no such state published within 5 s", what)
		}
	}
}

// At rest the loop reads no input between wake-ups: a change nobody
// reported is seen only when IdleInterval has passed.
func TestIdleLoopRests(t *testing.T) {
	r, _ := idleRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	r.hw.Set(r.hw.Mains, false)
	for range idle/poll - 1 {
		r.advance(poll)
		if !r.c.Snapshot().Power {
			t.Fatalf("mains loss seen after %v at rest without a change report; the loop should rest %v", r.clock.Since(r.c.Snapshot().UpdatedAt), idle)
		}
	}
	r.advance(poll)
	if r.c.Snapshot().Power {
		t.Fatalf("mains loss not seen %v after it, want within the idle interval", idle)
	}
}

// Once the reports end (the channel closed) the loop reads every poll again.
func TestIdleReportsEnded(t *testing.T) {
	r, changed := idleRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	close(changed)
	// The loop's select picks among ready cases at random: after 20
	// requests it has seen the close but with odds of 2^-20.
	for range 20 {
		r.refresh()
	}
	r.advance(poll)
	r.hw.Set(r.hw.Mains, false)
	r.advance(poll)
	if r.c.Snapshot().Power {
		t.Fatal("mains loss not seen one poll after it with the change reports closed")
	}
}

// A reported change wakes the resting loop at once: the e-stop cuts every
// output with no time passing on the clock.
func TestIdleEStopWakesAtOnce(t *testing.T) {
	r, changed := idleRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, func(r *rig) { r.veh.SetLink(true) })
	if err := r.c.SetCharger(t.Context(), true); err != nil {
		t.Fatalf("SetCharger(on) = %v", err)
	}
	r.advance(poll)
	if !r.hw.Charger.On() {
		t.Fatal("setup: charger off")
	}
	pressed := r.clock.Now()
	r.hw.Set(r.hw.EStop, true)
	changed <- struct{}{}
	r.waitState("e-stop latched", func(s dock.State) bool { return s.EStopLatched })
	if r.hw.AnyOn() {
		t.Error("an output is on after the e-stop latched")
	}
	if took := r.clock.Since(pressed); took != 0 {
		t.Errorf("e-stop handled after %v of clock time, want at once", took)
	}
}

// While a part moves the loop runs every poll: the lid motor is cut within
// one poll of the limit switch closing, as without IdleInterval (resting,
// it would overrun by up to the idle interval).
func TestIdleLoopPollsWhileMoving(t *testing.T) {
	travel := 20*time.Second + 35*time.Millisecond
	r, _ := idleRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{LidTravel: travel}, func(r *rig) { r.veh.SetLink(true) })
	start := r.clock.Now()
	done := r.start(dock.MotionOpenLid)
	for {
		r.advance(poll)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("open lid = %v", err)
			}
			overrun := r.hw.Lid.Up.LastOff().Sub(start.Add(travel))
			t.Logf("lid motor cut %v after the lid reached the switch", overrun)
			if overrun < 0 || overrun > poll {
				t.Errorf("lid motor cut %v after the lid reached its switch, want within one poll (%v)", overrun, poll)
			}
			return
		default:
		}
		if r.clock.Since(start) > travel+time.Second {
			t.Fatal("lid motion still running a second after its travel")
		}
	}
}

// At rest during a sortie the loop wakes for the strobe's edges: it
// flashes on time, not on the idle interval's grid.
func TestIdleStrobeOnTime(t *testing.T) {
	r, _ := idleRig(t, dock.ControllerOptions{StrobePeriod: 730 * time.Millisecond}, docktest.HardwareOptions{}, nil)
	r.c.SetSortie(&dock.SortieRef{ID: "s1", Kind: dock.KindPatrol, Phase: dock.PhaseAirborne})
	r.advance(poll) // the loop sees the sortie at its next look
	for !r.hw.Strobe.On() {
		r.advance(poll)
	}
	first := len(r.hw.Strobe.Changes()) - 1 // the first flash
	origin := r.hw.Strobe.Changes()[first].At
	for r.clock.Since(origin) < 3*time.Second {
		r.advance(5 * time.Millisecond)
	}
	changes := r.hw.Strobe.Changes()[first:]
	if len(changes) < 8 {
		t.Fatalf("strobe changed %d times in 3 s with a 730 ms period, want 8 or more", len(changes))
	}
	for i, ch := range changes {
		want := origin.Add(time.Duration(i) * 365 * time.Millisecond)
		if d := ch.At.Sub(want); d < 0 || d > 5*time.Millisecond {
			t.Errorf("strobe change %d at +%v, want +%v", i, ch.At.Sub(origin), want.Sub(origin))
		}
	}
}

func TestIdleOptionsRefused(t *testing.T) {
	hw := docktest.NewHardware(clockwork.NewFakeClock(), docktest.HardwareOptions{})
	veh := docktest.NewVehicle()
	for _, tt := range []struct {
		opts dock.ControllerOptions
		want string
	}{
		{dock.ControllerOptions{IdleInterval: idle}, "without InputsChanged"},
		{dock.ControllerOptions{IdleInterval: 5 * time.Millisecond, InputsChanged: make(chan struct{})}, "outside poll interval"},
		{dock.ControllerOptions{IdleInterval: 2 * time.Second, InputsChanged: make(chan struct{})}, "outside poll interval"},
		{dock.ControllerOptions{IdleInterval: -time.Second, InputsChanged: make(chan struct{})}, "negative"},
	} {
		_, err := dock.NewController(tt.opts, hw.Dock(), veh.State, &events{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewController(idle %v) = %v, want an error with %q", tt.opts.IdleInterval, err, tt.want)
		}
	}
}
