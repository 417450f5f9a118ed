package telemetry

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/jonboulle/clockwork"
)

func testOptions(t *testing.T, clock clockwork.Clock) Options {
	o, err := Options{Prefix: "dock/d1", BrokerURLs: []string{"tcp://127.0.0.1:1"}, ClientID: "c", StateDir: t.TempDir(),
		Clock: clock, Logger: testLogger(t)}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestTelemetryRate counts telemetry over a fake-clock window at several
// rates, and checks that nothing is published (or queued) while the broker
// is away.
func TestTelemetryRate(t *testing.T) {
	tests := []struct {
		rate float64
		want int // in 10 s
	}{{2, 20}, {10, 100}, {1, 10}}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(testStart)
			o := testOptions(t, clock)
			o.TelemetryRate = tt.rate
			fb := newFakeBroker(true)
			p := newPublisher(o, fb)
			v := dock.VehicleState{Lat: 53.5, Lon: 9.9, AltM: 40, Mode: "AUTO", Armed: true, BatteryPct: 80, GPSFix: 3, Sats: 14}
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			wg.Go(func() { p.runTelemetry(ctx, func() dock.VehicleState { return v }) })
			defer func() { cancel(); wg.Wait() }()
			step := time.Duration(float64(time.Second) / tt.rate)
			for range tt.want {
				if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
					t.Fatal(err)
				}
				clock.Advance(step)
				<-fb.published
			}
			msgs := fb.messages("dock/d1/telemetry")
			if len(msgs) != tt.want {
				t.Fatalf("telemetry messages in 10 s at %g Hz = %d, want %d", tt.rate, len(msgs), tt.want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(msgs[0].payload), &m); err != nil {
				t.Fatal(err)
			}
			if m["ts"] != timestamp(testStart.Add(step)) || m["lat"] != 53.5 || m["mode"] != "AUTO" || msgs[0].qos != 0 || msgs[0].retained {
				t.Errorf("first telemetry = %s qos %d retained %v", msgs[0].payload, msgs[0].qos, msgs[0].retained)
			}
			for _, k := range []string{"lat", "lon", "alt_m", "rel_alt_m", "heading_deg", "ground_speed_mps", "climb_mps", "roll_deg", "pitch_deg", "mode", "armed", "battery", "gps", "link", "ts"} {
				if _, ok := m[k]; !ok {
					t.Errorf("telemetry lacks %q: %s", k, msgs[0].payload)
				}
			}

			fb.setConnected(false)
			clock.Advance(step)
			waitFor(t, "a skipped tick", 5*time.Second, func() bool { return p.telemetrySkipped.Load() == 1 })
			if got := len(fb.messages("dock/d1/telemetry")); got != tt.want {
				t.Errorf("telemetry while disconnected: %d messages, want still %d", got, tt.want)
			}
		})
	}
}

// TestStatePublishing: state is published at start, on change at most every
// 500 ms (coalesced to the newest), every interval, and again on reconnect.
func TestStatePublishing(t *testing.T) {
	clock := clockwork.NewFakeClockAt(testStart)
	o := testOptions(t, clock)
	fb := newFakeBroker(true)
	p := newPublisher(o, fb)
	src := &fakeState{state: dock.State{Lid: dock.LidClosed, Mode: dock.ModeAuto}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { p.runState(ctx, src) })
	defer func() { cancel(); wg.Wait() }()

	lids := func() []string {
		var out []string
		for _, m := range fb.messages("dock/d1/state") {
			var s dock.State
			if err := json.Unmarshal([]byte(m.payload), &s); err != nil {
				t.Fatal(err)
			}
			if !m.retained || m.qos != 1 {
				t.Errorf("state published qos %d retained %v, want 1 true", m.qos, m.retained)
			}
			out = append(out, string(s.Lid))
		}
		return out
	}
	<-fb.published // at start
	// Two changes within 500 ms: one publish after the gap, with the newest.
	src.set(dock.State{Lid: dock.LidOpening})
	if err := clock.BlockUntilContext(t.Context(), 2); err != nil { // ticker + gap timer
		t.Fatal(err)
	}
	src.set(dock.State{Lid: dock.LidOpen})
	clock.Advance(MinStateGap)
	<-fb.published
	if got := lids(); len(got) != 2 || got[1] != "open" {
		t.Fatalf("state lids = %v, want [closed open]", got)
	}
	// A change after the gap went by: published at once.
	clock.Advance(time.Second)
	src.set(dock.State{Lid: dock.LidClosing})
	<-fb.published
	// Periodic republish at 10 s.
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(o.StateInterval - MinStateGap - time.Second)
	<-fb.published
	// Reconnect publishes at once.
	fb.setConnected(false)
	fb.setConnected(true)
	if err := clock.BlockUntilContext(t.Context(), 2); err != nil { // ticker + gap timer: the last publish was just now
		t.Fatal(err)
	}
	clock.Advance(MinStateGap)
	<-fb.published
	if got := lids(); len(got) != 5 {
		t.Fatalf("state lids = %v, want 5 publishes", got)
	}
}
