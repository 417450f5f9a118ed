package dock_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
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
