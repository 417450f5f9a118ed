package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/dockagent/dock-agent/dock"
)

// TestWatch: the retained status and state and a live event, as readable
// lines.
func TestWatch(t *testing.T) {
	r := newRig(t, nil, nil)
	out, errb, wait := background(t, "watch", "-config", "", "-broker", r.url, "-dock", "d1", "-n", "3", "-no-telemetry")
	waitFor(t, "watch to subscribe", func() bool { return strings.Contains(errb.String(), "watching dock/d1/") })
	if err := r.outbox.Emit(dock.Event{Type: dock.EventSortiePhase, Time: time.Date(2026, 12, 5, 19, 0, 3, 112e6, time.UTC),
		Fields: map[string]any{"sortie_id": "s-1", "phase": "airborne"}}); err != nil {
		t.Fatalf("Emit() = %v", err)
	}
	if code := wait(); code != 0 {
		t.Fatalf("dockctl watch = %d, want 0", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("watch printed %d lines, want 3:\n%s", len(lines), out)
	}
	want := []string{
		"d1 status    online version=1.2.3",
		"d1 state     lid=closed arms=clamped charger=on mode=auto wind=4.2/6.1mps temp=7.5C vehicle=link,landed,docked bat=96% sortie=- circles=900/2700/4500m",
		"19:00:03.112 d1 event     #1 sortie.phase phase=airborne sortie_id=s-1",
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("watch output lacks %q", w)
		}
	}
}

// TestWatchJSON: -json prints each message with its topic, raw.
func TestWatchJSON(t *testing.T) {
	r := newRig(t, nil, nil)
	code, out, _ := dockctl(t, "", "watch", "-config", "", "-broker", r.url, "-n", "2", "-json", "-no-telemetry")
	if code != 0 {
		t.Fatalf("dockctl watch -json = %d, want 0", code)
	}
	seen := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var m struct {
			Topic    string         `json:"topic"`
			Retained bool           `json:"retained"`
			Payload  map[string]any `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if !m.Retained {
			t.Errorf("%s: retained = false, want true", m.Topic)
		}
		seen[m.Topic] = true
		if m.Topic == "dock/d1/state" && m.Payload["lid"] != "closed" {
			t.Errorf("state payload lid = %v, want closed", m.Payload["lid"])
		}
	}
	// No -dock and no config: every dock ("dock/+/").
	if !seen["dock/d1/status"] || !seen["dock/d1/state"] {
		t.Errorf("watch -json saw %v, want dock/d1/status and dock/d1/state", seen)
	}
}

func TestFormatTelemetry(t *testing.T) {
	m := message{topic: "dock/d1/telemetry", payload: []byte(`{"ts":"2026-12-05T19:00:00.500Z","lat":53.5511234,"lon":9.9937,"alt_m":72.4,
 "rel_alt_m":40.1,"heading_deg":271,"ground_speed_mps":11.8,"climb_mps":0.1,"mode":"AUTO","armed":true,
 "battery":{"pct":78,"voltage_v":23.9,"current_a":18.2},"gps":{"fix":3,"sats":17,"hdop":0.7},"link":{"loss_pct":0.4,"rssi":187}}`)}
	got := formatMessage(m, time.Time{})
	want := "19:00:00.500 d1 telemetry lat=53.551123 lon=9.993700 alt=72.4m rel=40.1m hdg=271 gs=11.8mps mode=AUTO ARMED bat=78% 23.9V gps=fix3/17sats loss=0.4%"
	if got != want {
		t.Errorf("formatMessage(telemetry) =\n%q\nwant\n%q", got, want)
	}
	got = formatMessage(message{topic: "dock/d1/status", payload: []byte(`{"online":false}`)}, time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	if want := "19:00:00.000 d1 status    OFFLINE (the agent left the broker: stopped, or its link broke; the state shown is its last)"; got != want {
		t.Errorf("formatMessage(offline) = %q, want %q", got, want)
	}
}

// inlineBroker is a mochi broker on addr ("127.0.0.1:0" for any port) whose
// inline client publishes as a dock would; it returns the broker, the
// address it listens on and a stop func (also run at cleanup).
func inlineBroker(t *testing.T, addr string) (*mochi.Server, string, func()) {
	t.Helper()
	srv := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: addr})
	if err := srv.AddListener(l); err != nil {
		t.Fatalf("mochi listen on %s: %v", addr, err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() { srv.Close() })
	t.Cleanup(stop)
	return srv, l.Address(), stop
}

// TestWatchReconnect: the broker goes away; watch says so, retries on its
// clock, reconnects when the broker is back, says so, and shows the dock's
// status from then on: here OFFLINE, the will of an agent that left.
func TestWatchReconnect(t *testing.T) {
	srv, addr, stop := inlineBroker(t, "127.0.0.1:0")
	if err := srv.Publish("dock/d1/status", []byte(`{"online":true,"version":"1.2.3"}`), true, 1); err != nil {
		t.Fatal(err)
	}
	s := &session{brokers: []string{"tcp://" + addr}, prefix: "dock/d1/", timeout: 5 * time.Second}
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	out, errb := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- watch(ctx, s, watchOptions{count: 2}, clk, out, errb) }()
	waitFor(t, "the retained status", func() bool { return strings.Contains(out.String(), "d1 status    online") })

	stop()
	waitFor(t, "the lost-broker notice", func() bool { return strings.Contains(errb.String(), "lost the broker tcp://"+addr) })
	// The first retry runs at once and fails (nothing listens); then watch
	// waits on its clock.
	parked, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if err := clk.BlockUntilContext(parked, 1); err != nil {
		t.Fatalf("watch never waited to retry: %v\nstderr:\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "still no broker") {
		t.Errorf("stderr lacks the failed retry:\n%s", errb.String())
	}
	srv2, _, _ := inlineBroker(t, addr)
	if err := srv2.Publish("dock/d1/status", []byte(`{"online":false}`), true, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(watchRetryMin)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("watch = %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("watch did not show the status after reconnecting\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	t.Logf("stderr:\n%s", errb.String())
	if !strings.Contains(errb.String(), "reconnected to tcp://"+addr+" after 1s (2 attempts)") {
		t.Errorf("stderr lacks the reconnection notice:\n%s", errb.String())
	}
	if !strings.Contains(out.String(), "d1 status    OFFLINE (the agent left the broker") {
		t.Errorf("stdout lacks the dock going offline:\n%s", out.String())
	}
}
