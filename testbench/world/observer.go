package world

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Message is one MQTT message the observer received.
type Message struct {
	Topic   string // without the dock prefix
	Payload []byte
	At      time.Time // simulated time of arrival
	Real    time.Time // wall time of arrival
}

// Event is a decoded `events` message.
type Event struct {
	Seq    uint64         `json:"seq"`
	TS     string         `json:"ts"`
	Type   string         `json:"type"`
	Fields map[string]any `json:"-"`
	At     time.Time      `json:"-"` // simulated time of arrival
	Real   time.Time      `json:"-"` // wall time of arrival
}

// Reply is a decoded command reply.
type Reply struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

// Observer is an MQTT client watching everything under the dock's prefix,
// the way a command centre does; it also sends commands.
type Observer struct {
	w      *World
	prefix string
	client mqtt.Client
	ids    atomic.Uint64

	mu       sync.Mutex
	msgs     []Message
	events   []Event
	state    map[string]any
	changed  chan struct{} // closed and replaced on every message
	maxMsgs  int
	dropMsgs int
}

// Observe connects an observer to the world's broker.
func (w *World) Observe(ctx context.Context) (*Observer, error) {
	o := &Observer{w: w, prefix: w.Prefix(), changed: make(chan struct{}), maxMsgs: 200000}
	opts := mqtt.NewClientOptions().AddBroker(w.brokerURL).
		SetClientID(fmt.Sprintf("bench-observer-%d", time.Now().UnixNano())).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(250 * time.Millisecond).SetCleanSession(true).SetOrderMatters(true)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		// Exact topics (and a wildcard only where nothing is retained):
		// mochi-mqtt v2.7.9 reads a topic's retained marker without its
		// lock while a wildcard subscription scans for retained messages,
		// which the race detector reports when the agent publishes its
		// retained state at that moment.
		c.SubscribeMultiple(map[string]byte{
			o.prefix + "status": 1, o.prefix + "state": 1, o.prefix + "telemetry": 1, o.prefix + "events": 1,
			o.prefix + "cmd/+/reply": 1, o.prefix + "mavlink/out": 1, o.prefix + "circles": 1,
		}, o.handle)
	})
	o.client = mqtt.NewClient(opts)
	tok := o.client.Connect()
	select {
	case <-tok.Done():
		if tok.Error() != nil {
			return nil, fmt.Errorf("observer: connect %s: %w", w.brokerURL, tok.Error())
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("observer: connect %s: %w", w.brokerURL, ctx.Err())
	}
	return o, nil
}

// Close disconnects.
func (o *Observer) Close() { o.client.Disconnect(100) }

func (o *Observer) handle(_ mqtt.Client, m mqtt.Message) {
	topic := strings.TrimPrefix(m.Topic(), o.prefix)
	msg := Message{Topic: topic, Payload: append([]byte(nil), m.Payload()...), At: o.w.clock.Now(), Real: time.Now()}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) < o.maxMsgs {
		o.msgs = append(o.msgs, msg)
	} else {
		o.dropMsgs++
	}
	switch {
	case topic == "events":
		var ev Event
		if err := json.Unmarshal(msg.Payload, &ev); err == nil {
			_ = json.Unmarshal(msg.Payload, &ev.Fields)
			ev.At, ev.Real = msg.At, msg.Real
			o.events = append(o.events, ev)
		}
	case topic == "state":
		var st map[string]any
		if err := json.Unmarshal(msg.Payload, &st); err == nil {
			o.state = st
		}
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// Events returns the events received so far, in arrival order.
func (o *Observer) Events() []Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Event(nil), o.events...)
}

// Messages returns the messages received on topic (without prefix).
func (o *Observer) Messages(topic string) []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Message
	for _, m := range o.msgs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// All returns every message received so far, in arrival order.
func (o *Observer) All() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Message(nil), o.msgs...)
}

// State returns the latest `state` message decoded, or nil.
func (o *Observer) State() map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state
}

// ReadyToFly reports whether the dock, as seen over MQTT, would pass the
// preflight gates a fresh bench is still waiting on: the agent online
// (its command subscription is in place), the lid closed, the vehicle
// linked with its battery known, and a 3D GPS fix in the telemetry.
func (o *Observer) ReadyToFly() bool {
	st := o.State()
	if st == nil || st["lid"] != "closed" {
		return false
	}
	v, _ := st["vehicle"].(map[string]any)
	if v == nil || v["link"] != true {
		return false
	}
	if pct, ok := v["battery_pct"].(float64); !ok || pct < 0 {
		return false
	}
	var status struct {
		Online bool `json:"online"`
	}
	if m := o.Messages("status"); len(m) == 0 || json.Unmarshal(m[len(m)-1].Payload, &status) != nil || !status.Online {
		return false
	}
	var tel struct {
		GPS struct {
			Fix int `json:"fix"`
		} `json:"gps"`
	}
	m := o.Messages("telemetry")
	return len(m) > 0 && json.Unmarshal(m[len(m)-1].Payload, &tel) == nil && tel.GPS.Fix >= 3
}

