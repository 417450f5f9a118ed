package campaign

import (
	"context"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

// TestDockedStreams: the real agent process on the bench asks the drone for
// the docked rates once it has rested on the pad, and for the flight rates
// again when a sortie starts, before the take-off. The simulated drone
// keeps the intervals the agent asked for, as ArduPilot does per link.
func TestDockedStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	w, obs := benchWorld(ctx, t, world.Options{Speed: 10, BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: t.TempDir()})
	const (
		globalPosition = 33
		attitude       = 30
	)
	// Flight rates from the start: the agent cannot know the drone rests.
	if err := obs.Wait(ctx, func() bool { return w.Drone.Interval(attitude) > 0 }); err != nil {
		t.Fatalf("attitude never streamed at start: %v", err)
	}
	// Docked: after 30 s (simulated) of rest plus one 5 s check.
	rested := w.Clock().Now()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second) // 300 s simulated
	defer wcancel()
	if err := obs.Wait(wctx, func() bool { return w.Drone.Interval(attitude) == 0 }); err != nil {
		t.Fatalf("attitude still streamed at %s after %s of rest: %v", w.Drone.Interval(attitude), w.Clock().Since(rested), err)
	}
	if d := w.Clock().Since(rested); d < 25*time.Second {
		t.Errorf("docked rates after %s of rest, want them after 30 s", d)
	}
	if got := w.Drone.Interval(globalPosition); got != time.Second {
		t.Errorf("GLOBAL_POSITION_INT docked at %s, want 1 s", got)
	}
	if !obs.ReadyToFly() {
		t.Fatalf("dock not ready to fly on the docked rates: %v", world.Lookup(obs.State(), "readiness"))
	}
	// A sortie asks for the flight rates while the lid opens.
	rep, err := obs.Send(ctx, "dispatch", map[string]any{"lat": 24.3515, "lon": 102.5430, "loiter_s": 0})
	if err != nil || !rep.OK {
		t.Fatalf("dispatch: %+v %v", rep, err)
	}
	if err := obs.Wait(ctx, func() bool { return w.DroneState().Armed }); err != nil {
		t.Fatal(err)
	}
	if got := w.Drone.Interval(attitude); got == 0 || got > 250*time.Millisecond {
		t.Errorf("attitude at %s when the drone armed, want the flight rate (200 ms)", got)
	}
	if got := w.Drone.Interval(globalPosition); got != 200*time.Millisecond {
		t.Errorf("GLOBAL_POSITION_INT at %s when the drone armed, want 200 ms", got)
	}
	if v := w.Witness().Violations(); len(v) > 0 {
		t.Errorf("invariants violated: %v", v)
	}
}
