package telemetry

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
			wg.Go(func() { p.runTelemetry(ctx, func() dock.VehicleState { return v }, nil) })
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

// TestStateLean: timestamps and readings inside their deadband are no
// change; a reading beyond it is; the circles' GeoJSON goes on its own
// retained topic only when it changed and never inside `state`.
func TestStateLean(t *testing.T) {
	clock := clockwork.NewFakeClockAt(testStart)
	o := testOptions(t, clock)
	fb := newFakeBroker(true)
	p := newPublisher(o, fb)
	fc := map[string]any{"type": "FeatureCollection", "features": []any{}}
	base := dock.State{Lid: dock.LidClosed, Mode: dock.ModeAuto, UpdatedAt: testStart,
		Weather:   dock.Weather{WindMPS: 3.1, DirDeg: 271, TempC: 10.1, At: testStart},
		Vehicle:   dock.VehicleSummary{BatteryPct: 80.2},
		Readiness: dock.Readiness{Gates: []dock.Gate{{Name: "heartbeat", Unit: "s", Value: 4}}},
		Circles:   dock.Circles{RadiiM: [3]float64{600, 2000, 3500}, GeoJSON: fc}}
	src := &fakeState{state: base}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { p.runState(ctx, src) })
	defer func() { cancel(); wg.Wait() }()
	<-fb.published // state at start
	<-fb.published // and the circles
	if got := fb.messages("dock/d1/circles"); len(got) != 1 || !got[0].retained || got[0].qos != 1 {
		t.Fatalf("circles messages %+v, want one retained QoS 1", got)
	}
	if s := fb.messages("dock/d1/state")[0].payload; strings.Contains(s, "FeatureCollection") {
		t.Errorf("state carries the circles' GeoJSON: %s", s)
	}

	noise := []func(s *dock.State){
		func(s *dock.State) { s.UpdatedAt = s.UpdatedAt.Add(time.Second) },
		func(s *dock.State) { s.Weather.At = s.Weather.At.Add(time.Second); s.Weather.WindMPS = 3.2 },
		func(s *dock.State) { s.Weather.DirDeg = 268; s.Weather.TempC = 10.2 },
		func(s *dock.State) { s.Vehicle.BatteryPct = 80.4 },
		func(s *dock.State) { s.Readiness.Gates = []dock.Gate{{Name: "heartbeat", Unit: "s", Value: 5}} },
	}
	cur := base
	for i, f := range noise {
		clock.Advance(time.Second)
		f(&cur)
		src.set(cur)
		waitFor(t, "the publisher to weigh the change", 5*time.Second, func() bool { return p.stateUnchanged.Load() == uint64(i+1) })
		if n := len(fb.messages("dock/d1/state")); n != 1 {
			t.Fatalf("noise %d published state (%d messages), want none", i, n)
		}
	}
	clock.Advance(time.Second)
	cur.Weather.WindMPS = 4
	src.set(cur)
	<-fb.published
	msgs := fb.messages("dock/d1/state")
	if len(msgs) != 2 || !strings.Contains(msgs[1].payload, `"wind_mps":4`) {
		t.Fatalf("wind 3.1 -> 4 m/s: state messages %d, last %s; want the change with the exact reading", len(msgs), msgs[len(msgs)-1].payload)
	}
	if n := len(fb.messages("dock/d1/circles")); n != 1 {
		t.Errorf("circles republished %d times without a change, want once in all", n)
	}
	// New circles: republished once.
	clock.Advance(time.Second)
	cur.Circles.GeoJSON = map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{"type": "Feature"}}}
	cur.Lid = dock.LidOpening
	src.set(cur)
	<-fb.published
	<-fb.published
	if n := len(fb.messages("dock/d1/circles")); n != 2 {
		t.Errorf("circles messages %d after they changed, want 2", n)
	}
}

// TestTelemetryDocked: a vehicle docked and disarmed is reported every
// docked period, not at the flight rate; undocked, the rate is back at once.
func TestTelemetryDocked(t *testing.T) {
	clock := clockwork.NewFakeClockAt(testStart)
	o := testOptions(t, clock)
	o.TelemetryRate = 2
	o.TelemetryDockedInterval = 10 * time.Second
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	fb := newFakeBroker(true)
	p := newPublisher(o, fb)
	var docked atomic.Bool
	var asked atomic.Int64 // ticks handled
	docked.Store(true)
	isDocked := func() bool { asked.Add(1); return docked.Load() }
	v := dock.VehicleState{Lat: 53.5, Lon: 9.9, BatteryPct: 80}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { p.runTelemetry(ctx, func() dock.VehicleState { return v }, isDocked) })
	defer func() { cancel(); wg.Wait() }()
	tick := func() {
		t.Helper()
		n := asked.Load()
		clock.Advance(500 * time.Millisecond)
		waitFor(t, "the tick", 5*time.Second, func() bool { return asked.Load() == n+1 })
	}
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	// 30 s docked at 2 Hz ticks: the first tick and then every 10 s.
	for range 60 {
		tick()
	}
	if n := len(fb.messages("dock/d1/telemetry")); n != 3 {
		t.Fatalf("telemetry messages in 30 s docked: %d, want 3 (every 10 s)", n)
	}
	docked.Store(false)
	for range 4 {
		tick()
	}
	waitFor(t, "flight-rate telemetry", 5*time.Second, func() bool { return len(fb.messages("dock/d1/telemetry")) >= 7 })
	if n := len(fb.messages("dock/d1/telemetry")); n != 7 {
		t.Errorf("telemetry messages %d, want 3 in 30 s docked and 4 in 2 s undocked", n)
	}
}

// TestStatusPayload: status announces the contract version, the dock's
// position and what the dock takes: every command of the table, and the
// optional parts only when they are on.
func TestStatusPayload(t *testing.T) {
	o := testOptions(t, clockwork.NewFakeClockAt(testStart))
	o.Version = "1.2.3"
	o.Position = &Position{Lat: 24.35, Lon: 102.54, AltM: 1890}
	var m statusMsg
	if err := json.Unmarshal(statusPayload(o, testStart), &m); err != nil {
		t.Fatal(err)
	}
	if !m.Online || m.Contract != ContractVersion || m.Position == nil || m.Position.Lat != 24.35 {
		t.Errorf("status = %+v, want online, contract %s, the position", m, ContractVersion)
	}
	for name := range commandSpecs() {
		if !slices.Contains(m.Capabilities, string(name)) {
			t.Errorf("capabilities %v lack the command %s", m.Capabilities, name)
		}
	}
	if slices.Contains(m.Capabilities, "mavlink_bridge") || slices.Contains(m.Capabilities, "command_signing") {
		t.Errorf("capabilities %v name parts that are off", m.Capabilities)
	}
	o.Bridge = func([]byte) error { return nil }
	o.SigningKey = []byte("0123456789abcdef")
	if err := json.Unmarshal(statusPayload(o, testStart), &m); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Capabilities, "mavlink_bridge") || !slices.Contains(m.Capabilities, "command_signing") {
		t.Errorf("capabilities %v lack the bridge and signing that are on", m.Capabilities)
	}
}
