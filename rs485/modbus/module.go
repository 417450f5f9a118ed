package modbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"

	"github.com/dockagent/dock-agent/internal/pinedge"
)

// Bus is what a Module needs from the Modbus client; *Client fits.
type Bus interface {
	ReadDiscreteInputs(ctx context.Context, unit uint8, start, count uint16) ([]bool, error)
	ReadCoils(ctx context.Context, unit uint8, start, count uint16) ([]bool, error)
	WriteSingleCoil(ctx context.Context, unit uint8, addr uint16, on bool) error
	WriteMultipleCoils(ctx context.Context, unit uint8, start uint16, values []bool) error
}

// DefaultPoll is the default poll interval of a Module: an input change is
// seen within one poll plus one request, well inside the 50 ms the dock
// needs.
const DefaultPoll = 20 * time.Millisecond

// ModuleOptions configure a Module. Unit and at least one of Inputs and
// Coils must be set.
type ModuleOptions struct {
	// Name prefixes the pin names ("io" gives "io.in3", "io.coil0"); empty
	// means "modbus<unit>".
	Name string
	// Unit is the module's Modbus unit id, 1..247.
	Unit uint8
	// Inputs is the number of discrete inputs polled, from address
	// InputStart, all in one request per poll.
	Inputs     int
	InputStart uint16
	// Coils is the number of coils offered as outputs, from address
	// CoilStart.
	Coils     int
	CoilStart uint16
	// ReadBackCoils also reads the coils every poll (a second request), so
	// that Read on an output reports the module's view, e.g. after the
	// module rebooted with its relays off.
	ReadBackCoils bool
	// Poll is the poll interval; 0 means DefaultPoll.
	Poll time.Duration
	// IdlePoll, when longer than Poll, is the poll interval while the
	// module is idle (SetBusy(false), the state a module starts in): the
	// owner says when nothing depends on a fast reading (no motor runs),
	// and the module polls at once and every Poll again from SetBusy(true)
	// on. 0 means always Poll.
	IdlePoll time.Duration
	// StaleAfter is how long after the last good poll the levels count as
	// stale in Health; 0 means 5 polls plus the bus timeout of 250 ms.
	// While idle (IdlePoll) it is longer by 5 times IdlePoll - Poll; once
	// busy again it counts from the switch if the module was not stale
	// then.
	StaleAfter time.Duration
	// WriteTimeout bounds one Out (a coil write, retries included); 0
	// means 1 s.
	WriteTimeout time.Duration
	// OnChange, when set, is called from Run after a poll that read a new
	// level (the first poll, an input that changed) or that succeeded after
	// failures, so a reader of the pins can wait for it instead of
	// reading them every few milliseconds. It must not block.
	OnChange func()
	// Clock times polls, edges and staleness; nil means the real clock.
	Clock clockwork.Clock
	// Logger receives module health changes; nil discards.
	Logger *slog.Logger
}

// Health is a module's poll status. Levels read through its pins are only
// meaningful while Stale is false: the dock must fault on a dead module
// rather than trust the last levels.
type Health struct {
	LastPoll time.Time // time of the last successful poll; zero before the first
	Err      error     // error of the last poll; nil when it succeeded
	Failures int       // polls failed in a row
	Stale    bool      // no successful poll within StaleAfter (or none yet)
}

// Module is a Modbus relay-and-input module seen as gpio pins. Its Run polls
// the inputs; the pins are safe for concurrent use.
type Module struct {
	bus          Bus
	name         string
	unit         uint8
	inputStart   uint16
	coilStart    uint16
	readBack     bool
	onChange     func()
	poll         time.Duration
	idlePoll     time.Duration // 0: always poll
	staleAfter   time.Duration
	writeTimeout time.Duration
	clock        clockwork.Clock
	log          *slog.Logger

	inputs []*Input
	coils  []*Coil

	mu       sync.Mutex
	lastPoll time.Time
	lastErr  error
	failures int
	busy     bool
	busyAt   time.Time     // when busy last began
	wake     chan struct{} // SetBusy(true) while idle: poll now
}

