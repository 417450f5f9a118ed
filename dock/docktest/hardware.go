package docktest

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/internal/motorsim"
)

// Change is one level change of an output pin, at the fake clock's time.
type Change struct {
	At    time.Time
	Level gpio.Level
}

// OutPin is a gpiotest.Pin used as an output that records its changes and
// tells an optional physics hook before each one.
type OutPin struct {
	*gpiotest.Pin
	clock  clockwork.Clock
	before func(now time.Time) // physics update before the level changes
	after  func(now time.Time) // and after it (the motor's new direction)

	mu      sync.Mutex
	changes []Change
	fail    error
}

func newOutPin(name string, clock clockwork.Clock) *OutPin {
	return &OutPin{Pin: &gpiotest.Pin{N: name, Clock: clock}, clock: clock}
}

// Out implements gpio.PinOut: it records the change, or fails with the
// error set by Fail.
func (p *OutPin) Out(l gpio.Level) error {
	now := p.clock.Now()
	p.mu.Lock()
	if p.fail != nil {
		err := p.fail
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	if p.before != nil {
		p.before(now)
	}
	p.mu.Lock()
	if len(p.changes) == 0 || p.changes[len(p.changes)-1].Level != l {
		p.changes = append(p.changes, Change{At: now, Level: l})
	}
	p.mu.Unlock()
	err := p.Pin.Out(l)
	if p.after != nil {
		p.after(now)
	}
	return err
}

// Fail makes every following Out return err (nil heals the pin).
func (p *OutPin) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

// On reports whether the output is energised.
func (p *OutPin) On() bool { return p.Pin.Read() == gpio.High }

// Changes returns the recorded level changes.
func (p *OutPin) Changes() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Change(nil), p.changes...)
}

// LastOff returns when the output last went low (zero if never).
func (p *OutPin) LastOff() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.changes) - 1; i >= 0; i-- {
		if p.changes[i].Level == gpio.Low {
			return p.changes[i].At
		}
	}
	return time.Time{}
}

// End names one end of an actuator's travel.
type End int

// The two ends: High is open (lid) or released (arms), Low is closed or
// clamped.
const (
	EndLow End = iota
	EndHigh
)

// Actuator simulates a part driven by two relays between two limit
// switches: Up drives it towards EndHigh at 1/Travel per second, Down
// towards EndLow; the limit switch of an end closes when the part reaches
// it. The motion is internal/motorsim's, as on the bench; it is computed
// from the fake clock on every pin access, so no goroutine runs. Knobs
// simulate faults: Stuck, Speed, StickLimit.
type Actuator struct {
	Up, Down            *OutPin
	HighLimit, LowLimit *LimitPin

	clock clockwork.Clock
	mu    sync.Mutex
	part  *motorsim.Part // 0 at EndLow, 1 at EndHigh
	stick [2]*gpio.Level
	both  int // times both relays were on together
}

// LimitPin is a limit switch input computed from its actuator's position.
type LimitPin struct {
	*gpiotest.Pin
	a   *Actuator
	end End
}

// Read implements gpio.PinIn from the physics.
func (p *LimitPin) Read() gpio.Level {
	return p.a.limit(p.end)
}

func newActuator(name string, clock clockwork.Clock, travel time.Duration, pos float64) *Actuator {
	a := &Actuator{clock: clock, part: motorsim.New(travel, pos, clock.Now())}
	a.Up = newOutPin(name+"_up", clock)
	a.Down = newOutPin(name+"_down", clock)
	a.Up.before, a.Up.after = a.update, a.drive
	a.Down.before, a.Down.after = a.update, a.drive
	a.HighLimit = &LimitPin{Pin: &gpiotest.Pin{N: name + "_high_limit", Clock: clock}, a: a, end: EndHigh}
	a.LowLimit = &LimitPin{Pin: &gpiotest.Pin{N: name + "_low_limit", Clock: clock}, a: a, end: EndLow}
	return a
}

// update moves the part for the time since the last update, with the relay
// levels that held during it (drive set them after each change).
func (a *Actuator) update(now time.Time) {
	up, down := a.Up.On(), a.Down.On()
	a.mu.Lock()
	defer a.mu.Unlock()
	if up && down {
		a.both++
	}
	a.part.Advance(now)
}

// drive sets the motor's direction from the relays after one changed.
func (a *Actuator) drive(now time.Time) {
	up, down := a.Up.On(), a.Down.On()
	a.mu.Lock()
	defer a.mu.Unlock()
	dir := 0
	switch {
	case up && down: // both on: the motor does not turn (counted by update)
	case up:
		dir = 1
	case down:
		dir = -1
	}
	a.part.Drive(now, dir)
}

func (a *Actuator) limit(e End) gpio.Level {
	a.update(a.clock.Now())
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.stick[e]; l != nil {
		return *l
	}
	if e == EndHigh {
		return gpio.Level(a.part.Pos() >= 1)
	}
	return gpio.Level(a.part.Pos() <= 0)
}

// Position returns where the part is: 0 at EndLow, 1 at EndHigh.
func (a *Actuator) Position() float64 {
	a.update(a.clock.Now())
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.part.Pos()
}

