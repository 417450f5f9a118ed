package dock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/dock/fault"
	"github.com/jonboulle/clockwork"
)

// errNotRunning is returned by Controller methods called after Run returned.
var errNotRunning = errors.New("dock controller not running")

// Controller drives the dock hardware and guards it. One goroutine, the one
// running Run, owns all dock state: every input read, every output write,
// every interlock decision happens there. Other goroutines talk to it through
// methods that send a request over a channel and wait for the answer, and
// read immutable State snapshots (Snapshot, Subscribe). All methods are safe
// for concurrent use.
//
// The safety invariants of DESIGN.md §4 that concern the dock hardware are
// enforced here, not by callers: 1 (lid closes only over a docked or cleared
// vehicle), 2 (ArmPermitted), 3 (arms never move under an armed vehicle), 4
// (e-stop latch), 5 (charger only for a docked, disarmed vehicle), 6 (motion
// timeouts); for 7 it offers LidOpenEstimate and lid reversal.
type Controller struct {
	hw      Hardware
	outs    [numOutputs]namedOut
	opts    ControllerOptions
	clock   clockwork.Clock
	log     *slog.Logger
	sink    EventSink
	vehicle func() VehicleState

	reqs   chan request
	nudge  chan struct{}
	exited chan struct{}

	runMu   sync.Mutex // guards running and ran
	running bool
	ran     bool

	snap       atomic.Pointer[State]
	selfReport atomic.Pointer[report]
	lidOpenEst atomic.Int64 // ns; last measured lid opening, 0 none

	subMu sync.Mutex
	subs  map[*subscriber]struct{}

	extMu  sync.Mutex // guards ext and extVer
	ext    externals
	extVer uint64

	// Everything below is owned by the goroutine running Run.
	level        [numOutputs]bool
	in           inputs
	veh          VehicleState
	estopLatched bool
	estopNoted   bool                        // the release of a latched e-stop was reported
	faults       []Fault                     // active, oldest first
	faultsVer    uint64                      // bumped on every change of faults
	cleared      map[fault.Code]clearedFault // cleared faults, for FaultDamping
	lidConflict  bool                        // both lid limits closed at the last look
	armsConflict bool                        // both arms limits closed at the last look
	outFailed    [numOutputs]bool            // the last write of the output failed
	outBlocked   [numOutputs]bool            // the output was held off by its opposite
	auxFailSince [numOutputs]time.Time       // an auxiliary output's writes fail since (zero: they do not)
	mode         Mode
	chargerWant  bool
	heater, fan  bool
	strobeOn     bool
	strobeActive bool
	strobeOrigin time.Time
	lid, arms    *motion
	lastCut      [numOutputs]time.Time
	lastWatchdog time.Time
	lastTick     time.Time // when the inputs were last read
	settlers     []settler // the debounced inputs
	ended        []endedMotion
	unreported   bool // InputsChanged was closed: never rest
	lastView     view
	lastExtVer   uint64
	published    bool
	weatherStale bool
	inputsErr    error // InputsHealthy's last answer
}

// externals are the inputs other components feed without waiting for the
// loop (SetWeather, SetSortie, SetCircles, SetClockSynced).
type externals struct {
	weather     Weather
	insideC     *float64
	insideAt    time.Time
	sortie      *SortieRef
	circles     Circles
	readiness   Readiness
	clockSynced bool
}

// inputs are the logical levels read in one loop iteration.
type inputs struct {
	lidOpen, lidClosed        bool
	armsReleased, armsClamped bool
	charging                  bool
	estop                     bool
	mains                     bool
	rain                      bool
}

type request struct {
	fn   func(now time.Time)
	done chan struct{}
}

type subscriber struct{ ch chan State }

// NewController returns a Controller for hw. vehicle returns the latest
// vehicle snapshot (Vehicle.State fits) and is called from the loop every
// poll; it must not block. sink receives the durable events (fault,
// fault.cleared, estop, selftest, command.progress). Nothing moves and no pin
// is touched until Run.
func NewController(opts ControllerOptions, hw Hardware, vehicle func() VehicleState, sink EventSink) (*Controller, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := hw.validate(); err != nil {
		return nil, err
	}
	if vehicle == nil {
		return nil, errors.New("dock controller: no vehicle state source")
	}
	if sink == nil {
		return nil, errors.New("dock controller: no event sink")
	}
	c := &Controller{
		hw:      hw,
		outs:    hw.outputs(),
		opts:    opts,
		clock:   opts.Clock,
		log:     opts.Logger.With("component", "dock"),
		sink:    sink,
		vehicle: vehicle,
		reqs:    make(chan request),
		nudge:   make(chan struct{}, 1),
		exited:  make(chan struct{}),
		subs:    make(map[*subscriber]struct{}),
		cleared: make(map[fault.Code]clearedFault),
		mode:    opts.Mode,
	}
	c.ext.readiness = notChecked
	for _, in := range hw.inputs() {
		if s, ok := in.pin.(settler); ok {
			c.settlers = append(c.settlers, s)
		}
	}
	c.snap.Store(&State{Lid: LidUnknown, Arms: ArmsUnknown, Mode: opts.Mode, Faults: []Fault{}, Readiness: notChecked})
	return c, nil
}