// NewModule returns a module on bus. Nothing is polled until Run.
func NewModule(opts ModuleOptions, bus Bus) (*Module, error) {
	switch {
	case bus == nil:
		return nil, errors.New("new modbus module: nil bus")
	case opts.Unit < 1 || opts.Unit > 247:
		return nil, fmt.Errorf("new modbus module: unit %d out of 1..247", opts.Unit)
	case opts.Inputs < 0 || opts.Inputs > MaxReadBits || opts.Coils < 0 || opts.Coils > MaxReadBits:
		return nil, fmt.Errorf("new modbus module unit %d: inputs %d or coils %d out of 0..%d", opts.Unit, opts.Inputs, opts.Coils, MaxReadBits)
	case opts.Inputs == 0 && opts.Coils == 0:
		return nil, fmt.Errorf("new modbus module unit %d: no inputs and no coils", opts.Unit)
	case opts.Poll < 0 || opts.IdlePoll < 0 || opts.StaleAfter < 0 || opts.WriteTimeout < 0:
		return nil, fmt.Errorf("new modbus module unit %d: negative poll, idle poll, stale after or write timeout", opts.Unit)
	}
	m := &Module{
		bus:          bus,
		name:         opts.Name,
		unit:         opts.Unit,
		inputStart:   opts.InputStart,
		coilStart:    opts.CoilStart,
		readBack:     opts.ReadBackCoils && opts.Coils > 0,
		onChange:     opts.OnChange,
		poll:         opts.Poll,
		wake:         make(chan struct{}, 1),
		staleAfter:   opts.StaleAfter,
		writeTimeout: opts.WriteTimeout,
		clock:        opts.Clock,
		log:          opts.Logger,
	}
	if m.name == "" {
		m.name = fmt.Sprintf("modbus%d", opts.Unit)
	}
	if m.poll == 0 {
		m.poll = DefaultPoll
	}
	if opts.IdlePoll > m.poll {
		m.idlePoll = opts.IdlePoll
	}
	if m.staleAfter == 0 {
		m.staleAfter = 5*m.poll + DefaultTimeout
	}
	if m.writeTimeout == 0 {
		m.writeTimeout = time.Second
	}
	if m.clock == nil {
		m.clock = clockwork.NewRealClock()
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.log = m.log.With("component", "modbus_module", "module", m.name, "unit", m.unit)
	for i := range opts.Inputs {
		m.inputs = append(m.inputs, &Input{m: m, n: i, edges: pinedge.New()})
	}
	for i := range opts.Coils {
		m.coils = append(m.coils, &Coil{m: m, n: i})
	}
	return m, nil
}

// Input returns discrete input n (0-based from InputStart) as a gpio pin.
// It panics if n is out of range, which is a wiring bug of the caller.
func (m *Module) Input(n int) *Input {
	if n < 0 || n >= len(m.inputs) {
		panic(fmt.Sprintf("modbus module %s: input %d out of 0..%d", m.name, n, len(m.inputs)-1))
	}
	return m.inputs[n]
}

// Output returns coil n (0-based from CoilStart) as a gpio pin. It panics
// if n is out of range, which is a wiring bug of the caller.
func (m *Module) Output(n int) *Coil {
	if n < 0 || n >= len(m.coils) {
		panic(fmt.Sprintf("modbus module %s: coil %d out of 0..%d", m.name, n, len(m.coils)-1))
	}
	return m.coils[n]
}

// Health returns the poll status now.
func (m *Module) Health() Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, limit := m.lastPoll, m.staleAfter
	if m.idlePoll > 0 {
		idleLimit := limit + 5*(m.idlePoll-m.poll)
		switch {
		case !m.busy:
			limit = idleLimit
		case m.busyAt.After(from) && m.busyAt.Sub(from) <= idleLimit:
			// Fresh by the idle bound at the switch: the idle gap before
			// it is no failure. A module already stale stays stale.
			from = m.busyAt
		}
	}
	return Health{
		LastPoll: m.lastPoll,
		Err:      m.lastErr,
		Failures: m.failures,
		Stale:    m.lastPoll.IsZero() || m.clock.Since(from) > limit,
	}
}