// SetPosition puts the part at pos (0..1).
func (a *Actuator) SetPosition(pos float64) {
	now := a.clock.Now()
	a.update(now)
	a.mu.Lock()
	a.part.SetPos(now, pos)
	a.mu.Unlock()
	a.drive(now) // the relays still drive it from there
}

// Stuck jams (true) or frees the part.
func (a *Actuator) Stuck(stuck bool) {
	now := a.clock.Now()
	a.update(now)
	a.mu.Lock()
	a.part.SetStuck(stuck)
	a.mu.Unlock()
	a.drive(now)
}

// Speed scales the travel speed (1 normal, 0.5 twice as slow).
func (a *Actuator) Speed(f float64) {
	now := a.clock.Now()
	a.update(now)
	a.mu.Lock()
	a.part.SetSpeed(f)
	a.mu.Unlock()
	a.drive(now)
}

// StickLimit makes the limit switch of end read l whatever the position.
func (a *Actuator) StickLimit(e End, l gpio.Level) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stick[e] = &l
}

// UnstickLimit lets the limit switch of end follow the position again.
func (a *Actuator) UnstickLimit(e End) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stick[e] = nil
}

// BothOn returns how often both relays were seen on together (a broken
// interlock); it must stay 0.
func (a *Actuator) BothOn() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.both
}

// HardwareOptions configure NewHardware; zero values mean the defaults.
type HardwareOptions struct {
	LidTravel  time.Duration // full lid travel, default 20s
	ArmsTravel time.Duration // full arms travel, default 5s
	LidOpen    bool          // start with the lid open (default closed)
	ArmsOpen   bool          // start with the arms released (default clamped)
}

// Hardware is a simulated dock: the lid and the arms as Actuators, the
// other outputs as recording pins, the other inputs as gpiotest pins the
// test sets. Mains starts present, the e-stop released.
type Hardware struct {
	Lid, Arms                    *Actuator
	Charger, Heater, Fan, Strobe *OutPin
	ChargerStatus, EStop, Mains  *gpiotest.Pin
	Rain                         *gpiotest.Pin
	clock                        clockwork.Clock
}

// NewHardware returns a simulated dock on clock.
func NewHardware(clock clockwork.Clock, opts HardwareOptions) *Hardware {
	if opts.LidTravel == 0 {
		opts.LidTravel = 20 * time.Second
	}
	if opts.ArmsTravel == 0 {
		opts.ArmsTravel = 5 * time.Second
	}
	pos := func(open bool) float64 {
		if open {
			return 1
		}
		return 0
	}
	in := func(name string, l gpio.Level) *gpiotest.Pin {
		return &gpiotest.Pin{N: name, Clock: clock, L: l}
	}
	return &Hardware{
		Lid:           newActuator("lid", clock, opts.LidTravel, pos(opts.LidOpen)),
		Arms:          newActuator("arms", clock, opts.ArmsTravel, pos(opts.ArmsOpen)),
		Charger:       newOutPin("charger", clock),
		Heater:        newOutPin("heater", clock),
		Fan:           newOutPin("fan", clock),
		Strobe:        newOutPin("strobe", clock),
		ChargerStatus: in("charger_status", gpio.Low),
		EStop:         in("estop", gpio.Low),
		Mains:         in("mains", gpio.High),
		Rain:          in("rain", gpio.Low),
		clock:         clock,
	}
}

// Dock returns the pins as dock.Hardware (logical levels).
func (h *Hardware) Dock() dock.Hardware {
	return dock.Hardware{
		LidOpenMotor:      h.Lid.Up,
		LidCloseMotor:     h.Lid.Down,
		LidOpenLimit:      h.Lid.HighLimit,
		LidClosedLimit:    h.Lid.LowLimit,
		ArmsReleaseMotor:  h.Arms.Up,
		ArmsClampMotor:    h.Arms.Down,
		ArmsReleasedLimit: h.Arms.HighLimit,
		ArmsClampedLimit:  h.Arms.LowLimit,
		ChargerEnable:     h.Charger,
		ChargerStatus:     h.ChargerStatus,
		Heater:            h.Heater,
		Fan:               h.Fan,
		Strobe:            h.Strobe,
		EStop:             h.EStop,
		Mains:             h.Mains,
		Rain:              h.Rain,
	}
}

// Outputs returns every output pin, motors first.
func (h *Hardware) Outputs() []*OutPin {
	return []*OutPin{h.Lid.Up, h.Lid.Down, h.Arms.Up, h.Arms.Down, h.Charger, h.Heater, h.Fan, h.Strobe}
}

// AnyOn reports whether any output is energised.
func (h *Hardware) AnyOn() bool {
	for _, o := range h.Outputs() {
		if o.On() {
			return true
		}
	}
	return false
}

// Set sets an input pin's level (h.Set(h.EStop, true) presses the e-stop).
func (h *Hardware) Set(p *gpiotest.Pin, active bool) {
	p.Lock()
	defer p.Unlock()
	p.L = gpio.Level(active)
}
