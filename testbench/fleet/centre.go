package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"
)

// CentreOptions configure a Centre.
type CentreOptions struct {
	// BrokerURL is the fleet's broker (tcp://host:port).
	BrokerURL string
	// Clock times the incident stream and the time to scene: the docks'
	// simulated clock rate (a simclock at the fleet's speed).
	Clock clockwork.Clock
	// Wall times the MQTT round trips of commands; nil is the real clock.
	Wall clockwork.Clock
	// ReplyTimeout bounds the wait for one command reply (wall time);
	// 0 is 10 s.
	ReplyTimeout time.Duration
	// Logger receives the centre's own logs; nil discards.
	Logger *slog.Logger
}

// Centre is the command centre: one MQTT client that follows every dock's
// retained state (readiness) and events and sends them commands, knowing
// them only through the contract of docs/mqtt-api.md. It is safe for
// concurrent use.
type Centre struct {
	opts   CentreOptions
	log    *slog.Logger
	client mqtt.Client
	ids    atomic.Uint64

	mu      sync.Mutex
	docks   map[string]*dockView
	pending map[string]chan Reply // command id -> its reply
	sorties map[string][]SortieEvent
	changed chan struct{} // closed and replaced on every state or event
	bad     int           // messages that did not decode
}

// dockView is what the centre knows of one dock.
type dockView struct {
	ready   bool
	gates   []json.RawMessage
	stateAt time.Time // centre clock when the state arrived
	// busyUntilReport is the sortie the centre sent the dock on: the dock
	// counts as busy until that sortie's report, whatever a state sent
	// before the dispatch said.
	busyUntilReport string
	freedAt         time.Time // a state older than this is stale
}

// SortieEvent is an event of one sortie as the centre received it.
type SortieEvent struct {
	Type  string
	Phase string
	At    time.Time // centre clock at arrival
	Raw   json.RawMessage
}

// Reply is a command reply (docs/mqtt-api.md "Commands").
type Reply struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *ReplyError     `json:"error"`
}

// ReplyError is a refused command's error.
type ReplyError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

func (e *ReplyError) Error() string { return e.Code + ": " + e.Message }

// NewCentre connects the centre to the broker and subscribes to every
// dock's state, events and replies; it returns once the subscription is
// acknowledged (bounded by ctx). Close disconnects.
func NewCentre(ctx context.Context, opts CentreOptions) (*Centre, error) {
	if opts.Clock == nil {
		return nil, errors.New("fleet: centre: no clock")
	}
	if opts.Wall == nil {
		opts.Wall = clockwork.NewRealClock()
	}
	if opts.ReplyTimeout == 0 {
		opts.ReplyTimeout = 10 * time.Second
	}
	c := &Centre{opts: opts, log: opts.Logger, docks: map[string]*dockView{}, pending: map[string]chan Reply{},
		sorties: map[string][]SortieEvent{}, changed: make(chan struct{})}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	subscribed := make(chan error, 1)
	mo := mqtt.NewClientOptions().AddBroker(opts.BrokerURL).
		SetClientID(fmt.Sprintf("command-centre-%d", opts.Wall.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(true).SetOrderMatters(false)
	mo.SetOnConnectHandler(func(cl mqtt.Client) {
		// One wildcard per kind: the centre hears every dock on the broker
		// (docs/fleet.md: a cluster shares these among centre instances).
		tok := cl.SubscribeMultiple(map[string]byte{
			"dock/+/state": 1, "dock/+/events": 1, "dock/+/cmd/+/reply": 1,
		}, c.handle)
		go func() {
			tok.Wait()
			select {
			case subscribed <- tok.Error():
			default:
			}
		}()
	})
	c.client = mqtt.NewClient(mo)
	tok := c.client.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return nil, fmt.Errorf("command centre: connect %s: %w", opts.BrokerURL, err)
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("command centre: connect %s: %w", opts.BrokerURL, ctx.Err())
	}
	select {
	case err := <-subscribed:
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("command centre: subscribe on %s: %w", opts.BrokerURL, err)
		}
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("command centre: subscribe on %s: %w", opts.BrokerURL, ctx.Err())
	}
	return c, nil
}

// Close disconnects from the broker.
func (c *Centre) Close() { c.client.Disconnect(250) }

