package dock_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// A lid driven open for a moment and sent back is closed for real: its
// closed switch, read before it opened (a stale input), does not end the
// close at once while the lid stands ajar. (Found by the fault campaign:
// a launch aborted within milliseconds left the lid ajar, reported
// secured.)
func TestCloseRightAfterOpeningIsDriven(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, func(r *rig) { r.veh.SetLink(true) })
	r.hw.Lid.StickLimit(docktest.EndLow, gpio.High) // the closed switch as last read
	opened := r.start(dock.MotionOpenLid)
	r.step(3 * poll)
	if pos := r.hw.Lid.Position(); pos <= 0 {
		t.Fatalf("setup: lid at %v after the open started, want ajar", pos)
	}
	closed := r.start(dock.MotionCloseLid)
	if err := <-opened; !errors.Is(err, dock.ErrStopped) {
		t.Errorf("open lid after close started = %v, want ErrStopped", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("close lid ended at once (%v) with the lid at %v", err, r.hw.Lid.Position())
	default:
	}
	r.hw.Lid.UnstickLimit(docktest.EndLow) // the next poll reads the switch open
	if err, _ := r.await(closed, 5*time.Second); err != nil {
		t.Fatalf("close lid = %v", err)
	}
	if pos := r.hw.Lid.Position(); pos > 0 {
		t.Errorf("lid at %v after the close ended, want closed (0)", pos)
	}
}

// cutProbe is an output that, when switched off, records whether the
// motion's waiter had been told already.
type cutProbe struct {
	gpio.PinOut
	mu        sync.Mutex
	done      <-chan error
	toldEarly bool
}

func (p *cutProbe) Out(l gpio.Level) error {
	p.mu.Lock()
	if l == gpio.Low && p.done != nil && len(p.done) > 0 {
		p.toldEarly = true
	}
	p.mu.Unlock()
	return p.PinOut.Out(l)
}

// A motion's waiter is told it ended only once its motor is cut: the
// launch arms the vehicle as soon as "arms released" arrives, and must not
// find the arms motor still on (invariant 3; seen once in 45 runs under
// load by the sortie tests' invariant witness).
func TestMotionEndToldAfterCut(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	sim := docktest.NewHardware(clock, docktest.HardwareOptions{})
	veh := docktest.NewVehicle()
	veh.SetLink(true)
	probe := &cutProbe{PinOut: sim.Arms.Up}
	hw := sim.Dock()
	hw.ArmsReleaseMotor = probe
	c, err := dock.NewController(dock.ControllerOptions{Clock: clock}, hw, veh.State, &events{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- c.Run(ctx) }()
	defer func() { cancel(); <-stopped }()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	d, err := c.StartMotion(t.Context(), dock.MotionReleaseArms, "")
	if err != nil {
		t.Fatalf("StartMotion(release arms) = %v", err)
	}
	probe.mu.Lock()
	probe.done = d
	probe.mu.Unlock()
	for start := clock.Now(); clock.Since(start) < time.Minute; {
		clock.Advance(poll)
		if _, err := c.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		probe.mu.Lock()
		early := probe.toldEarly
		probe.mu.Unlock()
		if early {
			t.Fatal("the waiter was told the arms were released before their motor was cut")
		}
		if !sim.Arms.Up.On() && sim.Arms.Position() >= 1 {
			if err := <-d; err != nil {
				t.Fatalf("release arms = %v", err)
			}
			return
		}
	}
	t.Fatal("arms not released within a minute")
}
