package fleet

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent() // each world re-executes this binary as its agent
	goleak.VerifyTestMain(m)
}

// TestTinyFleet runs three docks on one broker and three incidents, one
// of them moving: every incident is served by the dock whose quote was
// fastest, and every ETA promise is kept or reported broken by the dock.
func TestTinyFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three bench worlds, their agents and a broker")
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Speed 3, not the command's 10: the agents are this test binary built
	// with -race, and at speed 10 on a loaded 2-core machine the bench's
	// simulated I/O modules answer too late for the agents' Modbus and
	// limit-switch budgets, which are simulated time (docs/fleet.md).
	const speed = 3
	d, err := StartDocks(t.Context(), DockOptions{N: 3, Speed: speed, IOPollReal: 20 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatalf("StartDocks() = %v", err)
	}
	defer d.Close()
	pos := make([]Point, len(d.Worlds))
	for i, w := range d.Worlds {
		pos[i] = Point{Lat: w.Config.Position.Lat, Lon: w.Config.Position.Lon}
		if w.Config.ID != DockID(i) || w.Prefix() != "dock/"+DockID(i)+"/" {
			t.Fatalf("dock %d: id %q prefix %q, want %q", i, w.Config.ID, w.Prefix(), DockID(i))
		}
	}
	stream := Stream(StreamOptions{Count: 3, Seed: 7, Docks: pos, SpacingM: DefaultSpacingM, Every: 20 * time.Second})
	stream[1].MoveTo = &Point{Lat: stream[1].Where.Lat + 0.004, Lon: stream[1].Where.Lon}
	stream[1].MoveAt = 20 * time.Second
	var out strings.Builder
	rep, _, _, err := RunCentre(t.Context(), d, speed, RunOptions{Incidents: stream, Out: &out}, log)
	t.Logf("run:\n%s%s", out.String(), FormatSummary(rep))
	if err != nil {
		t.Fatalf("RunCentre() = %v", err)
	}
	for _, r := range rep.Results {
		if !r.ServedByNamed() {
			t.Errorf("incident %d: served by %q (on station %v), quotes named %q: %s", r.Incident.N, r.Dock, r.OnStation, r.Named, r.Err)
		}
		if !r.PromiseAccounted() {
			t.Errorf("incident %d: on scene after %gs, promised %gs, and no sortie.promise_broken", r.Incident.N, r.ActualS, r.PromisedETAS)
		}
		if r.Quotes < 1 || r.NamedETAS <= 0 {
			t.Errorf("incident %d: %d ready quotes, named ETA %g s: want at least one quote with an ETA", r.Incident.N, r.Quotes, r.NamedETAS)
		}
	}
	if r := rep.Results[1]; !r.Retargeted {
		t.Errorf("incident 2 moved but was not retargeted: %s", r.RetargetErr)
	}
	if len(rep.QuoteRTT) < len(stream) {
		t.Errorf("%d quote round trips measured, want at least %d", len(rep.QuoteRTT), len(stream))
	}
	if v := d.Violations(); len(v) > 0 {
		t.Errorf("safety violations: %v", v)
	}
}

// TestChargerFillsDockedBattery: a docked drone's battery fills while the
// dock's charger charges it, at the configured rate.
func TestChargerFillsDockedBattery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a bench world and its agent")
	}
	const speed, rate = 20, 60 // 60 %/min: +5 % per 5 s tick
	d, err := StartDocks(t.Context(), DockOptions{N: 1, Speed: speed, ChargePctPerMin: rate})
	if err != nil {
		t.Fatalf("StartDocks() = %v", err)
	}
	defer d.Close()
	w := d.Worlds[0]
	w.Drone.SetBatteryPct(50)
	start := w.Clock().Now()
	// Polled under a deadline (tstest.WaitFor's shape): the battery is the
	// simulator's, with no change notification.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for w.Drone.State().BatteryPct < 60 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("battery %.1f %% 30 s after it was set to 50 %% with the charger at %d %%/min", w.Drone.State().BatteryPct, rate)
		}
	}
	// 10 points at 60 %/min take 10 simulated seconds (two ticks); the
	// charger must first be on (the agent's securing, a few seconds).
	if took := w.Clock().Since(start); took < 9*time.Second {
		t.Errorf("50 -> 60 %% took %v simulated at %d %%/min, want >= 10 s", took, rate)
	}
}
