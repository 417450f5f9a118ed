package dock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// ErrNotRunning is returned by Controller methods called after Run returned.
var ErrNotRunning = errors.New("dock controller not running")

// ErrPowerLost is why motions are refused or cut while mains power is
// missing: the motors cannot run on battery backup.
var ErrPowerLost = errors.New("mains power lost: motors cannot run on battery backup")

// ErrStopped ends a motion that was stopped by a request (a stop, a reversal
// or the controller shutting down) before it arrived.
var ErrStopped = errors.New("motion stopped")

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
	selfReport atomic.Pointer[Report]
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
	estopNoted   bool                       // the release of a latched e-stop was reported
	faults       []Fault                    // active, oldest first
	faultsVer    uint64                     // bumped on every change of faults
	cleared      map[FaultCode]clearedFault // cleared faults, for FaultDamping
	lidConflict  bool                       // both lid limits closed at the last look
	armsConflict bool                       // both arms limits closed at the last look
	outFailed    [numOutputs]bool           // the last write of the output failed
	outBlocked   [numOutputs]bool           // the output was held off by its opposite
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
		cleared: make(map[FaultCode]clearedFault),
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
		return ErrNotRunning
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

// checkInputsHealthy faults the dock and ends every motion while the inputs
// cannot be trusted: a motion steered by stale limit switches could run
// into an end stop or over the vehicle. Unlike a mechanical fault this one
// clears itself once the inputs read again: nothing broke, the dock only
// could not see, and the motions it stopped stay stopped.
func (c *Controller) checkInputsHealthy() {
	if c.opts.InputsHealthy == nil {
		return
	}
	c.inputsErr = c.opts.InputsHealthy()
	if c.inputsErr == nil {
		if c.clearFault(FaultIOModuleSilent, "inputs readable again", false) {
			c.log.Info("inputs readable again")
		}
		return
	}
	reason := "inputs: " + c.inputsErr.Error()
	if i := c.faultIndex(FaultIOModuleSilent); i < 0 {
		c.raise(FaultIOModuleSilent, reason) // also again after a reset while the inputs stay unreadable
	} else if c.faults[i].Message != reason {
		c.log.Warn("inputs still unreadable", "fault", reason)
		c.faults[i].Message = reason
		c.faultsVer++
	}
	for _, mp := range []**motion{&c.lid, &c.arms} {
		if m := *mp; m != nil {
			c.finish(mp, fmt.Errorf("%s: inputs unreadable: %w", m.spec.action, ErrFault), ProgressFailed)
		}
	}
}

func (c *Controller) readInputs() {
	rd := func(p gpio.PinIn) bool { return p != nil && p.Read() == gpio.High }
	c.in = inputs{
		lidOpen:      rd(c.hw.LidOpenLimit),
		lidClosed:    rd(c.hw.LidClosedLimit),
		armsReleased: rd(c.hw.ArmsReleasedLimit),
		armsClamped:  rd(c.hw.ArmsClampedLimit),
		charging:     rd(c.hw.ChargerStatus),
		estop:        rd(c.hw.EStop),
		mains:        rd(c.hw.Mains),
		rain:         rd(c.hw.Rain),
	}
}

// evaluate applies every rule to the current inputs and writes the outputs.
// The order matters: the e-stop first, so nothing below can energise.
func (c *Controller) evaluate(now time.Time) {
	c.checkEStop()
	c.checkMains()
	c.checkLimits()
	c.stepMotion(now, &c.lid)
	c.stepMotion(now, &c.arms)
	c.stepCharger()
	ext := c.externals()
	c.stepThermostat(now, ext)
	c.stepStrobe(now, ext)
	c.apply(now)
	if c.opts.Watchdog != nil && now.Sub(c.lastWatchdog) >= c.opts.WatchdogInterval {
		c.lastWatchdog = now
		c.opts.Watchdog()
	}
	c.publish(now)
	c.deliver()
}

