package physics

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/internal/motorsim"
	"github.com/dockagent/dock-agent/internal/pinedge"
)

// Default travel times (issue 5).
const (
	DefaultLidTravel  = 12 * time.Second
	DefaultArmsTravel = 4 * time.Second
)

// Options configure a Dock. The zero value is a dock with the lid closed,
// the arms clamped, mains present, no rain, e-stop released and no vehicle.
type Options struct {
	// Clock drives the motion; nil means the real clock.
	Clock clockwork.Clock
	// LidTravel and ArmsTravel are the full-stroke times; 0 means the
	// defaults (12 s, 4 s).
	LidTravel, ArmsTravel time.Duration
	// LidOpen and ArmsReleased start the parts at the other end.
	LidOpen, ArmsReleased bool
	// VehiclePresent starts with a vehicle on the pad (the charger charges
	// only then).
	VehiclePresent bool
}

// Change is one signal changing level.
type Change struct {
	At     time.Time
	Signal Signal
	Level  gpio.Level
}

// Violation is a forbidden output combination the world witnessed.
type Violation struct {
	At   time.Time
	What string
}

// axis is a part moving between 0 and 1 (the motion model the unit tests'
// fake hardware shares, internal/motorsim), with the timer that wakes the
// world when it reaches its end.
type axis struct {
	part  *motorsim.Part
	timer clockwork.Timer
}

// Dock is the simulated dock. Safe for concurrent use.
type Dock struct {
	clock clockwork.Clock

	mu         sync.Mutex
	lid, arms  axis
	out        map[Signal]gpio.Level
	stuckIn    map[Signal]gpio.Level
	estop      bool
	mains      bool
	rain       bool
	vehicle    bool
	lastIn     map[Signal]gpio.Level
	history    []Change
	violations []Violation
	pins       map[Signal]*Pin
}

// New returns a dock in the state opts describes.
func New(opts Options) (*Dock, error) {
	if opts.LidTravel < 0 || opts.ArmsTravel < 0 {
		return nil, errors.New("new physics dock: negative travel time")
	}
	d := &Dock{
		clock:   opts.Clock,
		out:     map[Signal]gpio.Level{},
		stuckIn: map[Signal]gpio.Level{},
		mains:   true,
		vehicle: opts.VehiclePresent,
		lastIn:  map[Signal]gpio.Level{},
		pins:    map[Signal]*Pin{},
	}
	if d.clock == nil {
		d.clock = clockwork.NewRealClock()
	}
	now := d.clock.Now()
	if opts.LidTravel == 0 {
		opts.LidTravel = DefaultLidTravel
	}
	if opts.ArmsTravel == 0 {
		opts.ArmsTravel = DefaultArmsTravel
	}
	at := func(end bool) float64 {
		if end {
			return 1
		}
		return 0
	}
	d.lid = axis{part: motorsim.New(opts.LidTravel, at(opts.LidOpen), now)}
	d.arms = axis{part: motorsim.New(opts.ArmsTravel, at(opts.ArmsReleased), now)}
	for _, s := range append(Outputs(), Inputs()...) {
		d.pins[s] = &Pin{d: d, sig: s, edges: pinedge.New()}
	}
	for _, s := range Inputs() {
		d.lastIn[s] = d.inputLocked(s)
	}
	return d, nil
}

// Pin returns the pin of signal s. It panics on an unknown signal (a test
// bug).
func (d *Dock) Pin(s Signal) *Pin {
	p, ok := d.pins[s]
	if !ok {
		panic(fmt.Sprintf("physics: unknown signal %q", s))
	}
	return p
}

// Level returns the level of any signal now.
func (d *Dock) Level(s Signal) gpio.Level {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.updateLocked(d.clock.Now())
	if s.IsOutput() {
		return d.out[s]
	}
	return d.inputLocked(s)
}

// Position returns the position of a part now: 0 closed / clamped, 1 open
// / released.
func (d *Dock) Position(a Axis) float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.updateLocked(d.clock.Now())
	return d.axis(a).part.Pos()
}

// History returns every signal change so far, oldest first.
func (d *Dock) History() []Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.updateLocked(d.clock.Now())
	return append([]Change(nil), d.history...)
}

// Violations returns every forbidden output combination witnessed.
func (d *Dock) Violations() []Violation {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Violation(nil), d.violations...)
}

// SetEStop presses (true) or releases the e-stop button.
func (d *Dock) SetEStop(pressed bool) { d.set(func() { d.estop = pressed }) }

// SetMains restores (true) or cuts mains power; without it motors do
// nothing and the charger does not charge.
func (d *Dock) SetMains(present bool) { d.set(func() { d.mains = present }) }

// SetRain sets the rain sensor.
func (d *Dock) SetRain(raining bool) { d.set(func() { d.rain = raining }) }

// SetVehiclePresent says whether a vehicle sits on the pad (on its
// charging contacts).
func (d *Dock) SetVehiclePresent(present bool) { d.set(func() { d.vehicle = present }) }

