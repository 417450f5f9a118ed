package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// runningService is a Service running in the background of a test.
type runningService struct {
	*Service
	outbox *Outbox
	stop   func() // cancel Run, wait, check its error, close the file
}

// Events is the outbox the service publishes, as the app hands it to the
// dock.
func (rs *runningService) Events() *Outbox { return rs.outbox }

// startService runs a Service on url with dir as state dir.
func startService(t *testing.T, url, dir string, fd *fakeDock, state StateSource, tweak func(*Options)) *runningService {
	t.Helper()
	o := Options{
		Prefix: "dock/d1/", BrokerURLs: []string{url}, ClientID: "dock-agent-d1", StateDir: dir,
		Version: "1.2.3", Logger: testLogger(t), Clock: clockwork.NewRealClock(),
	}
	if tweak != nil {
		tweak(&o)
	}
	if fd == nil {
		fd = &fakeDock{}
	}
	ob, err := OpenOutbox(o)
	if err != nil {
		t.Fatalf("OpenOutbox() = %v", err)
	}
	s, err := NewService(o, ob, fd.dock(), state, nil)
	if err != nil {
		ob.Close()
		t.Fatalf("NewService() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = s.Run(ctx) })
	stopped := false
	rs := &runningService{Service: s, outbox: ob}
	rs.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("Run() = %v, want nil after cancel", runErr)
		}
		if err := ob.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	}
	t.Cleanup(rs.stop)
	return rs
}

func isOnline(want bool) func(pubMsg) bool {
	return func(m pubMsg) bool {
		var st struct {
			Online bool `json:"online"`
		}
		return json.Unmarshal([]byte(m.payload), &st) == nil && st.Online == want
	}
}

// TestStatusStateRetained: online status and state are retained for late
// subscribers; a clean shutdown leaves {"online":false} retained.
func TestStatusStateRetained(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b testBroker) {
		src := &fakeState{state: dock.State{Lid: dock.LidClosed, Mode: dock.ModeAuto, ClockSynced: true}}
		s := startService(t, b.url(), t.TempDir(), nil, src, nil)
		early := newWatcher(t, b.url(), "dock/d1/#", nil)
		early.waitMsg("dock/d1/state", func(pubMsg) bool { return true })
		late := newWatcher(t, b.url(), "dock/d1/#", nil)
		st := late.waitMsg("dock/d1/status", isOnline(true))
		var status map[string]any
		if err := json.Unmarshal([]byte(st.payload), &status); err != nil {
			t.Fatal(err)
		}
		if !st.retained || status["version"] != "1.2.3" || status["started_at"] == nil {
			t.Errorf("status = %s retained %v, want online retained with version and started_at", st.payload, st.retained)
		}
		state := late.waitMsg("dock/d1/state", func(pubMsg) bool { return true })
		if !state.retained || !strings.Contains(state.payload, `"lid":"closed"`) || !strings.Contains(state.payload, `"clock_synced":true`) {
			t.Errorf("state = %s retained %v, want the dock state retained", state.payload, state.retained)
		}
		s.stop()
		early.waitMsg("dock/d1/status", isOnline(false))
		after := newWatcher(t, b.url(), "dock/d1/status", nil)
		if m := after.waitMsg("dock/d1/status", func(pubMsg) bool { return true }); !isOnline(false)(m) || !m.retained {
			t.Errorf("retained status after shutdown = %s retained %v, want {\"online\":false} retained", m.payload, m.retained)
		}
	})
}

// TestWillOnKilledConnection: an abrupt TCP close makes the broker publish
// the retained will; the agent reconnects and is online again.
func TestWillOnKilledConnection(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b testBroker) {
		p := startProxy(t, strings.TrimPrefix(b.url(), "tcp://"))
		w := newWatcher(t, b.url(), "dock/d1/status", nil)
		s := startService(t, p.url(), t.TempDir(), nil, nil, nil)
		w.waitMsg("dock/d1/status", isOnline(true))
		p.kill()
		w.waitMsg("dock/d1/status", isOnline(false))
		waitFor(t, "online status again, after the will", 30*time.Second, func() bool {
			msgs := w.messages("dock/d1/status")
			n := 0
			for _, m := range msgs {
				if isOnline(true)(m) {
					n++
				}
			}
			return n >= 2 && isOnline(true)(msgs[len(msgs)-1])
		})
		late := newWatcher(t, b.url(), "dock/d1/status", nil)
		if m := late.waitMsg("dock/d1/status", func(pubMsg) bool { return true }); !isOnline(true)(m) {
			t.Errorf("retained status after reconnect = %s, want online", m.payload)
		}
		if h := s.Health(); h.Connects < 2 || h.ConnectionLosses < 1 {
			t.Errorf("Health() = %+v, want 2 connects and a loss", h)
		}
	})
}

