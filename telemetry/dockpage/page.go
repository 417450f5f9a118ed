package dockpage

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/dockagent/dock-agent/telemetry/metrics"
)

// MaxEvents is how many of the latest events the page shows.
const MaxEvents = 50

//go:embed assets
var assets embed.FS

// Options configure NewPage. Zero values take the defaults named.
type Options struct {
	// DockID is shown in the page's title and header. Required.
	DockID string
	// Map is the fixed geometry drawn under the live parts.
	Map Map
	// VehiclePeriod is how often the vehicle's telemetry goes to open pages;
	// zero means 1 s.
	VehiclePeriod time.Duration
	// Keepalive is how often an idle stream gets a comment line, so that a
	// proxy keeps it open and a vanished client is noticed; zero means 15 s.
	Keepalive time.Duration
	// ClientQueue is how many messages may wait for one page before it
	// counts as too slow and is dropped; zero means 32.
	ClientQueue int
	// MaxClients bounds the open streams; one more is answered 503. Zero
	// means 16.
	MaxClients int
	// Clock drives the vehicle ticks and keepalives; nil is the real clock.
	Clock clockwork.Clock
	// Logger receives the page's logs; nil discards them.
	Logger *slog.Logger
}

// Point is a WGS84 position in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Route is a patrol route as drawn: its waypoints in order (the page adds
// the legs from and back to the dock).
type Route struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Map is what the page draws that does not change while the agent runs.
// The response circles are not here: their radii come live with the state.
type Map struct {
	Dock Point `json:"dock"`
	// Geofence is the fence polygon's vertices (not closed), or empty.
	Geofence []Point `json:"geofence,omitempty"`
	// GeofenceRadiusM is the fence as a circle round the dock, used when
	// Geofence is empty; zero is no fence.
	GeofenceRadiusM float64 `json:"geofence_radius_m,omitempty"`
	Routes          []Route `json:"routes"`
}

// StateSource gives the dock state: Subscribe's channel receives a value
// on every change (a slow reader may miss values; Snapshot has the newest)
// and its func ends the subscription. dock.Controller fits.
type StateSource interface {
	Subscribe() (<-chan dock.State, func())
	Snapshot() dock.State
}

// VehicleSource returns the latest vehicle state; it must not block.
type VehicleSource func() dock.VehicleState

// ErrTooManyClients is the answer to a stream beyond MaxClients.
var ErrTooManyClients = errors.New("too many dock pages open")

// errStopped is the answer to a stream after Run has ended.
var errStopped = errors.New("dock page stopped")

// Page serves the dock page and its live stream. Handler may serve before
// Run is called (the page then shows the state as it is at load time);
// Run feeds state changes and telemetry to open pages. Safe for concurrent
// use.
type Page struct {
	o       Options
	state   StateSource
	vehicle VehicleSource
	log     *slog.Logger
	index   []byte

	// mu orders everything a page receives: an event, a state or a
	// telemetry message is made and queued to every client under it, and
	// a new client's first message is made under it too, so a page misses
	// nothing and sees nothing twice or out of order.
	mu      sync.Mutex
	clients map[*client]struct{}
	events  []json.RawMessage // the newest MaxEvents, oldest first
	stopped bool

	dropped atomic.Uint64
}

// client is one open stream.
type client struct {
	ch   chan []byte   // frames to write, in order
	gone chan struct{} // closed when the page drops the client
	// cut makes a write in progress return at once, so that a client
	// whose connection is stuck does not hold its handler.
	cut func()
}