// SetStuck jams a part: its motor runs but it does not move.
func (d *Dock) SetStuck(a Axis, stuck bool) { d.set(func() { d.axis(a).part.SetStuck(stuck) }) }

// SetSlowdown multiplies a part's travel time by factor (>= 1; 1 is
// normal), e.g. to make a motor slower than the agent's motion timeout.
func (d *Dock) SetSlowdown(a Axis, factor float64) {
	d.set(func() { d.axis(a).part.SetSpeed(1 / max(factor, 1)) })
}

// StickInput makes input s read level whatever happens (a stuck or
// mis-wired switch).
func (d *Dock) StickInput(s Signal, l gpio.Level) { d.set(func() { d.stuckIn[s] = l }) }

// ReleaseInput undoes StickInput.
func (d *Dock) ReleaseInput(s Signal) { d.set(func() { delete(d.stuckIn, s) }) }

// set applies f at the current time and lets the world react.
func (d *Dock) set(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	d.updateLocked(now)
	f()
	d.replanLocked(now)
	d.settleLocked(now)
}

// setOutput drives output s.
func (d *Dock) setOutput(s Signal, l gpio.Level) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	d.updateLocked(now)
	if d.out[s] != l {
		d.out[s] = l
		d.history = append(d.history, Change{At: now, Signal: s, Level: l})
		d.pins[s].notify(l)
	}
	for _, pair := range [][2]Signal{{LidOpenMotor, LidCloseMotor}, {ArmsReleaseMotor, ArmsClampMotor}} {
		if bool(l) && (s == pair[0] || s == pair[1]) && bool(d.out[pair[0]] && d.out[pair[1]]) {
			d.violations = append(d.violations, Violation{At: now, What: fmt.Sprintf("%s and %s on together", pair[0], pair[1])})
		}
	}
	d.replanLocked(now)
	d.settleLocked(now)
}

func (d *Dock) axis(a Axis) *axis {
	if a == AxisLid {
		return &d.lid
	}
	return &d.arms
}

// updateLocked moves the parts to now and records the input changes.
func (d *Dock) updateLocked(now time.Time) {
	d.lid.part.Advance(now)
	d.arms.part.Advance(now)
	d.settleLocked(now)
}

// replanLocked sets each part's motion from the outputs and faults, and
// schedules its arrival.
func (d *Dock) replanLocked(now time.Time) {
	plan := func(a *axis, plus, minus Signal) {
		dir := 0
		switch {
		case !d.mains || bool(d.out[plus] && d.out[minus]):
		case bool(d.out[plus]):
			dir = 1
		case bool(d.out[minus]):
			dir = -1
		}
		if a.timer != nil {
			a.timer.Stop()
			a.timer = nil
		}
		travel := a.part.Drive(now, dir) // a stuck part does not move
		if travel == 0 {
			return
		}
		a.timer = d.clock.AfterFunc(travel, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.updateLocked(d.clock.Now())
		})
	}
	plan(&d.lid, LidOpenMotor, LidCloseMotor)
	plan(&d.arms, ArmsReleaseMotor, ArmsClampMotor)
}

// inputLocked is the level of input s from the current state.
func (d *Dock) inputLocked(s Signal) gpio.Level {
	if l, ok := d.stuckIn[s]; ok {
		return l
	}
	switch s {
	case LidOpenLimit:
		return d.lid.part.Pos() >= 1
	case LidClosedLimit:
		return d.lid.part.Pos() <= 0
	case ArmsReleasedLimit:
		return d.arms.part.Pos() >= 1
	case ArmsClampedLimit:
		return d.arms.part.Pos() <= 0
	case ChargerStatus:
		return gpio.Level(bool(d.out[ChargerEnable]) && d.mains && d.vehicle)
	case EStop:
		return gpio.Level(d.estop)
	case Mains:
		return gpio.Level(d.mains)
	case Rain:
		return gpio.Level(d.rain)
	}
	return gpio.Low
}

// settleLocked records input changes and wakes edge waiters. A limit
// switch reached is stamped with the arrival time, not the time it was
// noticed.
func (d *Dock) settleLocked(now time.Time) {
	for _, s := range Inputs() {
		l := d.inputLocked(s)
		if l == d.lastIn[s] {
			continue
		}
		d.lastIn[s] = l
		at := now
		if _, stuck := d.stuckIn[s]; !stuck && bool(l) {
			switch s {
			case LidOpenLimit, LidClosedLimit:
				at = pick(d.lid.part.ReachedAt(), now)
			case ArmsReleasedLimit, ArmsClampedLimit:
				at = pick(d.arms.part.ReachedAt(), now)
			}
		}
		d.history = append(d.history, Change{At: at, Signal: s, Level: l})
		d.pins[s].notify(l)
	}
}

func pick(reached, now time.Time) time.Time {
	if reached.IsZero() || reached.After(now) {
		return now
	}
	return reached
}