// Halt de-energises every coil, trying all of them and returning the
// errors joined.
func (m *Module) Halt() error {
	var errs []error
	for _, c := range m.coils {
		errs = append(errs, c.Halt())
	}
	return errors.Join(errs...)
}

// CutAll de-energises every coil with one request (function 0x0F), the
// fastest way to drop all relays of a module: an e-stop on a 9600 bit/s bus
// cannot afford one round trip per relay. Each coil gets its off level
// (SetOffLevel), so an active-low relay is dropped too, not energised. The
// cached levels follow on success; on failure the caller falls back to
// Halt.
func (m *Module) CutAll() error {
	if len(m.coils) == 0 {
		return nil
	}
	for _, c := range m.coils {
		c.mu.Lock()
	}
	defer func() {
		for _, c := range m.coils {
			c.mu.Unlock()
		}
	}()
	ctx, cancel := clockwork.WithTimeout(context.Background(), m.clock, m.writeTimeout)
	defer cancel()
	values := make([]bool, len(m.coils))
	for i, c := range m.coils {
		values[i] = bool(c.off)
	}
	if err := m.bus.WriteMultipleCoils(ctx, m.unit, m.coilStart, values); err != nil {
		return fmt.Errorf("cut all coils of %s: %w", m.name, err)
	}
	for _, c := range m.coils {
		c.level = c.off
	}
	return nil
}

// Run polls the module every Poll (every IdlePoll while idle) until ctx
// ends, then returns nil. Polls start at a fixed rate: the time a poll
// takes is not added to the interval. A failing poll is recorded in Health
// and retried at the next one; Run itself only ends with ctx.
func (m *Module) Run(ctx context.Context) error {
	t := m.clock.NewTimer(m.poll)
	t.Stop() // armed after each poll
	defer t.Stop()
	for {
		start := m.clock.Now()
		m.pollOnce(ctx)
		t.Reset(max(0, m.interval()-m.clock.Since(start)))
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		case <-m.wake: // busy from idle: poll at once, then every Poll
			if !t.Stop() {
				select { // fired meanwhile: drop the tick, this poll covers it
				case <-t.Chan():
				default:
				}
			}
		}
	}
}

