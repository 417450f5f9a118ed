package telemetry

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/dockagent/dock-agent/dock"
)

// orderHook records, in the broker's order, the subscriptions it
// acknowledged and the messages it delivered.
type orderHook struct {
	mochi.HookBase
	mu  sync.Mutex
	log []string
}

func (h *orderHook) ID() string { return "order" }
func (h *orderHook) Provides(b byte) bool {
	return b == mochi.OnSubscribed || b == mochi.OnPublished
}
func (h *orderHook) OnSubscribed(_ *mochi.Client, pk packets.Packet, _ []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range pk.Filters {
		h.log = append(h.log, "sub "+f.Filter)
	}
}
func (h *orderHook) OnPublished(_ *mochi.Client, pk packets.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, "pub "+pk.TopicName)
}
func (h *orderHook) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.log)
}

// TestStateAfterCommandSubscription: the agent's first retained state
// reaches the broker only after its command subscription does, so a client
// that acts on that state finds its command taken.
func TestStateAfterCommandSubscription(t *testing.T) {
	for range 5 {
		h := &orderHook{}
		srv := mochi.New(&mochi.Options{Logger: slog.New(slog.DiscardHandler)})
		if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
			t.Fatal(err)
		}
		if err := srv.AddHook(h, nil); err != nil {
			t.Fatal(err)
		}
		l := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
		if err := srv.AddListener(l); err != nil {
			t.Fatal(err)
		}
		if err := srv.Serve(); err != nil {
			t.Fatal(err)
		}
		src := &fakeState{state: dock.State{Lid: dock.LidClosed, Mode: dock.ModeAuto}}
		s := startService(t, "tcp://"+l.Address(), t.TempDir(), nil, src, nil)
		var log []string
		waitFor(t, "state published", 10*time.Second, func() bool {
			log = h.seen()
			return slices.Contains(log, "pub dock/d1/state")
		})
		sub, pub := slices.Index(log, "sub dock/d1/cmd/+"), slices.Index(log, "pub dock/d1/state")
		if sub < 0 || sub > pub {
			t.Fatalf("broker saw %v: state before the command subscription", log)
		}
		s.stop()
		_ = srv.Close()
	}
}
