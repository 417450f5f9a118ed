package drone

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/dockagent/dock-agent/testbench/simclock"
)

// TestOnScaledClock runs the simulator as the bench does, on the scaled
// clock at 50x, and flies a take-off through a pty: one simulated minute
// of heartbeats and climb in about a wall-clock second.
func TestOnScaledClock(t *testing.T) {
	clk := simclock.New(time.Now(), epoch, 50)
	sim, err := New(Options{Logger: testLogger(t)}, clk)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pty.Open(pty.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { _ = sim.Run(ctx) })
	wg.Go(func() { _ = sim.Serve(ctx, pair) })
	r := &rig{t: t, sim: sim, pair: pair, ctx: ctx}
	r.cl = r.open()
	defer r.cl.close()
	r.waitLinks(1)

	if got := r.setMode(ModeGuided); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Fatalf("set GUIDED = %v", got)
	}
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.mustCommand(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 30)
	start := clk.Now()
	deadline := time.Now().Add(ioWait)
	for r.sim.State().Landed != mavlink.MAV_LANDED_STATE_IN_AIR {
		if time.Now().After(deadline) {
			t.Fatalf("take-off not done after %v of simulated time: %+v", clk.Since(start), r.sim.State())
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
	// 30 m at 2.5 m/s with acceleration limits: about 13-15 s simulated.
	if took := clk.Since(start); took < 12*time.Second || took > 20*time.Second {
		t.Errorf("take-off to 30 m took %v of simulated time, want 12-20 s", took)
	}
	mark := r.cl.mark()
	before := clk.Now()
	time.Sleep(200 * time.Millisecond) // let 10 s of simulated time pass: heartbeats are what is measured
	elapsed := clk.Since(before)
	n := count(r.cl.since(mark), 0)
	if want := int(elapsed / time.Second); n < want-1 || n > want+1 {
		t.Errorf("%d heartbeats in %v of simulated time, want 1 Hz", n, elapsed)
	}
}
