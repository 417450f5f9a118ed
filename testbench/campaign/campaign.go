package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
	"github.com/dockagent/dock-agent/testbench/world"
)

// Phases are the sortie phases a cell injects its fault in: the cell waits
// for the sortie.phase event naming it (DESIGN.md §4).
var Phases = []string{"launching", "airborne", "on_station", "returning", "landing", "securing"}

// Fault is one fault of the campaign: Inject breaks something, Undo (after
// Hold of simulated time) puts it right.
type Fault struct {
	Name string
	Hold time.Duration // simulated time between Inject and Undo
	// Inject and Undo act on the world; Undo may also send commands (reset).
	Inject func(ctx context.Context, c *Cell) error
	Undo   func(ctx context.Context, c *Cell) error
}

// Faults are the faults of issue 11, in matrix column order.
func Faults() []Fault {
	phys := func(f func(p *physics.Dock)) func(context.Context, *Cell) error {
		return func(_ context.Context, c *Cell) error { f(c.W.Physics); return nil }
	}
	unplug := func(dev string) Fault {
		return Fault{Name: "unplug_" + dev, Hold: 10 * time.Second,
			Inject: func(_ context.Context, c *Cell) error { return c.W.Unplug(dev) },
			Undo:   func(_ context.Context, c *Cell) error { return c.W.Replug(dev) }}
	}
	restart := func(name string, stop func(*world.World, context.Context) error) Fault {
		return Fault{Name: name, Hold: 5 * time.Second,
			Inject: func(ctx context.Context, c *Cell) error { return stop(c.W, ctx) },
			Undo:   func(ctx context.Context, c *Cell) error { return c.W.StartAgent(ctx) }}
	}
	return []Fault{
		{Name: "broker_stop", Hold: 60 * time.Second,
			Inject: func(_ context.Context, c *Cell) error {
				if c.W.Broker == nil {
					return errors.New("an external broker cannot be stopped by the bench")
				}
				return c.W.Broker.Stop()
			},
			Undo: func(_ context.Context, c *Cell) error { return c.W.Broker.Start() }},
		{Name: "link_drop", Hold: 20 * time.Second,
			Inject: func(_ context.Context, c *Cell) error { return c.W.DroneFault("link_drop", "20s") }},
		unplug("vehicle"),
		unplug("io"),
		{Name: "weather_silent", Hold: 60 * time.Second,
			Inject: func(_ context.Context, c *Cell) error {
				c.W.Weather.SetFaults(rtuslave.Faults{Silent: true})
				return nil
			},
			Undo: func(_ context.Context, c *Cell) error { c.W.Weather.SetFaults(rtuslave.Faults{}); return nil }},
		{Name: "lid_stuck", Hold: 60 * time.Second,
			Inject: phys(func(p *physics.Dock) { p.SetStuck(physics.AxisLid, true) }),
			Undo:   phys(func(p *physics.Dock) { p.SetStuck(physics.AxisLid, false) })},
		{Name: "limit_stuck", Hold: 60 * time.Second,
			Inject: phys(func(p *physics.Dock) { p.StickInput(physics.LidOpenLimit, false) }),
			Undo:   phys(func(p *physics.Dock) { p.ReleaseInput(physics.LidOpenLimit) })},
		{Name: "estop", Hold: 5 * time.Second,
			Inject: phys(func(p *physics.Dock) { p.SetEStop(true) }),
			Undo: func(ctx context.Context, c *Cell) error {
				c.W.Physics.SetEStop(false)
				return c.reset(ctx)
			}},
		{Name: "mains_lost", Hold: 60 * time.Second,
			Inject: phys(func(p *physics.Dock) { p.SetMains(false) }),
			Undo:   phys(func(p *physics.Dock) { p.SetMains(true) })},
		restart("agent_kill", (*world.World).KillAgent),
		restart("agent_term", (*world.World).StopAgent),
	}
}

// FaultByName finds a fault of Faults.
func FaultByName(name string) (Fault, bool) {
	for _, f := range Faults() {
		if f.Name == name {
			return f, true
		}
	}
	return Fault{}, false
}

// Cell is one run: a world, its observer and the sortie under test.
type Cell struct {
	W      *world.World
	Obs    *world.Observer
	Sortie string
	log    func(format string, args ...any)

	n int // requests sent by the cell

	mu     sync.Mutex
	tapped []world.Event // events as the broker received them (Broker.Tap)
}