// checkEStop latches the e-stop (invariant 4): on the first read of a press
// every motion ends and every output is set to be cut in this same
// iteration.
func (c *Controller) checkEStop() {
	switch {
	case c.in.estop && !c.estopLatched:
		c.estopLatched, c.estopNoted = true, false
		if c.opts.CutAll != nil {
			if err := c.opts.CutAll(); err != nil {
				c.log.Error("e-stop: cutting all outputs at once failed; cutting one by one", "err", err)
			} else {
				for o := range numOutputs {
					if c.level[o] {
						c.lastCut[o] = c.clock.Now()
					}
					c.level[o] = false
				}
			}
		}
		c.endAll(fmt.Errorf("e-stop pressed: %w", ErrEStopLatched), ProgressFailed)
		c.chargerWant = false
		c.log.Error("e-stop pressed: all outputs cut")
		c.emit(EventEStop, map[string]any{"pressed": true, "latched": true})
	case !c.in.estop && c.estopLatched && !c.estopNoted:
		c.estopNoted = true
		c.log.Warn("e-stop released: send reset to resume")
		c.emit(EventEStop, map[string]any{"pressed": false, "latched": true})
	}
}

// checkMains cuts the motions in progress when mains power is lost.
func (c *Controller) checkMains() {
	if c.in.mains {
		return
	}
	for _, mp := range []**motion{&c.lid, &c.arms} {
		if m := *mp; m != nil {
			c.raise(FaultMainsLostInMotion, "power: mains lost while "+m.spec.progressive)
			c.finish(mp, fmt.Errorf("%s: %w", m.spec.action, ErrPowerLost), ProgressFailed)
		}
	}
}

// checkLimits faults a part whose two limit switches both read closed.
func (c *Controller) checkLimits() {
	if c.onset(&c.lidConflict, c.in.lidOpen && c.in.lidClosed, FaultLidLimitsConflict) {
		c.raise(FaultLidLimitsConflict, "lid: open and closed limit switches both closed")
	}
	if c.lidConflict && c.lid != nil {
		c.finish(&c.lid, fmt.Errorf("%s: limit switches disagree: %w", c.lid.spec.action, ErrFault), ProgressFailed)
	}
	if c.onset(&c.armsConflict, c.in.armsReleased && c.in.armsClamped, FaultArmsLimitsConflict) {
		c.raise(FaultArmsLimitsConflict, "arms: released and clamped limit switches both closed")
	}
	if c.armsConflict && c.arms != nil {
		c.finish(&c.arms, fmt.Errorf("%s: limit switches disagree: %w", c.arms.spec.action, ErrFault), ProgressFailed)
	}
}

// stepCharger keeps invariant 5: the charger is switched off, and the wish
// for it forgotten, as soon as the vehicle is not docked and disarmed.
func (c *Controller) stepCharger() {
	if !c.chargerWant {
		return
	}
	if why := c.notDocked(); why != "" {
		c.chargerWant = false
		c.log.Warn("charger switched off", "reason", why)
	}
}

// apply writes the outputs the state asks for: first every output that must
// be off, then the ones that must be on, each checked against its opposite
// right before it changes.
func (c *Controller) apply(now time.Time) {
	var want [numOutputs]bool
	if !c.estopLatched {
		for _, m := range []*motion{c.lid, c.arms} {
			if m != nil && !now.Before(m.startAt) {
				want[m.spec.out] = true
			}
		}
		want[outCharger] = c.chargerWant
		want[outHeater] = c.heater
		want[outFan] = c.fan
		want[outStrobe] = c.strobeOn
	}
	for o := range numOutputs {
		if !want[o] && (c.level[o] || c.estopLatched) {
			c.write(now, o, false)
		}
	}
	for o := range numOutputs {
		opp := o.opposite()
		// Both directions of one motor: never. When the off pass above
		// failed to cut the opposite, try again next iteration.
		blocked := want[o] && !c.level[o] && opp >= 0 && c.level[opp]
		if c.onset(&c.outBlocked[o], blocked, FaultOutputInterlock) {
			c.raise(FaultOutputInterlock, fmt.Sprintf("%s: not energised while %s is still on", c.outs[o].name, c.outs[opp].name))
		}
		if want[o] && !c.level[o] && !blocked {
			c.write(now, o, true)
		}
	}
}

