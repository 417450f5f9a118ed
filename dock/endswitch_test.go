package dock_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
	"github.com/dockagent/dock-agent/dock/pins"
)

// Travel times and debounce of the bench (testbench/physics, the agent's
// example config): the arms take 4 s, the lid 12 s, limit switches are
// debounced 20 ms.
const (
	sweepArmsTravel = 4 * time.Second
	sweepLidTravel  = 12 * time.Second
	sweepDebounce   = 20 * time.Millisecond
	sweepSpan       = 60 * time.Millisecond
	sweepStep       = 5 * time.Millisecond
	reversePause    = 300 * time.Millisecond
)

// sweepOffsets are the times, relative to the moment a part reaches its end
// switch, at which the sweep sends it back: -60 ms to +60 ms in 5 ms steps.
func sweepOffsets() []time.Duration {
	var out []time.Duration
	for off := -sweepSpan; off <= sweepSpan; off += sweepStep {
		out = append(out, off)
	}
	return out
}

// debounced wraps the four limit switches in pins.Debounce, as the app
// does: the controller sees a switch close sweepDebounce after it did.
func debounced(r *rig) func(dock.Hardware) dock.Hardware {
	return func(hw dock.Hardware) dock.Hardware {
		for _, p := range []*gpio.PinIn{&hw.LidOpenLimit, &hw.LidClosedLimit, &hw.ArmsReleasedLimit, &hw.ArmsClampedLimit} {
			*p = pins.Debounce(*p, r.clock, sweepDebounce)
		}
		return hw
	}
}

// sweepRig is a dock with the lid closed and the arms clamped over a docked
// vehicle, on the bench's travel times and debounce.
func sweepRig(t *testing.T) *rig {
	return newRig(t, dock.ControllerOptions{ReversePause: reversePause},
		docktest.HardwareOptions{LidTravel: sweepLidTravel, ArmsTravel: sweepArmsTravel},
		func(r *rig) { r.wrap = debounced(r) })
}

// advanceTo moves the clock to at: whole polls the loop sees, then the
// remainder without a poll, so a request sent next finds inputs read up to
// one poll before it (as a command arriving between two polls does).
func (r *rig) advanceTo(at time.Time) {
	r.t.Helper()
	for r.clock.Now().Add(poll).Compare(at) <= 0 {
		r.clock.Advance(poll)
		r.refresh()
		r.checkSweepInvariants()
	}
	if d := at.Sub(r.clock.Now()); d > 0 {
		r.clock.Advance(d)
	}
}

// awaitSafe is await with the invariants checked on every poll.
func (r *rig) awaitSafe(done <-chan error, max time.Duration) error {
	r.t.Helper()
	start := r.clock.Now()
	for r.clock.Since(start) <= max {
		select {
		case err := <-done:
			return err
		default:
		}
		r.clock.Advance(poll)
		r.refresh()
		r.checkSweepInvariants()
	}
	r.t.Fatalf("motion still running after %v (lid at %.3f, arms at %.3f)", max, r.hw.Lid.Position(), r.hw.Arms.Position())
	return nil
}

// checkSweepInvariants checks what the sweep may break: never both
// directions of a motor on, and the lid closing only over a docked
// vehicle, which needs the arms clamped (invariant 1).
func (r *rig) checkSweepInvariants() {
	r.t.Helper()
	r.checkBothOff()
	if r.hw.Lid.Down.On() && r.hw.Arms.Position() > 0 {
		r.t.Fatalf("invariant 1: lid closing with the arms at %.3f, not clamped", r.hw.Arms.Position())
	}
}

// checkReversePause checks that no motor was driven one way within
// reversePause of being cut the other way.
func checkReversePause(t *testing.T, a *docktest.Actuator) {
	t.Helper()
	for _, pair := range [][2]*docktest.OutPin{{a.Up, a.Down}, {a.Down, a.Up}} {
		on, other := pair[0], pair[1]
		var cuts []time.Time // when other went from on to off
		prev := gpio.Low
		for _, ch := range other.Changes() {
			if prev == gpio.High && ch.Level == gpio.Low {
				cuts = append(cuts, ch.At)
			}
			prev = ch.Level
		}
		for _, ch := range on.Changes() {
			if ch.Level != gpio.High {
				continue
			}
			for _, cut := range cuts {
				if !cut.After(ch.At) && ch.At.Sub(cut) < reversePause {
					t.Errorf("%s energised %v after %s was cut, want at least %v", on.Name(), ch.At.Sub(cut), other.Name(), reversePause)
				}
			}
		}
	}
}

