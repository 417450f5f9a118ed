// Package broker is the bench's embedded MQTT broker (mochi-mqtt): it can
// be stopped and started again on the same address to simulate a broker
// outage, and it keeps its retained messages and sessions across that,
// the way a broker with persistence would.
package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is an embedded MQTT 3.1.1/5 broker on one TCP address.
type Broker struct {
	log *slog.Logger

	mu   sync.Mutex
	addr string // fixed after the first Start
	srv  *mochi.Server
	// retained survives Stop/Start: the server is new, the messages are not.
	retained map[string][]byte
	taps     []*tapHook // see Tap
}

// New returns a stopped broker for addr ("127.0.0.1:1883"; port 0 picks
// one on the first Start and keeps it).
func New(addr string, log *slog.Logger) *Broker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{addr: addr, log: log, retained: map[string][]byte{}}
}

// Start listens and serves. Starting a running broker is a no-op.
func (b *Broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		return nil
	}
	srv := mochi.New(&mochi.Options{InlineClient: true, Logger: b.log})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return fmt.Errorf("mqtt broker: %w", err)
	}
	for _, h := range b.taps {
		if err := srv.AddHook(h, nil); err != nil {
			return fmt.Errorf("mqtt broker: tap: %w", err)
		}
	}
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		return fmt.Errorf("mqtt broker: listen on %s: %w", b.addr, err)
	}
	b.addr = ln.Addr().String()
	l := listeners.NewNet("bench", ln)
	if err := srv.AddListener(l); err != nil {
		_ = ln.Close()
		return fmt.Errorf("mqtt broker: %w", err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("mqtt broker: serve on %s: %w", b.addr, err)
	}
	for topic, payload := range b.retained {
		if err := srv.Publish(topic, payload, true, 1); err != nil {
			b.log.Warn("restore retained message", "topic", topic, "err", err)
		}
	}
	b.srv = srv
	return nil
}

// Stop closes every connection and the listener; retained messages are
// kept for the next Start. Stopping a stopped broker is a no-op.
func (b *Broker) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv == nil {
		return nil
	}
	// Closed first: no client publishes while the retained messages are
	// read (mochi-mqtt's wildcard scan races with a retained publish).
	err := b.srv.Close()
	for _, m := range b.srv.Topics.Messages("#") {
		b.retained[m.TopicName] = append([]byte(nil), m.Payload...)
	}
	b.srv = nil
	return err
}

// Running reports whether the broker serves now.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.srv != nil
}

// Addr is host:port; URL is tcp://host:port.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// URL returns the broker's tcp:// URL.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// ErrStopped is returned by Publish while the broker is stopped.
var ErrStopped = errors.New("mqtt broker stopped")

// Publish injects a message as the broker itself (an inline client).
func (b *Broker) Publish(topic string, payload []byte, retain bool) error {
	b.mu.Lock()
	srv := b.srv
	b.mu.Unlock()
	if srv == nil {
		return ErrStopped
	}
	return srv.Publish(topic, payload, retain, 1)
}