// TestOutageReplay: events emitted before, during and after a broker outage
// (broker stopped and started on the same port) all arrive, in seq order,
// without a gap.
func TestOutageReplay(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b testBroker) {
		p := startProxy(t, strings.TrimPrefix(b.url(), "tcp://"))
		w1 := newWatcher(t, b.url(), "dock/d1/events", nil)
		s := startService(t, p.url(), t.TempDir(), nil, nil, nil)
		emit := func(from, to int) {
			for i := from; i < to; i++ {
				if err := s.Events().Emit(dock.Event{Type: dock.EventSortiePhase, Fields: map[string]any{"n": i}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		emit(0, 20)
		waitFor(t, "first events acknowledged", 15*time.Second, func() bool { return s.Events().Depth() == 0 })
		p.setDown(true)
		b.stop()
		waitFor(t, "agent sees the outage", 15*time.Second, func() bool { return !s.Health().Connected })
		emit(20, 50)
		if d := s.Events().Depth(); d != 30 {
			t.Errorf("outbox depth during outage = %d, want 30", d)
		}
		b.start()
		w2 := newWatcher(t, b.url(), "dock/d1/events", nil)
		p.setDown(false)
		emit(50, 60)
		waitFor(t, "every event acknowledged", 30*time.Second, func() bool { return s.Events().Depth() == 0 })
		waitFor(t, "every event delivered", 15*time.Second, func() bool {
			seen := map[string]bool{}
			for _, m := range append(w1.messages("dock/d1/events"), w2.messages("dock/d1/events")...) {
				seen[m.payload] = true
			}
			return len(seen) >= 60
		})
		seen := map[float64]bool{}
		var order []float64
		for _, m := range append(w1.messages("dock/d1/events"), w2.messages("dock/d1/events")...) {
			var ev map[string]any
			if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
				t.Fatal(err)
			}
			seq := ev["seq"].(float64)
			if ev["n"].(float64) != seq-1 {
				t.Errorf("event seq %v carries n %v, want n = seq-1", seq, ev["n"])
			}
			if !seen[seq] {
				seen[seq] = true
				order = append(order, seq)
			}
		}
		for i, seq := range order {
			if seq != float64(i+1) {
				t.Fatalf("event seqs in arrival order = %v, want 1..60 without gap", order)
			}
		}
		if len(order) != 60 {
			t.Fatalf("got %d distinct events, want 60", len(order))
		}
	})
}

// TestRestartContinuesSeq: a second Service on the same file continues seq,
// and publishes what the first one could not (agent killed with the broker
// away).
func TestRestartContinuesSeq(t *testing.T) {
	b := startMochi(t, nil)
	dir := t.TempDir()
	w := newWatcher(t, b.url(), "dock/d1/events", nil)
	s1 := startService(t, b.url(), dir, nil, nil, nil)
	for range 3 {
		if err := s1.Events().Emit(dock.Event{Type: dock.EventFault}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "events acknowledged", 15*time.Second, func() bool { return s1.Events().Depth() == 0 })
	s1.stop()
	// Events stored with no Run at all (e.g. emitted before a kill -9).
	ob2, err := OpenOutbox(Options{Prefix: "dock/d1/", BrokerURLs: []string{b.url()}, ClientID: "dock-agent-d1", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := ob2.Emit(dock.Event{Type: dock.EventStartup}); err != nil {
		t.Fatal(err)
	}
	if err := ob2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := startService(t, b.url(), dir, nil, nil, nil)
	if err := s3.Events().Emit(dock.Event{Type: dock.EventStartup}); err != nil {
		t.Fatal(err)
	}
	// Delivery is at least once: on a loaded machine a PUBACK can be late
	// enough for an event to be sent again. Consumers drop a seq they
	// have; what must hold is the numbering: 1..5, in order, no gap.
	distinct := func() []int {
		var out []int
		seen := map[int]bool{}
		for _, m := range w.messages("dock/d1/events") {
			var ev struct{ Seq int }
			if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
				t.Fatalf("event %q: %v", m.payload, err)
			}
			if !seen[ev.Seq] {
				seen[ev.Seq] = true
				out = append(out, ev.Seq)
			}
		}
		return out
	}
	waitFor(t, "5 events", 15*time.Second, func() bool { return len(distinct()) >= 5 })
	if got := fmt.Sprint(distinct()); got != "[1 2 3 4 5]" {
		t.Errorf("seqs across restarts (repeats dropped) = %s, want [1 2 3 4 5]", got)
	}
	if n := len(w.messages("dock/d1/events")); n > 5 {
		t.Logf("%d events delivered for 5 seqs (at-least-once redelivery)", n)
	}
}

// TestTLS connects through a mochi TLS listener with a CA made in the test.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	serverTLS, clientTLS := makeTestPKI(t, dir)
	b := startMochi(t, serverTLS)
	w := newWatcher(t, b.url(), "dock/d1/status", clientTLS)
	startService(t, b.url(), t.TempDir(), nil, nil, func(o *Options) {
		o.CAFile = filepath.Join(dir, "ca.pem")
		o.CertFile = filepath.Join(dir, "client.pem")
		o.KeyFile = filepath.Join(dir, "client-key.pem")
	})
	w.waitMsg("dock/d1/status", isOnline(true))

	// A wrong CA never connects.
	other := t.TempDir()
	makeTestPKI(t, other)
	bad := startService(t, b.url(), t.TempDir(), nil, nil, func(o *Options) {
		o.ClientID = "wrong-ca"
		o.CAFile = filepath.Join(other, "ca.pem")
	})
	if _, err := os.Stat(filepath.Join(other, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // give a wrong connection a chance to (wrongly) succeed; nothing to wait for
	if bad.Health().Connected {
		t.Error("connected through TLS with a CA that did not sign the broker's certificate")
	}
}
