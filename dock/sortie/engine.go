package sortie

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/circle"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/schedule"
)

// ErrNotRunning is returned by the command methods while Run is not
// running.
var ErrNotRunning = errors.New("sortie engine not running")

// Engine runs sorties. Create it with New and call Run once; its command
// methods (commands.go) are safe for concurrent use from any goroutine.
type Engine struct {
	opts   Options
	clock  clockwork.Clock
	log    *slog.Logger
	hw     Hardware
	veh    dock.Vehicle
	sink   dock.EventSink
	store  *store
	home   route.Point
	fence  route.Geofence
	energy route.Energy
	lim    route.Limits
	launch *circle.LaunchEstimator
	learn  learned
	sched  *schedule.Scheduler

	calls   chan call
	results chan func(now time.Time)
	exited  chan struct{}
	runMu   sync.Mutex
	running bool
	ran     bool

	// schedMu guards entries and lastRun, shared with the scheduler's
	// callbacks and schedule.put; it is never held while waiting.
	schedMu sync.Mutex
	entries []schedule.Entry
	lastRun map[string]time.Time

	// Owned by the loop goroutine.
	// stopping is closed when Run's ctx ends: jobs are canceled by it
	// (a channel, since contexts are passed, never kept).
	stopping    chan struct{}
	jobs        sync.WaitGroup
	routes      map[string]route.Route
	fromConfig  map[string]bool
	active      *sortie
	queue       []*sortie
	battery     string    // "ready" or "storage"
	idleJob     bool      // an idle securing job runs
	unsecured   bool      // the dock is left open: turnaround, or a securing that failed
	secureAt    time.Time // no idle securing before this (retry back-off)
	recoverBy   time.Time
	lastCircles circleKey
	staged      *staging // an alert holds the dock open for a dispatch
	// lastReadiness is what the controller was last given.
	lastReadiness dock.Readiness
	readinessSet  bool
	readinessKey  readinessKey
	queueKey      string // the queue as last stored (its sortie ids)
	lastID        string
	idSeq         int
}

type call struct {
	fn   func(now time.Time)
	done chan struct{}
}

type circleKey struct {
	wind, dir    float64
	speed, climb float64
	launch       time.Duration
}

// New returns an Engine: it reads the routes of the config (and their plan
// files), the routes, schedules, battery mode and launch times stored in
// StateDir, and prepares the scheduler. Nothing moves until Run.
func New(opts Options) (*Engine, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := newStore(opts.StateDir)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		opts:       opts,
		clock:      opts.Clock,
		log:        opts.Logger.With("component", "sortie", "dock_id", opts.DockID),
		hw:         opts.Hardware,
		veh:        opts.Vehicle,
		sink:       opts.Events,
		store:      st,
		home:       route.Point{Lat: opts.Dock.Lat, Lon: opts.Dock.Lon},
		energy:     opts.Energy,
		lim:        route.Limits{MaxAltM: opts.Limits.MaxAltM},
		calls:      make(chan call),
		results:    make(chan func(time.Time), 16),
		exited:     make(chan struct{}),
		routes:     map[string]route.Route{},
		fromConfig: map[string]bool{},
		lastRun:    map[string]time.Time{},
		battery:    opts.Flight.ChargeTarget,
	}
	if e.battery != "storage" {
		e.battery = "ready"
	}
	e.fence = fenceOf(opts)
	if err := e.loadRoutes(); err != nil {
		return nil, err
	}
	if err := e.loadSchedules(); err != nil {
		return nil, err
	}
	var bm struct {
		Mode string `json:"mode"`
	}
	if ok := e.readState(fileBattery, &bm); ok && (bm.Mode == "ready" || bm.Mode == "storage") {
		e.battery = bm.Mode
	}
	var samples []float64
	e.readState(fileLaunch, &samples)
	durs := make([]time.Duration, len(samples))
	for i, s := range samples {
		durs[i] = time.Duration(s * float64(time.Second))
	}
	e.readState(fileModel, &e.learn)
	e.learn.normalise()
	e.launch = circle.NewLaunchEstimator(circle.LaunchOptions{Configured: opts.Flight.LaunchTime}, durs...)
	sched, err := schedule.NewScheduler(schedule.Options{
		Clock: opts.Clock, Entries: e.entries, LastRun: e.lastRun, Retry: opts.ScheduleRetry,
		Logger: e.log.With("component", "schedule"),
	}, e.scheduledLaunch, e.scheduleMissed)
	if err != nil {
		return nil, fmt.Errorf("new sortie engine: %w", err)
	}
	e.sched = sched
	return e, nil
}

func fenceOf(o Options) route.Geofence {
	g := route.Geofence{MaxAltM: o.Limits.MaxAltM}
	if len(o.Limits.Geofence.Polygon) >= 3 {
		for _, v := range o.Limits.Geofence.Polygon {
			g.Polygon = append(g.Polygon, route.Point{Lat: v[0], Lon: v[1]})
		}
		return g
	}
	g.Center = route.Point{Lat: o.Dock.Lat, Lon: o.Dock.Lon}
	g.RadiusM = o.Limits.Geofence.RadiusM
	if g.RadiusM <= 0 {
		g.RadiusM = 5000
	}
	return g
}

