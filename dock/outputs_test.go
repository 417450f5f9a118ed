package dock_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
	"github.com/dockagent/dock-agent/dock/fault"
)

// flashes counts the strobe's switch-ons.
func flashes(r *rig) int {
	n := 0
	for _, ch := range r.hw.Strobe.Changes() {
		if ch.Level {
			n++
		}
	}
	return n
}

// TestStrobeWriteRetried: a strobe write that fails for a moment (one
// Modbus reply late) is retried without a fault, also when it happens again
// and again with good writes in between; only writes failing for 5 s on end
// latch output.write_failed, once.
func TestStrobeWriteRetried(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{StrobePeriod: time.Second}, docktest.HardwareOptions{}, nil)
	r.c.SetSortie(&dock.SortieRef{ID: "s1", Kind: dock.KindDispatch, Phase: dock.PhaseAirborne})
	noFault := func(when string) {
		t.Helper()
		if s := r.refresh(); len(s.Faults) != 0 || s.Fault != "" {
			t.Fatalf("%s: faults %v, want none", when, s.Faults)
		}
		if ev := r.ev.of(dock.EventFault); len(ev) != 0 {
			t.Fatalf("%s: fault events %v, want none", when, ev)
		}
	}
	late := errors.New("modbus: 0x05 write single coil to unit 1: modbus: no reply within timeout")

	// One flash lost: 300 ms of failing writes at the start of the on half.
	r.hw.Strobe.Fail(late)
	r.step(300 * time.Millisecond)
	if r.hw.Strobe.On() {
		t.Fatal("strobe on while its writes fail")
	}
	r.hw.Strobe.Fail(nil)
	r.step(poll)
	if !r.hw.Strobe.On() {
		t.Fatal("strobe not switched on by the retry after the write healed")
	}
	noFault("after one failed flash")

	// A flaky bus: 400 ms of every second fail, for 12 s, longer than the
	// grace, with good writes in between.
	for range 12 {
		r.hw.Strobe.Fail(late)
		r.step(400 * time.Millisecond)
		r.hw.Strobe.Fail(nil)
		r.step(600 * time.Millisecond)
	}
	noFault("after 12 s of a flaky strobe")
	before := flashes(r)
	r.step(3 * time.Second)
	if n := flashes(r) - before; n < 3 || n > 4 {
		t.Errorf("strobe flashed %d times in 3 s after the flaky bus, want 3", n)
	}

	// A dead strobe: no fault within the grace, then one.
	r.hw.Strobe.Fail(late)
	r.step(4900 * time.Millisecond)
	noFault("4.9 s into a dead strobe")
	r.step(time.Second)
	s := r.refresh()
	checkFaults(t, s, fault.OutputWriteFailed)
	if !strings.HasPrefix(s.Fault, "strobe: cannot switch") {
		t.Errorf("fault %q, want it to name the strobe", s.Fault)
	}
	r.step(2 * time.Second)
	if ev := r.ev.of(dock.EventFault); len(ev) != 1 {
		t.Errorf("fault events %v, want one output.write_failed", ev)
	}
	r.hw.Strobe.Fail(nil)
}

// TestMotorWriteFaultsAtOnce: the grace is the auxiliary outputs' only. A
// lid motor that cannot be switched on once ends the motion and latches
// output.write_failed at once; so does a charger.
func TestMotorWriteFaultsAtOnce(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	if err := r.c.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatal(err)
	}
	r.hw.Lid.Up.Fail(errors.New("modbus: no reply from unit 1"))
	done := r.start(dock.MotionOpenLid)
	err, took := r.await(done, time.Second)
	if err == nil || took > 2*poll {
		t.Errorf("open lid with a failing motor relay = %v after %v, want a failure within a poll", err, took)
	}
	s := r.refresh()
	checkFaults(t, s, fault.OutputWriteFailed)
	if !strings.HasPrefix(s.Fault, "lid_open_motor: cannot switch on") {
		t.Errorf("fault %q, want it to name lid_open_motor", s.Fault)
	}
	r.hw.Lid.Up.Fail(nil)
	r.checkBothOff()
}