// tap records every event the agent publishes, as the broker receives it.
func (c *Cell) tap() {
	if c.W.Broker == nil {
		return // an external broker: the observer hears the events
	}
	topic := c.W.Prefix() + "events"
	c.W.Broker.Tap(func(t string, payload []byte) {
		if t != topic {
			return
		}
		var ev world.Event
		if json.Unmarshal(payload, &ev) != nil {
			return
		}
		_ = json.Unmarshal(payload, &ev.Fields)
		c.mu.Lock()
		c.tapped = append(c.tapped, ev)
		c.mu.Unlock()
	})
}

// brokerEvents returns the events the broker received so far.
func (c *Cell) brokerEvents() []world.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]world.Event(nil), c.tapped...)
}

// sleepSim waits d of the world's simulated time.
func (c *Cell) sleepSim(ctx context.Context, d time.Duration) error {
	t := c.W.Clock().NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// within bounds a wait of d simulated time in wall time, with slack for a
// loaded machine.
func (c *Cell) within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(float64(d)/c.W.Clock().Speed())+10*time.Second)
}

// reset sends the reset command, retrying while the agent or broker is
// still coming back.
func (c *Cell) reset(ctx context.Context) error {
	var last error
	for range 5 {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rep, err := c.Obs.Send(sctx, "reset", nil)
		cancel()
		if err == nil {
			if !rep.OK && rep.Error != nil {
				c.log("reset -> %s: %s", rep.Error.Code, rep.Error.Message)
			}
			return nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("send reset: %w", last)
}

// Verdict is the result of one cell.
type Verdict struct {
	Phase, Fault string
	Pass         bool
	Reason       string // short: why it failed, or how it ended
	Outcome      string // the sortie report's outcome
	End          string // secured / fault:<reason> / estop latched
	Events       int
	// Redelivered counts events that arrived again with the same seq and
	// content: MQTT QoS 1 is at least once, and the outbox sends again
	// what the broker acknowledged just before a kill or an outage
	// (telemetry/outbox.go). A consumer drops them by seq.
	Redelivered int
	Wall        time.Duration
	Violations  []world.Violation
}

// Options of a campaign run.
type Options struct {
	Speed float64 // default 20
	// Dir is the parent of the cells' world directories; empty uses
	// temporary ones removed after each cell.
	Dir string
	Log func(format string, args ...any) // progress lines; nil discards
}

func (o Options) speed() float64 {
	if o.Speed == 0 {
		return 20
	}
	return o.Speed
}

// start builds the world of one cell and waits for the dock to be ready.
func start(ctx context.Context, o Options, name string) (*Cell, func(), error) {
	return startWith(ctx, o, name, nil)
}

// startWith is start with the world's options changed by edit (an
// external broker, a config edit) before the world starts.
func startWith(ctx context.Context, o Options, name string, edit func(*world.Options)) (*Cell, func(), error) {
	wo := world.Options{Speed: o.speed(), BrokerAddr: "127.0.0.1:0", GCS: "none"}
	if o.Dir != "" {
		wo.Dir = o.Dir + "/" + name
	}
	if edit != nil {
		edit(&wo)
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	w, err := world.Start(sctx, wo)
	if err != nil {
		return nil, nil, fmt.Errorf("start world for %s: %w", name, err)
	}
	obs, err := w.Observe(sctx)
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("observe world for %s: %w", name, err)
	}
	c := &Cell{W: w, Obs: obs, log: o.Log}
	c.tap()
	if c.log == nil {
		c.log = func(string, ...any) {}
	}
	closeFn := func() { obs.Close(); w.Close() }
	rctx, rcancel := c.within(ctx, 60*time.Second)
	defer rcancel()
	// The agent subscribes to its commands before it announces itself
	// online on `status`; `state` may come first, and a command sent then
	// would reach no subscriber.
	if err := obs.Wait(rctx, obs.ReadyToFly); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("%s: dock never ready (lid closed, vehicle linked with its battery known, GPS 3D fix, agent online): %w", name, err)
	}
	return c, closeFn, nil
}

// dispatch sends the campaign's standard alarm dispatch (850 m out, 30 s
// on station) and returns the sortie id.
func (c *Cell) dispatch(ctx context.Context) (string, error) {
	// A repeated id is answered again, never executed twice: resending
	// the same request is safe when a reply does not come.
	c.n++
	id := fmt.Sprintf("campaign-%d-%d", time.Now().UnixNano(), c.n)
	payload, _ := json.Marshal(map[string]any{"id": id, "lat": 24.3560, "lon": 102.5480, "loiter_s": 30, "priority": "alarm", "ref": "CAMPAIGN"})
	var rep world.Reply
	var err error
	for range 3 {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rep, err = c.Obs.SendRaw(sctx, "dispatch", id, payload)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return "", err
	}
	if !rep.OK {
		msg := "no error"
		if rep.Error != nil {
			msg = rep.Error.Code + ": " + rep.Error.Message
		}
		return "", fmt.Errorf("dispatch refused: %s", msg)
	}
	var res struct {
		SortieID string `json:"sortie_id"`
	}
	if err := json.Unmarshal(rep.Result, &res); err != nil || res.SortieID == "" {
		return "", fmt.Errorf("dispatch reply without sortie_id: %s", rep.Result)
	}
	return res.SortieID, nil
}

// waitEvent waits up to d simulated time for an event of typ about the
// cell's sortie whose fields contain want.
func (c *Cell) waitEvent(ctx context.Context, d time.Duration, typ string, want map[string]string) (world.Event, error) {
	wctx, cancel := c.within(ctx, d)
	defer cancel()
	// Events as the broker received them: a subscriber misses what is
	// published while it reconnects after a broker restart.
	match := func(ev world.Event) bool {
		if ev.Type != typ || ev.Fields["sortie_id"] != c.Sortie {
			return false
		}
		for k, v := range want {
			if fmt.Sprint(ev.Fields[k]) != v {
				return false
			}
		}
		return true
	}
	var ev world.Event
	err := c.Obs.Wait(wctx, func() bool {
		for _, e := range c.brokerEvents() {
			if match(e) {
				ev = e
				return true
			}
		}
		return false
	})
	if err != nil {
		return ev, fmt.Errorf("no %s %v for sortie %s within %v", typ, want, c.Sortie, d)
	}
	return ev, nil
}

// endState classifies the dock's state: "secured", a named fault, or "".
func endState(st map[string]any) string {
	if st == nil {
		return ""
	}
	if f, _ := st["fault"].(string); f != "" {
		return "fault: " + f
	}
	if st["estop_latched"] == true {
		return "estop latched"
	}
	if st["lid"] == "closed" && st["arms"] == "clamped" && world.Lookup(st, "vehicle.armed") == false && world.Lookup(st, "vehicle.landed") == true {
		return "secured"
	}
	return ""
}

func brief(st map[string]any) string {
	if st == nil {
		return "no state"
	}
	return fmt.Sprintf("lid=%v arms=%v armed=%v landed=%v link=%v fault=%q", st["lid"], st["arms"],
		world.Lookup(st, "vehicle.armed"), world.Lookup(st, "vehicle.landed"), world.Lookup(st, "vehicle.link"), st["fault"])
}

// settle waits for the dock to end secured or in a named fault; a named
// fault is then reset once, and the dock is given the time to secure.
func (c *Cell) settle(ctx context.Context, v *Verdict) {
	wctx, cancel := c.within(ctx, 3*time.Minute)
	_ = c.Obs.Wait(wctx, func() bool { return endState(c.Obs.State()) != "" })
	cancel()
	end := endState(c.Obs.State())
	v.End = end
	if end == "" {
		v.Reason = "dock neither secured nor in a named fault: " + brief(c.Obs.State())
		return
	}
	if end == "secured" {
		v.Pass = true
		return
	}
	// A fault the campaign caused: a reset should bring the dock home.
	if err := c.reset(ctx); err != nil {
		v.Pass = true
		v.Reason = end + "; " + err.Error()
		return
	}
	wctx, cancel = c.within(ctx, 3*time.Minute)
	defer cancel()
	if c.Obs.Wait(wctx, func() bool { return endState(c.Obs.State()) == "secured" }) == nil {
		v.End = end + " -> reset -> secured"
	} else {
		v.End = end + " -> reset -> " + brief(c.Obs.State())
	}
	v.Pass = true
}

// RunCell runs one cell: dispatch, wait for phase, inject f, undo it after
// its hold, wait for the sortie report, check the verdict.
func RunCell(ctx context.Context, o Options, phase string, f Fault) (v Verdict) {
	wall := time.Now()
	v = Verdict{Phase: phase, Fault: f.Name}
	defer func() { v.Wall = time.Since(wall) }()
	c, closeFn, err := start(ctx, o, phase+"-"+f.Name)
	if err != nil {
		v.Reason = err.Error()
		return v
	}
	defer closeFn()
	c.log = func(format string, args ...any) {
		if o.Log != nil {
			o.Log("[%s x %s] %s", phase, f.Name, fmt.Sprintf(format, args...))
		}
	}
	v = c.run(ctx, phase, f, v)
	return v
}

func (c *Cell) run(ctx context.Context, phase string, f Fault, v Verdict) Verdict {
	fail := func(format string, args ...any) Verdict {
		v.Pass = false
		v.Reason = fmt.Sprintf(format, args...)
		c.finish(&v)
		return v
	}
	id, err := c.dispatch(ctx)
	if err != nil {
		return fail("%v", err)
	}
	c.Sortie = id
	if _, err := c.waitEvent(ctx, 10*time.Minute, "sortie.phase", map[string]string{"phase": phase}); err != nil {
		return fail("%v", err)
	}
	c.log("phase %s: inject %s for %v", phase, f.Name, f.Hold)
	if err := c.inject(ctx, f); err != nil {
		return fail("inject %s: %v", f.Name, err)
	}
	rep, err := c.waitEvent(ctx, 20*time.Minute, "sortie.report", nil)
	if err != nil {
		return fail("%v (%s)", err, brief(c.Obs.State()))
	}
	v.Outcome = fmt.Sprint(rep.Fields["outcome"])
	if v.Outcome == "" || v.Outcome == "<nil>" {
		return fail("sortie.report without an outcome")
	}
	c.settle(ctx, &v)
	c.finish(&v)
	return v
}

// inject applies the fault, holds it, and undoes it.
func (c *Cell) inject(ctx context.Context, f Fault) error {
	if err := f.Inject(ctx, c); err != nil {
		return err
	}
	if err := c.sleepSim(ctx, f.Hold); err != nil {
		return err
	}
	if f.Undo != nil {
		return f.Undo(ctx, c)
	}
	return nil
}

// finish adds the whole-run checks: invariants and event delivery.
func (c *Cell) finish(v *Verdict) {
	c.W.Witness().Check()
	v.Violations = c.W.Witness().Violations()
	v.Events = len(c.Obs.Events())
	if len(v.Violations) > 0 {
		v.Pass = false
		v.Reason = "invariant: " + v.Violations[0].String() + prefixed(v.Reason)
	}
	dups, err := checkEvents(c.brokerEvents())
	v.Redelivered = dups
	if err != nil {
		v.Pass = false
		v.Reason = "events: " + strings.ReplaceAll(err.Error(), "\n", "; ") + prefixed(v.Reason)
	}
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// checkEvents verifies the delivery promise on the events in arrival
// order: seq strictly increasing with no gap, except that an event may
// arrive again with the same seq and the same content (a redelivery, which
// it counts). Any other repeat, a reordering or a gap is an error.
func checkEvents(evs []world.Event) (redelivered int, err error) {
	var errs []error
	bySeq := map[uint64]world.Event{}
	var top uint64
	for i, ev := range evs {
		if prev, ok := bySeq[ev.Seq]; ok {
			if !reflect.DeepEqual(prev.Fields, ev.Fields) {
				errs = append(errs, fmt.Errorf("event seq %d arrived twice with different content (%s, then %s)", ev.Seq, prev.Type, ev.Type))
			}
			redelivered++
			continue
		}
		switch {
		case i > 0 && ev.Seq < top:
			errs = append(errs, fmt.Errorf("event seq %d after %d: out of order", ev.Seq, top))
		case i > 0 && ev.Seq > top+1:
			errs = append(errs, fmt.Errorf("events seq %d..%d never arrived", top+1, ev.Seq-1))
		}
		bySeq[ev.Seq] = ev
		top = max(top, ev.Seq)
	}
	return redelivered, errors.Join(errs...)
}

// online reports whether the agent announced itself online on `status`.