// write sets one output; a failure faults the dock and ends the motion
// using the output.
func (c *Controller) write(now time.Time, o output, on bool) {
	if !on && c.estopLatched && !c.level[o] {
		// Latched: every output is written low once on the press (in
		// endAll's iteration) and then only when it was on.
		return
	}
	l := gpio.Low
	if on {
		l = gpio.High
	}
	err := c.outs[o].pin.Out(l)
	if c.onset(&c.outFailed[o], err != nil, FaultOutputWriteFailed) {
		c.raise(FaultOutputWriteFailed, fmt.Sprintf("%s: cannot switch %s: %v", c.outs[o].name, onOff(on), err))
	}
	if err != nil {
		for _, mp := range []**motion{&c.lid, &c.arms} {
			if m := *mp; m != nil && m.spec.out == o {
				c.finish(mp, fmt.Errorf("%s: switch %s: %w", m.spec.action, c.outs[o].name, err), ProgressFailed)
			}
		}
		if o == outCharger {
			c.chargerWant = false
		}
		return
	}
	if c.level[o] && !on {
		c.lastCut[o] = now
	}
	c.level[o] = on
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// endAll ends every motion with err, forgets the charger and asks for every
// output off, writing all of them now.
func (c *Controller) endAll(err error, status ProgressStatus) {
	for _, mp := range []**motion{&c.lid, &c.arms} {
		if *mp != nil {
			c.finish(mp, err, status)
		}
	}
	c.chargerWant = false
	now := c.clock.Now()
	for o := range numOutputs {
		err := c.outs[o].pin.Out(gpio.Low)
		if c.onset(&c.outFailed[o], err != nil, FaultOutputWriteFailed) {
			c.raise(FaultOutputWriteFailed, fmt.Sprintf("%s: cannot switch off: %v", c.outs[o].name, err))
		}
		if err != nil {
			continue
		}
		if c.level[o] {
			c.lastCut[o] = now
		}
		c.level[o] = false
	}
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

// Snapshot returns the latest state. It never blocks.
func (c *Controller) Snapshot() State { return *c.snap.Load() }

// Subscribe returns a channel that receives the state on every change,
// starting with the current one. Delivery is latest-value-wins: a slow
// reader misses intermediate states but never blocks the loop. cancel
// unsubscribes and closes the channel.
func (c *Controller) Subscribe() (<-chan State, func()) {
	s := &subscriber{ch: make(chan State, 1)}
	c.subMu.Lock()
	s.ch <- *c.snap.Load()
	c.subs[s] = struct{}{}
	c.subMu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			c.subMu.Lock()
			delete(c.subs, s)
			close(s.ch)
			c.subMu.Unlock()
		})
	}
}

// Refresh reads every input now, applies the rules and returns the
// resulting state; the engine calls it when a decision needs fresh readings.
func (c *Controller) Refresh(ctx context.Context) (State, error) {
	if err := c.do(ctx, func(time.Time) { c.readInputs(); c.veh = c.vehicle() }); err != nil {
		return State{}, err
	}
	return c.Snapshot(), nil
}

// LidOpenEstimate is how long opening the lid from closed takes: the last
// measured full opening, or the lid timeout before any was measured. The
// engine uses it to open the lid in time for a returning vehicle
// (invariant 7).
func (c *Controller) LidOpenEstimate() time.Duration {
	if d := c.lidOpenEst.Load(); d > 0 {
		return time.Duration(d)
	}
	return c.opts.LidTimeout
}

// SelfTest returns the report of the hardware self-test Run made at start
// (the zero Report before).
func (c *Controller) SelfTest() Report {
	if r := c.selfReport.Load(); r != nil {
		return *r
	}
	return Report{}
}

// SetWeather feeds the latest good weather reading and the inside
// temperature (nil when unknown) to the controller; the app calls it from
// the weather station driver (rs485/weatherstation) after each good poll.
// Staleness is decided here, not by the driver: once w.At is older than
// WeatherStaleAfter, State marks the weather stale (keeping its last
// values, never zero wind) and drops the inside temperature. It never
// blocks.
func (c *Controller) SetWeather(w Weather, insideC *float64) {
	c.setExt(func(e *externals) {
		e.weather = w
		e.insideC = insideC
		e.insideAt = w.At
	})
}

// SetSortie names the active sortie in State (nil for none). While a
// non-terminal sortie is set the strobe flashes and the mode cannot change.
// It never blocks.
func (c *Controller) SetSortie(ref *SortieRef) {
	if ref != nil {
		r := *ref
		ref = &r
	}
	c.setExt(func(e *externals) { e.sortie = ref })
}

// SetCircles sets the response circles reported in State. It never blocks.
func (c *Controller) SetCircles(circles Circles) {
	c.setExt(func(e *externals) { e.circles = circles })
}

// notChecked is the readiness until the sortie engine has checked the
// gates: not ready, and saying why.
var notChecked = Readiness{Gates: []Gate{{Name: "starting", Note: "the sortie engine has not checked the gates yet"}}}