// NewPage prepares the page of dock o.DockID, reading the dock's state from
// state and the vehicle's from vehicle.
func NewPage(o Options, state StateSource, vehicle VehicleSource) (*Page, error) {
	if o.DockID == "" {
		return nil, errors.New("dock page: no dock id")
	}
	if state == nil || vehicle == nil {
		return nil, errors.New("dock page: state and vehicle sources are required")
	}
	if o.VehiclePeriod <= 0 {
		o.VehiclePeriod = time.Second
	}
	if o.Keepalive <= 0 {
		o.Keepalive = 15 * time.Second
	}
	if o.ClientQueue <= 0 {
		o.ClientQueue = 32
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 16
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Map.Routes == nil {
		o.Map.Routes = []Route{}
	}
	tpl, err := template.ParseFS(assets, "assets/index.html")
	if err != nil {
		return nil, fmt.Errorf("dock page: parse embedded index.html: %w", err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, struct{ DockID string }{o.DockID}); err != nil {
		return nil, fmt.Errorf("dock page: render index.html: %w", err)
	}
	return &Page{
		o: o, state: state, vehicle: vehicle, log: o.Logger.With("component", "page"),
		index: b.Bytes(), clients: map[*client]struct{}{},
	}, nil
}

// Dropped is how many clients were dropped for falling behind.
func (p *Page) Dropped() uint64 { return p.dropped.Load() }

// Clients is how many streams are open.
func (p *Page) Clients() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// Run sends every state change, and the vehicle's telemetry every
// VehiclePeriod, to the open pages until ctx ends; then it ends every
// stream and returns nil. Run starts no goroutine and may be called once.
func (p *Page) Run(ctx context.Context) error {
	updates, unsubscribe := p.state.Subscribe()
	defer unsubscribe()
	t := p.o.Clock.NewTicker(p.o.VehiclePeriod)
	defer t.Stop()
	defer p.stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-updates:
			if !ok {
				updates = nil
			}
			p.mu.Lock()
			if len(p.clients) > 0 {
				p.broadcast(p.frame("state", stateView(p.state.Snapshot())))
			}
			p.mu.Unlock()
		case <-t.Chan():
			p.mu.Lock()
			if len(p.clients) > 0 {
				p.broadcast(p.frame("vehicle", vehicleView(p.vehicle(), p.o.Clock.Now())))
			}
			p.mu.Unlock()
		}
	}
}

// stop ends every stream and refuses new ones.
func (p *Page) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for c := range p.clients {
		p.drop(c)
	}
}

// EventSink wraps next: an event next stored is also shown on the page.
// It never blocks beyond next.Emit: slow pages are dropped, not waited for.
func (p *Page) EventSink(next dock.EventSink) dock.EventSink {
	return eventSink{p: p, next: next}
}

type eventSink struct {
	p    *Page
	next dock.EventSink
}

func (s eventSink) Emit(e dock.Event) error {
	if err := s.next.Emit(e); err != nil {
		return err
	}
	s.p.addEvent(e)
	return nil
}

// addEvent keeps e among the latest events and sends it to open pages.
func (p *Page) addEvent(e dock.Event) {
	at := e.Time
	if at.IsZero() {
		at = p.o.Clock.Now()
	}
	m := make(map[string]any, len(e.Fields)+2)
	for k, v := range e.Fields {
		m[k] = v
	}
	m["ts"] = at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	m["type"] = string(e.Type)
	b, err := contract.Marshal(m)
	if err != nil {
		// The outbox has stored it; only the page goes without it.
		p.log.Warn("event not shown on the page: encode", "type", string(e.Type), "err", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.events) == MaxEvents {
		copy(p.events, p.events[1:])
		p.events = p.events[:MaxEvents-1]
	}
	p.events = append(p.events, b)
	if len(p.clients) > 0 {
		p.broadcast(p.frame("event", json.RawMessage(b)))
	}
}

// join registers a new client and returns it with its first frame, the
// whole view. p.mu is held, so nothing sent after is already in it.
func (p *Page) join(cut func()) (*client, []byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, nil, errStopped
	}
	if len(p.clients) >= p.o.MaxClients {
		return nil, nil, ErrTooManyClients
	}
	c := &client{ch: make(chan []byte, p.o.ClientQueue), gone: make(chan struct{}), cut: cut}
	p.clients[c] = struct{}{}
	return c, p.frame("init", p.viewLocked()), nil
}

// leave removes c after its stream ended.
func (p *Page) leave(c *client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.clients, c)
}

// broadcast queues f to every client without waiting: a client whose queue
// is full is dropped. p.mu must be held.
func (p *Page) broadcast(f []byte) {
	if f == nil {
		return
	}
	for c := range p.clients {
		select {
		case c.ch <- f:
		default:
			p.drop(c)
			p.dropped.Add(1)
			p.log.Info("dock page dropped: it fell behind", "queued", cap(c.ch))
		}
	}
}

// drop ends c's stream. p.mu must be held.
func (p *Page) drop(c *client) {
	delete(p.clients, c)
	close(c.gone)
	if c.cut != nil {
		c.cut()
	}
}

