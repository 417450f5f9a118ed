package telemetry

import (
	"bytes"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// copyingStore is paho's memory store holding copies of the packets. With
// the plain memory store, paho's resume after a (re)connect sets the DUP
// flag on the very packet its sender goroutine may be writing at that moment
// (a data race the race detector reports when we publish right after
// connecting); storing and returning copies keeps those apart.
type copyingStore struct {
	mqtt.Store
}

func newCopyingStore() copyingStore { return copyingStore{mqtt.NewMemoryStore()} }

// Put stores a copy of m.
func (s copyingStore) Put(key string, m packets.ControlPacket) {
	if c := clonePacket(m); c != nil {
		s.Store.Put(key, c)
	}
}

// Get returns a copy of the stored packet, nil when absent.
func (s copyingStore) Get(key string) packets.ControlPacket {
	return clonePacket(s.Store.Get(key))
}

// clonePacket copies a packet by encoding and decoding it; nil when it does
// not round-trip (never for packets paho built itself).
func clonePacket(m packets.ControlPacket) packets.ControlPacket {
	if m == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		return nil
	}
	c, err := packets.ReadPacket(&buf)
	if err != nil {
		return nil
	}
	return c
}