// Run recovers an interrupted sortie, then runs sorties, the scheduler,
// the charger control and the response circles until ctx ends. It returns
// nil then, after every goroutine it started has returned; a vehicle in
// the air is sent nothing on shutdown. It may be called once.
func (e *Engine) Run(ctx context.Context) error {
	e.runMu.Lock()
	if e.ran {
		e.runMu.Unlock()
		return errors.New("sortie engine: Run called twice")
	}
	e.ran, e.running = true, true
	e.runMu.Unlock()
	defer func() {
		e.runMu.Lock()
		e.running = false
		e.runMu.Unlock()
		close(e.exited)
	}()

	ctx, cancel := context.WithCancel(ctx)
	e.stopping = make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		cancel()
		close(e.stopping)
		e.drain()
		wg.Wait()
	}()
	wg.Go(func() {
		if err := e.sched.Run(ctx); err != nil {
			e.log.Error("scheduler stopped", "err", err)
		}
	})

	now := e.clock.Now()
	e.loadActive(now)
	e.loadQueue(now)
	e.updateCircles(true)
	// Readiness follows the dock's state at once (an e-stop, a fault, the
	// vehicle's link) and the rest on the tick.
	changes, unsubscribe := e.hw.Subscribe()
	defer unsubscribe()
	ticker := e.clock.NewTicker(e.opts.Tick)
	defer ticker.Stop()
	e.tick(ctx, now)
	e.updateReadiness(now)
	for {
		select {
		case <-ctx.Done():
			return nil
		case st := <-changes:
			// Only what the dock itself says is followed at once; the
			// readings (battery, weather, GPS) on the tick.
			if k := readinessKeyOf(st); k != e.readinessKey {
				e.readinessKey = k
				e.updateReadiness(e.clock.Now())
			}
		case <-ticker.Chan():
			e.tick(ctx, e.clock.Now())
			e.saveQueue()
			e.updateReadiness(e.clock.Now())
		case c := <-e.calls:
			c.fn(e.clock.Now())
			// A dispatch is answered "queued" only once the queue is on
			// disk: an accepted alarm survives a restart.
			e.saveQueue()
			e.updateReadiness(e.clock.Now())
			close(c.done)
		case r := <-e.results:
			r(e.clock.Now())
			e.saveQueue()
			e.updateReadiness(e.clock.Now())
		}
	}
}

// drain waits for the jobs after ctx ended, discarding their results.
func (e *Engine) drain() {
	done := make(chan struct{})
	go func() { e.jobs.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		case <-e.results:
		}
	}
}

// do runs fn on the loop goroutine and waits for it.
func (e *Engine) do(ctx context.Context, fn func(now time.Time)) error {
	c := call{fn: fn, done: make(chan struct{})}
	select {
	case e.calls <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.exited:
		return ErrNotRunning
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		// The loop runs fn to its end without waiting; wait for it so
		// the caller never reads results being written.
		<-c.done
		return nil
	}
}

// job runs fn in a goroutine of Run with a ctx canceled by the returned
// func or by Run's end; the func fn returns then runs on the loop. It is
// called on the loop only.
func (e *Engine) job(fn func(ctx context.Context) func(now time.Time)) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	stopping := e.stopping
	e.jobs.Go(func() {
		defer cancel()
		go func() {
			select {
			case <-stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		r := fn(ctx)
		if r == nil {
			return
		}
		select {
		case e.results <- r:
		case <-stopping:
		}
	})
	return cancel
}

// emit stores a durable event; a sink that cannot store it is logged.
func (e *Engine) emit(t dock.EventType, now time.Time, fields map[string]any) {
	if err := e.sink.Emit(dock.Event{Type: t, Time: now, Fields: fields}); err != nil {
		e.log.Error("event not stored", "type", string(t), "err", err)
	}
}

// readState reads one state file. A damaged file must not keep the agent
// from starting (a vehicle may be in the air): it is logged, moved aside
// and the engine goes on without it.
func (e *Engine) readState(name string, v any) bool {
	ok, err := e.store.read(name, v)
	if err == nil {
		return ok
	}
	e.log.Error("state file damaged: moved aside, going on without it", "file", name, "err", err)
	if qerr := e.store.quarantine(name); qerr != nil {
		e.log.Error("damaged state file not moved aside", "file", name, "err", qerr)
	}
	return false
}

// newID returns a sortie id unique across restarts on a monotonic clock:
// the kind's letter and the UTC time to the millisecond.
func (e *Engine) newID(kind dock.SortieKind, now time.Time) string {
	p := "p"
	if kind == dock.KindDispatch {
		p = "d"
	}
	id := p + "-" + now.UTC().Format("20060102T150405.000Z")
	if id == e.lastID {
		e.idSeq++
		return fmt.Sprintf("%s-%d", id, e.idSeq)
	}
	e.lastID, e.idSeq = id, 0
	return id
}

// weather returns the wind of the latest weather reading.
func windOf(st dock.State) route.Wind {
	return route.Wind{SpeedMPS: st.Weather.WindMPS, FromDeg: st.Weather.DirDeg}
}

// updateCircles keeps the controller's response circles current: they
// are recomputed when the wind (to 0.5 m/s and 10°: the station's noise
// must not redraw them) or the launch estimate changed.
func (e *Engine) updateCircles(force bool) {
	st := e.hw.Snapshot()
	p := e.circleParams()
	w := windOf(st)
	w.SpeedMPS = math.Round(w.SpeedMPS*2) / 2
	w.FromDeg = math.Mod(math.Round(w.FromDeg/10)*10, 360)
	k := circleKey{wind: w.SpeedMPS, dir: w.FromDeg, speed: p.AirspeedMPS, climb: p.ClimbMPS, launch: p.Launch}
	if !force && k == e.lastCircles {
		return
	}
	e.lastCircles = k
	e.hw.SetCircles(dock.Circles{RadiiM: p.Radii(), GeoJSON: p.GeoJSON(w, 64)})
}