// Run runs the self-test, reconciles with what the switches and the vehicle
// say, then owns the dock hardware until ctx ends. On return every output is
// de-energised and every pending motion has ended with ErrStopped. It returns
// nil when ctx ends; it may be called once.
func (c *Controller) Run(ctx context.Context) error {
	c.runMu.Lock()
	if c.ran {
		c.runMu.Unlock()
		return errors.New("dock controller: Run called twice")
	}
	c.ran, c.running = true, true
	c.runMu.Unlock()
	defer func() {
		c.runMu.Lock()
		c.running = false
		c.runMu.Unlock()
		close(c.exited)
	}()

	report := c.selfTest()
	timer := c.clock.NewTimer(c.opts.PollInterval)
	defer timer.Stop()
	// Start-up reconciliation: read every switch and the vehicle before
	// anything may move. Nothing is moved here: a half-open lid shows as
	// stopped, an airborne vehicle keeps whatever lid it has.
	c.tick()
	c.reportStartup(report)
	c.rearm(timer)

	changed := c.opts.InputsChanged // nil unless set: never ready
	for {
		select {
		case <-ctx.Done():
			c.shutdown()
			return nil
		case <-timer.Chan():
			c.tick()
		case _, ok := <-changed:
			if !ok { // closed: no more reports, so read every poll again
				changed, c.unreported = nil, true
			}
			c.tick()
		case r := <-c.reqs:
			// A tick that is due is handled first, so a request always
			// sees inputs at least as fresh as the poll interval, also
			// when the loop rests (IdleInterval).
			select {
			case <-timer.Chan():
				c.tick()
			default:
				if c.clock.Since(c.lastTick) >= c.opts.PollInterval {
					c.tick()
				}
			}
			// The vehicle as of now, whatever the loop's rhythm: a request
			// is judged by the interlocks on it (a lid must not close over
			// a vehicle whose link just dropped).
			c.veh = c.vehicle()
			now := c.clock.Now()
			r.fn(now)
			c.evaluate(now)
			c.rearm(timer) // before done: a caller stepping a fake clock next sees the timer set
			close(r.done)
			continue
		case <-c.nudge:
			c.publish(c.clock.Now())
			continue
		}
		c.rearm(timer)
	}
}

// rearm sets the loop's timer to the next time the loop must look.
func (c *Controller) rearm(t clockwork.Timer) {
	if !t.Stop() {
		select { // fired but not received: drop it, the loop just looked
		case <-t.Chan():
		default:
		}
	}
	t.Reset(c.wakeIn(c.clock.Now()))
}

// wakeIn is how long the loop may sleep: PollInterval while anything
// happens that the loop steers or times (a motion, a debounced input
// settling), or when the inputs do not report their changes; at rest up to
// IdleInterval, waking for the strobe's next edge and the watchdog.
func (c *Controller) wakeIn(now time.Time) time.Duration {
	poll := c.opts.PollInterval
	if c.opts.IdleInterval == 0 || c.unreported || c.lid != nil || c.arms != nil || c.settling() {
		return poll
	}
	d := c.opts.IdleInterval
	if c.strobeActive {
		half := c.opts.StrobePeriod / 2
		d = min(d, half-now.Sub(c.strobeOrigin)%half)
	}
	if c.opts.Watchdog != nil {
		d = min(d, c.lastWatchdog.Add(c.opts.WatchdogInterval).Sub(now))
	}
	return max(d, time.Millisecond)
}

// settling reports whether a debounced input has seen a change it has not
// reported yet: the loop must read it again within a poll to report it.
func (c *Controller) settling() bool {
	for _, s := range c.settlers {
		if s.Settling() {
			return true
		}
	}
	return false
}

// do runs fn on the loop goroutine and waits for it. fn must not block.
func (c *Controller) do(ctx context.Context, fn func(now time.Time)) error {
	r := request{fn: fn, done: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.exited:
		return errNotRunning
	}
	// Accepted: the loop runs fn at once and fn writes the caller's
	// variables, so wait for it whatever ctx does; returning early would
	// race with fn and hide an accepted request (a motion started) behind a
	// context error.
	<-r.done
	return nil
}

// tick reads every input and the vehicle, then evaluates.
func (c *Controller) tick() {
	now := c.clock.Now()
	c.lastTick = now
	c.readInputs()
	c.checkInputsHealthy()
	c.veh = c.vehicle()
	c.evaluate(now)
}

func (c *Controller) emit(t EventType, fields map[string]any) {
	if err := c.sink.Emit(Event{Type: t, Time: c.clock.Now(), Fields: fields}); err != nil {
		c.log.Error("event not stored", "type", string(t), "err", err)
	}
}

// shutdown ends every motion and cuts every output as Run returns.
func (c *Controller) shutdown() {
	c.endAll(fmt.Errorf("dock controller shutting down: %w", ErrStopped), ProgressCanceled)
	c.heater, c.fan, c.strobeOn = false, false, false
	c.publish(c.clock.Now())
	c.deliver()
	c.log.Info("dock controller stopped, outputs off")
}

// Halt de-energises every output (periph conn.Resource style). While Run
// runs it asks the loop, which also ends the motions; when the loop does
// not answer within a second, or no loop runs, it writes the pins itself:
// de-energising beats ownership.
func (c *Controller) Halt() error {
	c.runMu.Lock()
	running := c.running
	c.runMu.Unlock()
	if running {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := c.do(ctx, func(time.Time) {
			c.endAll(fmt.Errorf("halt: %w", ErrStopped), ProgressCanceled)
			c.heater, c.fan = false, false
		})
		if err == nil {
			return nil
		}
	}
	return c.hw.Halt()
}
