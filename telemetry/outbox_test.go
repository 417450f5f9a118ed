package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"
)

var testStart = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)

func openTestOutbox(t *testing.T, path string, maxEvents int, clock clockwork.Clock) (*Outbox, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := openOutbox(db, maxEvents, clock, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return ob, db
}

func decodeEvents(t *testing.T, msgs []pubMsg) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range msgs {
		var ev map[string]any
		if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
			t.Fatalf("event %s does not decode: %v", m.payload, err)
		}
		out = append(out, ev)
	}
	return out
}

func TestEncodeEvent(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"no fields", nil, `{"seq":7,"ts":"2026-12-05T19:00:00.250Z","type":"estop"}`},
		{"fields", map[string]any{"phase": "airborne", "sortie_id": "s1"},
			`{"seq":7,"ts":"2026-12-05T19:00:00.250Z","type":"estop","phase":"airborne","sortie_id":"s1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := json.Marshal(tt.fields)
			if tt.fields == nil {
				f = []byte("{}")
			}
			got := string(encodeEvent(7, dock.Event{Type: dock.EventEStop, Time: testStart.Add(250 * time.Millisecond)}, f))
			if got != tt.want {
				t.Errorf("encodeEvent() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestOutboxEmitRejects(t *testing.T) {
	ob, db := openTestOutbox(t, filepath.Join(t.TempDir(), "t.db"), 100, clockwork.NewFakeClockAt(testStart))
	defer db.Close()
	tests := []struct {
		name string
		ev   dock.Event
	}{
		{"no type", dock.Event{}},
		{"reserved seq", dock.Event{Type: dock.EventFault, Fields: map[string]any{"seq": 1}}},
		{"reserved type", dock.Event{Type: dock.EventFault, Fields: map[string]any{"type": "x"}}},
		{"unmarshalable", dock.Event{Type: dock.EventFault, Fields: map[string]any{"f": func() {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ob.Emit(tt.ev); err == nil {
				t.Errorf("Emit(%+v) = nil, want error", tt.ev)
			}
		})
	}
	if ob.LastSeq() != 0 || ob.Depth() != 0 {
		t.Errorf("after rejected emits LastSeq %d Depth %d, want 0 0", ob.LastSeq(), ob.Depth())
	}
}

// TestOutboxSeqAcrossReopen: seq continues after closing and reopening the
// file, also after every stored event was acknowledged.
func TestOutboxSeqAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	clock := clockwork.NewFakeClockAt(testStart)
	ob, db := openTestOutbox(t, path, 100, clock)
	for i := range 3 {
		if err := ob.Emit(dock.Event{Type: dock.EventFault, Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.ack(3); err != nil {
		t.Fatal(err)
	}
	if err := ob.Emit(dock.Event{Type: dock.EventFault}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ob, db = openTestOutbox(t, path, 100, clock)
	defer db.Close()
	if ob.LastSeq() != 4 || ob.Depth() != 1 {
		t.Fatalf("reopened LastSeq %d Depth %d, want 4 1", ob.LastSeq(), ob.Depth())
	}
	if err := ob.Emit(dock.Event{Type: dock.EventStartup}); err != nil {
		t.Fatal(err)
	}
	head, err := ob.head(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(head) != 2 || head[0].seq != 4 || head[1].seq != 5 {
		t.Fatalf("head after reopen = %v, want seqs 4 5", head)
	}
}

// TestOutboxOverflow: a full outbox drops its oldest tenth and says so.
func TestOutboxOverflow(t *testing.T) {
	ob, db := openTestOutbox(t, filepath.Join(t.TempDir(), "t.db"), 20, clockwork.NewFakeClockAt(testStart))
	defer db.Close()
	for i := range 21 {
		if err := ob.Emit(dock.Event{Type: dock.EventSortiePhase, Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	// 20 stored; the 21st finds it full: seqs 1-2 dropped, overflow is 21, the event 22.
	if ob.Depth() != 20 || ob.LastSeq() != 22 || ob.dropped.Load() != 2 {
		t.Fatalf("Depth %d LastSeq %d dropped %d, want 20 22 2", ob.Depth(), ob.LastSeq(), ob.dropped.Load())
	}
	head, err := ob.head(100)
	if err != nil {
		t.Fatal(err)
	}
	if head[0].seq != 3 {
		t.Errorf("oldest seq = %d, want 3", head[0].seq)
	}
	var of map[string]any
	if err := json.Unmarshal(head[len(head)-2].payload, &of); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"seq": 21.0, "ts": "2026-12-05T19:00:00.000Z", "type": "outbox.overflow", "dropped": 2.0, "first_seq": 1.0, "last_seq": 2.0}
	if fmt.Sprint(of) != fmt.Sprint(want) {
		t.Errorf("overflow event = %v, want %v", of, want)
	}
}

// TestOutboxRunOrderAndRetry: events go out in seq order; an unacknowledged
// one is sent again and nothing after it is deleted before it.
func TestOutboxRunOrderAndRetry(t *testing.T) {
	clock := clockwork.NewFakeClockAt(testStart)
	ob, db := openTestOutbox(t, filepath.Join(t.TempDir(), "t.db"), 1000, clock)
	defer db.Close()
	fb := newFakeBroker(false)
	for i := range 5 {
		if err := ob.Emit(dock.Event{Type: dock.EventSortiePhase, Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = ob.run(ctx, fb, "dock/x/events", false) })
	defer func() { cancel(); wg.Wait() }()

	fb.mu.Lock()
	fb.fail = 3 // seq 1 fails once; the rest of that batch is not acked either
	fb.mu.Unlock()
	fb.setConnected(true)
	// The first batch of 5 is published (3 fail, 2 stored); the loop waits on its retry timer.
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(connectRetry)
	waitFor(t, "outbox empty", 5*time.Second, func() bool { return ob.Depth() == 0 })
	for i := range 5 {
		if err := ob.Emit(dock.Event{Type: dock.EventSortiePhase, Fields: map[string]any{"n": 5 + i}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "outbox empty again", 5*time.Second, func() bool { return ob.Depth() == 0 })
	var seqs []float64
	for _, ev := range decodeEvents(t, fb.messages("dock/x/events")) {
		seqs = append(seqs, ev["seq"].(float64))
	}
	// At least once: 4 and 5 went through on the failed try and again on the retry.
	want := []float64{4, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("published seqs = %v, want %v", seqs, want)
	}
}

// TestOutboxSlowAckNotResent: a PUBACK later than the ack timeout on a
// connection that stays up is waited for; the event is not sent twice.
func TestOutboxSlowAckNotResent(t *testing.T) {
	clock := clockwork.NewFakeClockAt(testStart)
	ob, db := openTestOutbox(t, filepath.Join(t.TempDir(), "t.db"), 1000, clock)
	defer db.Close()
	fb := newFakeBroker(true)
	fb.slow = 2
	for i := range 3 {
		if err := ob.Emit(dock.Event{Type: dock.EventSortiePhase, Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = ob.run(ctx, fb, "dock/x/events", false) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "outbox empty", 5*time.Second, func() bool { return ob.Depth() == 0 })
	var seqs []float64
	for _, ev := range decodeEvents(t, fb.messages("dock/x/events")) {
		seqs = append(seqs, ev["seq"].(float64))
	}
	if want := []float64{1, 2, 3}; fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("published seqs = %v, want %v once each", seqs, want)
	}
}
