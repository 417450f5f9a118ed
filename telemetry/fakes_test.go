package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// pubMsg is one message a fake broker was given.
type pubMsg struct {
	topic    string
	qos      byte
	retained bool
	payload  string
}

// fakeBroker implements broker in memory for unit tests of the loops.
type fakeBroker struct {
	mu        sync.Mutex
	connected bool
	connects  uint64
	changed   chan struct{}
	msgs      []pubMsg
	fail      int // the next fail publishes return an error
	slow      int // the next slow publishes are acked after one ack timeout
	published chan struct{}
}

func newFakeBroker(connected bool) *fakeBroker {
	n := uint64(0)
	if connected {
		n = 1
	}
	return &fakeBroker{connected: connected, connects: n, changed: make(chan struct{}), published: make(chan struct{}, 1024)}
}

func (f *fakeBroker) isConnected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

func (f *fakeBroker) connectCount() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects
}

func (f *fakeBroker) watch() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeBroker) setConnected(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = up
	if up {
		f.connects++
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeBroker) publish(topic string, qos byte, retained bool, payload []byte) tokenWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if f.fail > 0 {
		f.fail--
		err = errAckTimeout
	} else if f.slow > 0 {
		f.slow--
		f.msgs = append(f.msgs, pubMsg{topic, qos, retained, string(payload)})
		f.published <- struct{}{}
		waited := false
		return func(context.Context, time.Duration) error {
			if !waited {
				waited = true
				return errAckTimeout
			}
			return nil
		}
	} else {
		f.msgs = append(f.msgs, pubMsg{topic, qos, retained, string(payload)})
	}
	f.published <- struct{}{}
	return func(context.Context, time.Duration) error { return err }
}

func (f *fakeBroker) messages(topic string) []pubMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []pubMsg
	for _, m := range f.msgs {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// fakeState is a StateSource with a settable state.
type fakeState struct {
	mu    sync.Mutex
	state dock.State
	subs  []chan dock.State
}

func (f *fakeState) Subscribe() (<-chan dock.State, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan dock.State, 1)
	f.subs = append(f.subs, ch)
	return ch, func() {}
}

func (f *fakeState) Snapshot() dock.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeState) set(s dock.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = s
	for _, ch := range f.subs {
		select {
		case ch <- s:
		default:
		}
	}
}

// fakeCommander records requests and answers with do (or a default result).
type fakeCommander struct {
	mu    sync.Mutex
	calls []dock.Request
	do    func(ctx context.Context, req dock.Request) (any, error)
}

func (f *fakeCommander) Do(ctx context.Context, req dock.Request) (any, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	do := f.do
	f.mu.Unlock()
	if do != nil {
		return do(ctx, req)
	}
	return map[string]any{"command": string(req.Name)}, nil
}

func (f *fakeCommander) requests() []dock.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dock.Request(nil), f.calls...)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond until it holds or the deadline passes (real IO only).
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval of a condition wait, not synchronisation
	}
}