// checkSecured checks the end of a sweep step: no fault raised or
// reported, both parts at the end the last motion drove them to, every
// motor off.
func (r *rig) checkSecured(lidWant, armsWant float64) {
	r.t.Helper()
	s := r.refresh()
	if f := r.ev.of(dock.EventFault); len(f) > 0 || s.Fault != "" {
		r.t.Errorf("fault %q (events %v), want none", s.Fault, f)
	}
	if pos := r.hw.Lid.Position(); pos != lidWant {
		r.t.Errorf("lid at %.3f (state %s), want %v", pos, s.Lid, lidWant)
	}
	if pos := r.hw.Arms.Position(); pos != armsWant {
		r.t.Errorf("arms at %.3f (state %s), want %v", pos, s.Arms, armsWant)
	}
	if r.hw.Lid.Up.On() || r.hw.Lid.Down.On() || r.hw.Arms.Up.On() || r.hw.Arms.Down.On() {
		r.t.Errorf("a motor is still on after the motions ended")
	}
	checkReversePause(r.t, r.hw.Lid)
	checkReversePause(r.t, r.hw.Arms)
}

// finishedOrReversed checks how a motion sent back at its end ended: it
// arrived (nil) or was stopped by the reversal, nothing else.
func finishedOrReversed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, dock.ErrStopped) {
		t.Errorf("%s sent back at its end = %v, want nil (arrived) or ErrStopped (reversed)", what, err)
	}
}

// An abort that lands while the arms reach their released switch (issue
// 21: on the bench, 2 of 10 aborts swept 3.94-4.06 s after a dispatch left
// the dock open in fault "arms: released limit closed again while
// clamping"). The launch's motions start together, the abort comes at
// every 5 ms from 60 ms before to 60 ms after the released switch closes,
// and securing clamps the arms, then closes the lid, as the sortie engine
// does: each time without a fault, arms clamped and lid closed.
func TestAbortAtArmsEndSecures(t *testing.T) {
	for _, off := range sweepOffsets() {
		t.Run(fmt.Sprintf("%+dms", off.Milliseconds()), func(t *testing.T) {
			r := sweepRig(t)
			lid := r.start(dock.MotionOpenLid)
			released := r.start(dock.MotionReleaseArms)
			r.advanceTo(r.clock.Now().Add(sweepArmsTravel + off))

			clamped := r.start(dock.MotionClampArms)
			finishedOrReversed(t, "release arms", r.awaitSafe(released, time.Second))
			if err := r.awaitSafe(clamped, 10*time.Second); err != nil {
				t.Errorf("clamp arms after an abort %v from the released switch = %v, want nil", off, err)
			}
			closed := r.start(dock.MotionCloseLid)
			finishedOrReversed(t, "open lid", r.awaitSafe(lid, time.Second))
			if err := r.awaitSafe(closed, 20*time.Second); err != nil {
				t.Errorf("close lid after the abort = %v, want nil", err)
			}
			r.checkSecured(0, 0)
		})
	}
}

// A lid sent back while it reaches its open switch closes without a fault:
// the same sweep on the lid's end, the close sent from 60 ms before to
// 60 ms after the open switch closes.
func TestReverseAtLidEndCloses(t *testing.T) {
	for _, off := range sweepOffsets() {
		t.Run(fmt.Sprintf("%+dms", off.Milliseconds()), func(t *testing.T) {
			r := sweepRig(t)
			opened := r.start(dock.MotionOpenLid)
			r.advanceTo(r.clock.Now().Add(sweepLidTravel + off))

			closed := r.start(dock.MotionCloseLid)
			finishedOrReversed(t, "open lid", r.awaitSafe(opened, time.Second))
			if err := r.awaitSafe(closed, 20*time.Second); err != nil {
				t.Errorf("close lid sent %v from the open switch = %v, want nil", off, err)
			}
			r.checkSecured(0, 0)
		})
	}
}