// handle is paho's callback: it decodes and files the message, never blocks.
func (c *Centre) handle(_ mqtt.Client, m mqtt.Message) {
	dockID, kind, ok := splitTopic(m.Topic())
	if !ok {
		return
	}
	now := c.opts.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch kind {
	case "state":
		r, err := DecodeReadiness(m.Payload())
		if err != nil {
			c.bad++
			c.log.Warn("dock state does not decode", "dock_id", dockID, "err", err)
			return
		}
		v := c.dock(dockID)
		v.ready, v.gates, v.stateAt = r.Ready, r.Gates, now
	case "events":
		ev, err := DecodeEvent(m.Payload())
		if err != nil {
			c.bad++
			c.log.Warn("dock event does not decode", "dock_id", dockID, "err", err)
			return
		}
		if ev.SortieID == "" {
			return
		}
		c.sorties[ev.SortieID] = append(c.sorties[ev.SortieID], SortieEvent{Type: ev.Type, Phase: ev.Phase, At: now, Raw: m.Payload()})
		if v := c.dock(dockID); ev.Type == "sortie.report" && v.busyUntilReport == ev.SortieID {
			v.busyUntilReport, v.freedAt = "", now
		}
	case "reply":
		r, err := DecodeReply(m.Payload())
		if err != nil {
			c.bad++
			c.log.Warn("command reply does not decode", "dock_id", dockID, "err", err)
			return
		}
		if ch, ok := c.pending[r.ID]; ok {
			delete(c.pending, r.ID)
			ch <- r // buffered 1, registered once: never blocks
		}
		return
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Centre) dock(id string) *dockView {
	v, ok := c.docks[id]
	if !ok {
		v = &dockView{}
		c.docks[id] = v
	}
	return v
}

// splitTopic cuts dock/<id>/state, dock/<id>/events and
// dock/<id>/cmd/<name>/reply.
func splitTopic(topic string) (dockID, kind string, ok bool) {
	parts := strings.Split(topic, "/")
	switch {
	case len(parts) == 3 && parts[0] == "dock" && (parts[2] == "state" || parts[2] == "events"):
		return parts[1], parts[2], true
	case len(parts) == 5 && parts[0] == "dock" && parts[2] == "cmd" && parts[4] == "reply":
		return parts[1], "reply", true
	}
	return "", "", false
}

// Readiness is the part of a dock's state the centre needs.
type Readiness struct {
	Ready bool              `json:"ready"`
	Gates []json.RawMessage `json:"gates"`
}

// DecodeReadiness reads state.readiness from a dock's retained state.
func DecodeReadiness(payload []byte) (Readiness, error) {
	var st struct {
		Readiness *Readiness `json:"readiness"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return Readiness{}, fmt.Errorf("state: %w", err)
	}
	if st.Readiness == nil {
		return Readiness{}, errors.New("state: no readiness")
	}
	if st.Readiness.Ready && len(st.Readiness.Gates) > 0 {
		return Readiness{}, fmt.Errorf("state: readiness ready with %d gates", len(st.Readiness.Gates))
	}
	return *st.Readiness, nil
}

// Event is the part of an event the centre needs.
type Event struct {
	Seq      uint64 `json:"seq"`
	Type     string `json:"type"`
	SortieID string `json:"sortie_id"`
	Phase    string `json:"phase"`
}

// DecodeEvent reads an event from a dock's events topic.
func DecodeEvent(payload []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Event{}, fmt.Errorf("event: %w", err)
	}
	if ev.Type == "" {
		return Event{}, errors.New("event: no type")
	}
	return ev, nil
}

// DecodeReply reads a command reply.
func DecodeReply(payload []byte) (Reply, error) {
	var r Reply
	if err := json.Unmarshal(payload, &r); err != nil {
		return Reply{}, fmt.Errorf("reply: %w", err)
	}
	if !r.OK && r.Error == nil {
		return Reply{}, errors.New("reply: not ok and no error")
	}
	return r, nil
}

// Send publishes command name to a dock and waits for its reply; rtt is
// the wall time from publish to reply. A refusal is a *ReplyError.
func (c *Centre) Send(ctx context.Context, dockID, name string, args map[string]any) (result json.RawMessage, rtt time.Duration, err error) {
	id := fmt.Sprintf("cc-%d", c.ids.Add(1))
	body := map[string]any{"id": id}
	for k, v := range args {
		body[k] = v
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s to %s: %w", name, dockID, err)
	}
	ch := make(chan Reply, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReplyTimeout)
	defer cancel()
	t0 := c.opts.Wall.Now()
	tok := c.client.Publish("dock/"+dockID+"/cmd/"+name, 1, false, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return nil, 0, fmt.Errorf("%s to %s: publish: %w", name, dockID, err)
		}
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("%s to %s: publish: %w", name, dockID, ctx.Err())
	}
	select {
	case r := <-ch:
		rtt = c.opts.Wall.Since(t0)
		if !r.OK {
			return nil, rtt, fmt.Errorf("%s to %s: %w", name, dockID, r.Error)
		}
		return r.Result, rtt, nil
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("%s to %s: no reply to %s: %w", name, dockID, id, ctx.Err())
	}
}

// ReadyDocks lists the docks whose latest state says ready and that the
// centre has not sent on a sortie still unreported, in id order.
func (c *Centre) ReadyDocks() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id, v := range c.docks {
		if v.ready && v.busyUntilReport == "" && v.stateAt.After(v.freedAt) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Known is how many docks have sent a state.
func (c *Centre) Known() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.docks)
}

// Bad is how many messages did not decode.
func (c *Centre) Bad() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bad
}

// reserve marks a dock busy with sortieID until its report.
func (c *Centre) reserve(dockID, sortieID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dock(dockID).busyUntilReport = sortieID
}

// Events returns the events of a sortie received so far.
func (c *Centre) Events(sortieID string) []SortieEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SortieEvent(nil), c.sorties[sortieID]...)
}

// Wait waits until cond holds, re-checking on every state or event.
func (c *Centre) Wait(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