// Wait waits until cond (called under no lock with the observer) holds.
func (o *Observer) Wait(ctx context.Context, cond func() bool) error {
	for {
		o.mu.Lock()
		ch := o.changed
		o.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond): // conditions on the world, not only on messages
		}
	}
}

// WaitEvent waits for an event after index from (len of Events() before)
// that match accepts, and returns it.
func (o *Observer) WaitEvent(ctx context.Context, from int, match func(Event) bool) (Event, error) {
	var found Event
	err := o.Wait(ctx, func() bool {
		evs := o.Events()
		for _, ev := range evs[min(from, len(evs)):] {
			if match(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found, err
}

// Send publishes a command and waits for its reply.
func (o *Observer) Send(ctx context.Context, name string, args map[string]any) (Reply, error) {
	id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), o.ids.Add(1))
	body := map[string]any{"id": id}
	for k, v := range args {
		body[k] = v
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return Reply{}, err
	}
	return o.SendRaw(ctx, name, id, payload)
}

// SendRaw publishes payload as command name and waits for the reply with id.
func (o *Observer) SendRaw(ctx context.Context, name, id string, payload []byte) (Reply, error) {
	tok := o.client.Publish(o.prefix+"cmd/"+name, 1, false, payload)
	select {
	case <-tok.Done():
		if tok.Error() != nil {
			return Reply{}, fmt.Errorf("send %s: %w", name, tok.Error())
		}
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("send %s: %w", name, ctx.Err())
	}
	var rep Reply
	err := o.Wait(ctx, func() bool {
		for _, m := range o.Messages("cmd/" + name + "/reply") {
			var r Reply
			if json.Unmarshal(m.Payload, &r) == nil && r.ID == id {
				rep = r
				return true
			}
		}
		return false
	})
	if err != nil {
		return Reply{}, fmt.Errorf("no reply to %s %s: %w", name, id, err)
	}
	return rep, nil
}

// CheckEvents verifies the delivery promise: seq strictly increasing in
// arrival order, no gap (an event lost), no two different events under one
// seq. An event that arrives again with its seq and content is a QoS 1
// redelivery (at least once; consumers drop repeats by seq): it is counted
// in redelivered, not an error.
func (o *Observer) CheckEvents() (redelivered int, err error) {
	evs := o.Events()
	var errs []error
	for i := 1; i < len(evs); i++ {
		prev, cur := evs[i-1].Seq, evs[i].Seq
		switch {
		case cur == prev && reflect.DeepEqual(evs[i-1].Fields, evs[i].Fields):
			redelivered++
		case cur == prev:
			errs = append(errs, fmt.Errorf("event seq %d delivered twice with different content", cur))
		case cur < prev:
			errs = append(errs, fmt.Errorf("event seq %d after %d: out of order", cur, prev))
		case cur > prev+1:
			errs = append(errs, fmt.Errorf("events seq %d..%d never arrived", prev+1, cur-1))
		}
	}
	return redelivered, errors.Join(errs...)
}

// SendRawAny publishes payload as command name and returns the first reply
// on its reply topic after it, whatever its id (a malformed request is
// answered with id null).
func (o *Observer) SendRawAny(ctx context.Context, name string, payload []byte) (Reply, error) {
	topic := "cmd/" + name + "/reply"
	before := len(o.Messages(topic))
	tok := o.client.Publish(o.prefix+"cmd/"+name, 1, false, payload)
	select {
	case <-tok.Done():
		if tok.Error() != nil {
			return Reply{}, fmt.Errorf("send %s: %w", name, tok.Error())
		}
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("send %s: %w", name, ctx.Err())
	}
	var rep Reply
	err := o.Wait(ctx, func() bool {
		msgs := o.Messages(topic)
		if len(msgs) <= before {
			return false
		}
		return json.Unmarshal(msgs[before].Payload, &rep) == nil
	})
	if err != nil {
		return Reply{}, fmt.Errorf("no reply to %s: %w", name, err)
	}
	return rep, nil
}

// Lookup returns the value at a dotted path ("vehicle.armed") of a decoded
// JSON object, or nil.
func Lookup(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// PublishFrame publishes one raw MAVLink frame on the dock's `mavlink/in`
// (QoS 0, as the raw bridge takes it) and returns once it left.
func (o *Observer) PublishFrame(ctx context.Context, payload []byte) error {
	tok := o.client.Publish(o.prefix+"mavlink/in", 0, false, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish on mavlink/in: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish on mavlink/in: %w", ctx.Err())
	}
}