// SetReadiness sets the readiness reported in State. It never blocks.
func (c *Controller) SetReadiness(r Readiness) {
	r.Gates = append([]Gate{}, r.Gates...)
	c.setExt(func(e *externals) { e.readiness = r })
}

// SetClockSynced sets whether the system clock is NTP-synchronised. It
// never blocks.
func (c *Controller) SetClockSynced(ok bool) {
	c.setExt(func(e *externals) { e.clockSynced = ok })
}

func (c *Controller) setExt(f func(*externals)) {
	c.extMu.Lock()
	f(&c.ext)
	c.extVer++
	c.extMu.Unlock()
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

func (c *Controller) externals() externals {
	c.extMu.Lock()
	defer c.extMu.Unlock()
	return c.ext
}

// view is the comparable part of State the loop owns.
type view struct {
	lid          LidState
	arms         ArmsState
	charger      bool
	charging     bool
	estop        bool
	estopLatched bool
	power        bool
	faultsVer    uint64
	mode         Mode
	heater, fan  bool
	strobe       bool
	vehicle      VehicleSummary
	rain         bool
	weatherStale bool
}

func (c *Controller) currentView(now time.Time, ext externals) view {
	charging := c.level[outCharger]
	if c.hw.ChargerStatus != nil {
		charging = c.in.charging
	}
	return view{
		lid:          c.lidState(),
		arms:         c.armsState(),
		charger:      c.level[outCharger],
		charging:     charging,
		estop:        c.in.estop,
		estopLatched: c.estopLatched,
		power:        c.in.mains,
		faultsVer:    c.faultsVer,
		mode:         c.mode,
		heater:       c.level[outHeater],
		fan:          c.level[outFan],
		strobe:       c.level[outStrobe],
		vehicle: VehicleSummary{
			Link:       c.veh.Link,
			Armed:      c.veh.Armed,
			Landed:     c.veh.Landed == LandedOnGround,
			Docked:     c.notDocked() == "",
			BatteryPct: c.veh.BatteryPct,
		},
		rain:         c.in.rain,
		weatherStale: ext.weather.At.IsZero() || now.Sub(ext.weather.At) > c.opts.WeatherStaleAfter,
	}
}

// publish stores and sends a new snapshot when anything changed.
func (c *Controller) publish(now time.Time) {
	ext := c.externals()
	c.extMu.Lock()
	ver := c.extVer
	c.extMu.Unlock()
	v := c.currentView(now, ext)
	if c.published && v == c.lastView && ver == c.lastExtVer {
		return
	}
	c.published, c.lastView, c.lastExtVer = true, v, ver
	w := ext.weather
	w.Stale = w.Stale || v.weatherStale
	w.Rain = w.Rain || v.rain
	insideC := ext.insideC
	if v.weatherStale {
		// An inside temperature as old as stale weather is not reported:
		// the climate control ignores it too (climate.go).
		insideC = nil
	}
	s := &State{
		Lid: v.lid, Arms: v.arms, Charger: v.charger, Charging: v.charging,
		EStop: v.estop, EStopLatched: v.estopLatched, Power: v.power,
		Fault: c.firstFault(), Faults: append([]Fault{}, c.faults...), Mode: v.mode, Heater: v.heater, Fan: v.fan, Strobe: v.strobe,
		InsideC: insideC, Weather: w, Vehicle: v.vehicle, Sortie: ext.sortie,
		Circles: ext.circles, Readiness: ext.readiness, ClockSynced: ext.clockSynced, UpdatedAt: now,
	}
	c.snap.Store(s)
	c.subMu.Lock()
	defer c.subMu.Unlock()
	for sub := range c.subs {
		select {
		case sub.ch <- *s:
		default:
			select { // drop the stale value, keep the newest
			case <-sub.ch:
			default:
			}
			sub.ch <- *s
		}
	}
}

func (c *Controller) lidState() LidState {
	if c.lid != nil {
		return c.lid.spec.moving.lid
	}
	switch {
	case c.in.lidOpen && c.in.lidClosed:
		return LidUnknown
	case c.in.lidOpen:
		return LidOpen
	case c.in.lidClosed:
		return LidClosed
	}
	return LidStopped
}

func (c *Controller) armsState() ArmsState {
	if c.arms != nil {
		return c.arms.spec.moving.arms
	}
	switch {
	case c.in.armsReleased && c.in.armsClamped:
		return ArmsUnknown
	case c.in.armsReleased:
		return ArmsReleased
	case c.in.armsClamped:
		return ArmsClamped
	}
	return ArmsStopped
}