// frame is one server-sent event of the given name with v as JSON data,
// or nil (logged) when v does not encode.
func (p *Page) frame(name string, v any) []byte {
	b, err := contract.Marshal(v)
	if err != nil {
		p.log.Warn("dock page message not sent: encode", "message", name, "err", err)
		return nil
	}
	// json.Marshal writes no newline, so the data is one line.
	f := make([]byte, 0, len(name)+len(b)+16)
	f = append(f, "event: "...)
	f = append(f, name...)
	f = append(f, "\ndata: "...)
	f = append(f, b...)
	return append(f, "\n\n"...)
}

// view is the page's whole content: the first message of a stream and
// the /page/view.json document.
type view struct {
	DockID  string            `json:"dock_id"`
	Map     Map               `json:"map"`
	State   stateMsg          `json:"state"`
	Vehicle vehicleMsg        `json:"vehicle"`
	Events  []json.RawMessage `json:"events"`
}

func (p *Page) viewLocked() view {
	ev := make([]json.RawMessage, len(p.events))
	copy(ev, p.events)
	return view{
		DockID: p.o.DockID, Map: p.o.Map, State: stateView(p.state.Snapshot()),
		Vehicle: vehicleView(p.vehicle(), p.o.Clock.Now()), Events: ev,
	}
}

// stateMsg is the dock state with its readiness, judged as /readyz does.
type stateMsg struct {
	Dock     dock.State        `json:"dock"`
	Ready    bool              `json:"ready"`
	Blocking []metrics.Blocker `json:"blocking"`
}

func stateView(s dock.State) stateMsg {
	b := metrics.Readiness(s)
	if b == nil {
		b = []metrics.Blocker{}
	}
	return stateMsg{Dock: s, Ready: len(b) == 0, Blocking: b}
}

// vehicleMsg is the vehicle's telemetry with the names of the `telemetry`
// topic (docs/mqtt-api.md), plus the link and landed state. Battery pct is
// null while unknown.
type vehicleMsg struct {
	TS             string   `json:"ts"`
	Link           bool     `json:"link"`
	Landed         string   `json:"landed"`
	Lat            float64  `json:"lat"`
	Lon            float64  `json:"lon"`
	AltM           float64  `json:"alt_m"`
	RelAltM        float64  `json:"rel_alt_m"`
	HeadingDeg     float64  `json:"heading_deg"`
	GroundSpeedMPS float64  `json:"ground_speed_mps"`
	ClimbMPS       float64  `json:"climb_mps"`
	Mode           string   `json:"mode"`
	Armed          bool     `json:"armed"`
	BatteryPct     *float64 `json:"battery_pct"`
	VoltageV       float64  `json:"voltage_v"`
	CurrentA       float64  `json:"current_a"`
	GPSFix         int      `json:"gps_fix"`
	Sats           int      `json:"sats"`
	HDOP           float64  `json:"hdop"`
	LossPct        float64  `json:"loss_pct"`
	RSSI           int      `json:"rssi"`
}

func vehicleView(v dock.VehicleState, now time.Time) vehicleMsg {
	m := vehicleMsg{
		TS: now.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Link: v.Link, Landed: landedName(v.Landed),
		Lat: v.Lat, Lon: v.Lon, AltM: v.AltM, RelAltM: v.RelAltM, HeadingDeg: v.HeadingDeg,
		GroundSpeedMPS: v.GroundSpeedMPS, ClimbMPS: v.ClimbMPS, Mode: v.Mode, Armed: v.Armed,
		VoltageV: v.VoltageV, CurrentA: v.CurrentA, GPSFix: v.GPSFix, Sats: v.Sats, HDOP: v.HDOP,
		LossPct: v.LossPct, RSSI: v.RSSI,
	}
	if v.BatteryPct >= 0 {
		pct := v.BatteryPct
		m.BatteryPct = &pct
	}
	return m
}

// landedName names MAVLink MAV_LANDED_STATE for people.
func landedName(l dock.LandedState) string {
	switch l {
	case dock.LandedOnGround:
		return "on_ground"
	case dock.LandedInAir:
		return "in_air"
	case dock.LandedTakeoff:
		return "taking_off"
	case dock.LandedLanding:
		return "landing"
	}
	return "unknown"
}