// SetBusy says whether something depends on fast readings (a motor runs):
// busy, the module polls every Poll, and a module going busy from idle
// polls at once; idle, it polls every IdlePoll from its next poll on.
// Without an IdlePoll it changes nothing. Safe for concurrent use; it does
// not block.
func (m *Module) SetBusy(busy bool) {
	if m.idlePoll == 0 {
		return
	}
	m.mu.Lock()
	was := m.busy
	m.busy = busy
	if busy && !was {
		m.busyAt = m.clock.Now()
	}
	m.mu.Unlock()
	if busy && !was {
		select {
		case m.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// interval is the poll interval now.
func (m *Module) interval() time.Duration {
	if m.idlePoll == 0 {
		return m.poll
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.busy {
		return m.poll
	}
	return m.idlePoll
}

// pollOnce reads the inputs (and coils) once and updates levels and health.
func (m *Module) pollOnce(ctx context.Context) {
	var in, coils []bool
	var err error
	if len(m.inputs) > 0 {
		in, err = m.bus.ReadDiscreteInputs(ctx, m.unit, m.inputStart, uint16(len(m.inputs)))
	}
	if err == nil && m.readBack {
		coils, err = m.bus.ReadCoils(ctx, m.unit, m.coilStart, uint16(len(m.coils)))
	}
	if ctx.Err() != nil {
		return // shutting down: not a module failure
	}
	if err != nil {
		m.mu.Lock()
		m.lastErr = err
		m.failures++
		first := m.failures == 1
		m.mu.Unlock()
		if first {
			m.log.Warn("modbus module poll failed", "err", err)
		}
		return
	}
	changed := false
	for i, l := range in {
		if m.inputs[i].set(gpio.Level(l)) {
			changed = true
		}
	}
	for i, l := range coils {
		c := m.coils[i]
		c.mu.Lock()
		c.level = gpio.Level(l)
		c.mu.Unlock()
	}
	m.mu.Lock()
	failed, since := m.failures, m.lastPoll
	m.lastPoll = m.clock.Now()
	m.lastErr = nil
	m.failures = 0
	m.mu.Unlock()
	if failed > 0 {
		m.log.Info("modbus module poll recovered", "failures", failed, "down_s", m.clock.Since(since).Seconds())
	}
	if (changed || failed > 0) && m.onChange != nil {
		m.onChange()
	}
}

// Input is a discrete input of a Module as a gpio.PinIn. Read returns the
// level of the last successful poll (check Module.Health for freshness);
// WaitForEdge waits for a change seen by the polls. Safe for concurrent use.
type Input struct {
	m *Module
	n int

	mu     sync.Mutex
	level  gpio.Level
	polled bool
	edges  *pinedge.Edges // edges seen by the polls
}

// set records a polled level and queues an edge when it changed. It
// reports whether the level is new: the first or a changed one.
func (p *Input) set(l gpio.Level) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := !p.polled
	changed := p.polled && l != p.level
	p.level, p.polled = l, true
	if !changed {
		return first
	}
	p.edges.Changed(l)
	return true
}

// String implements conn.Resource.
func (p *Input) String() string { return p.Name() }

// Halt implements conn.Resource; it wakes a pending WaitForEdge.
func (p *Input) Halt() error { return p.In(gpio.PullNoChange, gpio.NoEdge) }

// Name implements pin.Pin: "<module>.in<n>".
func (p *Input) Name() string { return fmt.Sprintf("%s.in%d", p.m.name, p.n) }

// Number implements pin.Pin: the input's Modbus address.
func (p *Input) Number() int { return int(p.m.inputStart) + p.n }

// Function implements pin.Pin.
func (p *Input) Function() string { return string(gpio.IN) }

// Func implements pin.PinFunc.
func (p *Input) Func() pin.Func { return gpio.IN }

// SupportedFuncs implements pin.PinFunc.
func (p *Input) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN} }

// SetFunc implements pin.PinFunc; only gpio.IN is accepted.
func (p *Input) SetFunc(f pin.Func) error {
	if f != gpio.IN {
		return fmt.Errorf("modbus pin %s: function %s not supported", p.Name(), f)
	}
	return nil
}

// In sets the edges WaitForEdge reports, drops a pending edge and wakes a
// pending WaitForEdge. A Modbus input has no pull resistor to configure:
// only PullNoChange and Float are accepted. The default is BothEdges.
func (p *Input) In(pull gpio.Pull, edge gpio.Edge) error {
	if pull != gpio.PullNoChange && pull != gpio.Float {
		return fmt.Errorf("modbus pin %s: pull %s not supported", p.Name(), pull)
	}
	p.edges.Set(edge)
	return nil
}

// Read returns the level of the last successful poll (Low before the
// first).
func (p *Input) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge waits until a poll sees a change matching the edge set by In,
// for at most timeout on the module's clock (-1: forever). It returns false
// on timeout or when In or Halt re-arms the pin.
func (p *Input) WaitForEdge(timeout time.Duration) bool {
	return p.edges.Wait(p.m.clock, timeout)
}

// Pull implements gpio.PinIn: always Float.
func (p *Input) Pull() gpio.Pull { return gpio.Float }

// DefaultPull implements gpio.PinIn: always Float.
func (p *Input) DefaultPull() gpio.Pull { return gpio.Float }

// Coil is a coil of a Module as a gpio.PinIO: Out writes the coil at once
// (function 0x05), Read returns the last written or read-back level. Safe
// for concurrent use.
type Coil struct {
	m *Module
	n int

	mu    sync.Mutex // held across the write so levels and writes stay in order
	level gpio.Level
	// off is the level Halt and the module's CutAll write: Low, or High
	// for a coil wired active-low (SetOffLevel), whose relay is off while
	// the coil is energised.
	off gpio.Level
}

// SetOffLevel sets the level that de-energises the output behind the
// coil, which Halt and the module's CutAll write: gpio.Low (the default),
// or gpio.High for a coil bound active-low. Set it while wiring, before
// the coil is used.
func (c *Coil) SetOffLevel(l gpio.Level) {
	c.mu.Lock()
	c.off = l
	c.mu.Unlock()
}

// String implements conn.Resource.
func (c *Coil) String() string { return c.Name() }

// Halt de-energises the output behind the coil (writes its off level).
func (c *Coil) Halt() error {
	c.mu.Lock()
	off := c.off
	c.mu.Unlock()
	return c.Out(off)
}

// Name implements pin.Pin: "<module>.coil<n>".
func (c *Coil) Name() string { return fmt.Sprintf("%s.coil%d", c.m.name, c.n) }

// Number implements pin.Pin: the coil's Modbus address.
func (c *Coil) Number() int { return int(c.m.coilStart) + c.n }

// Function implements pin.Pin.
func (c *Coil) Function() string { return string(gpio.OUT) }

// Func implements pin.PinFunc.
func (c *Coil) Func() pin.Func { return gpio.OUT }

// SupportedFuncs implements pin.PinFunc.
func (c *Coil) SupportedFuncs() []pin.Func { return []pin.Func{gpio.OUT} }

// SetFunc implements pin.PinFunc; only gpio.OUT is accepted.
func (c *Coil) SetFunc(f pin.Func) error {
	if f != gpio.OUT {
		return fmt.Errorf("modbus pin %s: function %s not supported", c.Name(), f)
	}
	return nil
}

// Out writes the coil and returns when the module echoed it, or the error
// (the cached level is then unchanged). It blocks for at most the
// module's WriteTimeout.
func (c *Coil) Out(l gpio.Level) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := clockwork.WithTimeout(context.Background(), c.m.clock, c.m.writeTimeout)
	defer cancel()
	if err := c.m.bus.WriteSingleCoil(ctx, c.m.unit, uint16(c.Number()), bool(l)); err != nil {
		return fmt.Errorf("set %s to %s: %w", c.Name(), l, err)
	}
	c.level = l
	return nil
}

// PWM implements gpio.PinOut; a relay cannot do PWM.
func (c *Coil) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("modbus pin %s: pwm not supported", c.Name())
}

// Read returns the coil level last written (or read back by a poll).
func (c *Coil) Read() gpio.Level {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.level
}

// In implements gpio.PinIn; a coil is an output and refuses it.
func (c *Coil) In(gpio.Pull, gpio.Edge) error {
	return fmt.Errorf("modbus pin %s: a coil cannot be an input", c.Name())
}

// WaitForEdge implements gpio.PinIn; a coil has no edges and it returns
// false at once.
func (c *Coil) WaitForEdge(time.Duration) bool { return false }

// Pull implements gpio.PinIn.
func (c *Coil) Pull() gpio.Pull { return gpio.PullNoChange }

// DefaultPull implements gpio.PinIn.
func (c *Coil) DefaultPull() gpio.Pull { return gpio.PullNoChange }

var (
	_ gpio.PinIn  = (*Input)(nil)
	_ gpio.PinIO  = (*Coil)(nil)
	_ pin.PinFunc = (*Input)(nil)
	_ Bus         = (*Client)(nil)
)
