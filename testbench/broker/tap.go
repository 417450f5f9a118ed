package broker

import (
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Tap calls fn (from the broker's goroutines; it must not block) with
// every message a client publishes, as the broker received it, from now
// on and across Stop/Start. It sees what reached the broker even while no
// subscriber is connected (right after a restart), which is what the
// campaign's "every event reached the broker once" is about.
func (b *Broker) Tap(fn func(topic string, payload []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := &tapHook{fn: fn}
	b.taps = append(b.taps, h)
	if b.srv != nil {
		_ = b.srv.AddHook(h, nil)
	}
}

type tapHook struct {
	mochi.HookBase
	fn func(topic string, payload []byte)
}

func (h *tapHook) ID() string { return "bench-tap" }

func (h *tapHook) Provides(b byte) bool { return b == mochi.OnPublished }

func (h *tapHook) OnPublished(_ *mochi.Client, pk packets.Packet) {
	h.fn(pk.TopicName, append([]byte(nil), pk.Payload...))
}
