package campaign

import (
	"context"
	"testing"

	"github.com/dockagent/dock-agent/testbench/world"
)

type worldEvent = world.Event

func mkEvent(seq uint64, typ string) world.Event {
	return world.Event{Seq: seq, Type: typ, Fields: map[string]any{"seq": float64(seq), "type": typ}}
}

// benchWorld starts a bench world with opts and an observer on its broker;
// both are closed when the test ends (after the test body: a test that
// checks for leaked goroutines in its body closes its own).
func benchWorld(ctx context.Context, t *testing.T, opts world.Options) (*world.World, *world.Observer) {
	t.Helper()
	w, err := world.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	obs, err := w.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(obs.Close)
	return w, obs
}
