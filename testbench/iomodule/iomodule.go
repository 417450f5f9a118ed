package iomodule

import (
	"sync"
	"sync/atomic"
	"time"

	"context"
	"errors"
	"fmt"
	"github.com/jonboulle/clockwork"
	"log/slog"

	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
	"periph.io/x/conn/v3/gpio"
)

// DefaultUnit is the module's unit id when Options.Unit is 0.
const DefaultUnit = 1

// DefaultCoils is the default coil map: coil i drives DefaultCoils()[i].
func DefaultCoils() []physics.Signal { return physics.Outputs() }

// DefaultInputs is the default discrete input map.
func DefaultInputs() []physics.Signal { return physics.Inputs() }

// Options configure a Module.
type Options struct {
	// Unit is the unit id; 0 means DefaultUnit.
	Unit uint8
	// Coils maps coil addresses to output signals; nil means DefaultCoils.
	Coils []physics.Signal
	// Inputs maps discrete input addresses to input signals; nil means
	// DefaultInputs.
	Inputs []physics.Signal
	// Logger; nil discards.
	Logger *slog.Logger
	// Watchdog is the module's communication watchdog, as real I/O
	// modules offer it: when no request has come from the master for
	// this long, every coil is switched off (a relay left on by a master
	// that lost the bus would run its motor on). 0 disables it.
	Watchdog time.Duration
	// Clock times the watchdog; nil means the real clock.
	Clock clockwork.Clock
}

// Module is the simulated I/O module.
type Module struct {
	slave  *rtuslave.Slave
	coils  []*physics.Pin
	inputs []*physics.Pin

	watchdog time.Duration
	clock    clockwork.Clock
	log      *slog.Logger
	lastReq  atomic.Int64 // clock time of the last request, unix ns
	trips    atomic.Int64
}

// New returns a module serving world on port (usually a *pty.Pair, which
// the caller owns and closes).
func New(opts Options, port modbus.Port, world *physics.Dock) (*Module, error) {
	if world == nil {
		return nil, errors.New("new io module: nil world")
	}
	if opts.Unit == 0 {
		opts.Unit = DefaultUnit
	}
	if opts.Coils == nil {
		opts.Coils = DefaultCoils()
	}
	if opts.Inputs == nil {
		opts.Inputs = DefaultInputs()
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Module{watchdog: opts.Watchdog, clock: opts.Clock, log: opts.Logger}
	m.lastReq.Store(opts.Clock.Now().UnixNano())
	for _, s := range opts.Coils {
		if !s.IsOutput() {
			return nil, fmt.Errorf("new io module: coil signal %q is not an output", s)
		}
		m.coils = append(m.coils, world.Pin(s))
	}
	for _, s := range opts.Inputs {
		if s.IsOutput() {
			return nil, fmt.Errorf("new io module: input signal %q is an output", s)
		}
		m.inputs = append(m.inputs, world.Pin(s))
	}
	slave, err := rtuslave.New(rtuslave.Options{Unit: opts.Unit, Logger: opts.Logger}, port, rtuslave.Device{
		ReadCoils: func(start, count uint16) ([]bool, modbus.Exception) {
			m.touch()
			return read(m.coils, start, count)
		},
		ReadDiscreteInputs: func(start, count uint16) ([]bool, modbus.Exception) {
			m.touch()
			return read(m.inputs, start, count)
		},
		WriteCoils: func(start uint16, values []bool) modbus.Exception {
			m.touch()
			return m.write(start, values)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("new io module: %w", err)
	}
	m.slave = slave
	return m, nil
}

func read(pins []*physics.Pin, start, count uint16) ([]bool, modbus.Exception) {
	if int(start)+int(count) > len(pins) {
		return nil, modbus.ExceptionIllegalDataAddress
	}
	out := make([]bool, count)
	for i := range out {
		out[i] = bool(pins[int(start)+i].Read())
	}
	return out, 0
}

func (m *Module) write(start uint16, values []bool) modbus.Exception {
	if int(start)+len(values) > len(m.coils) {
		return modbus.ExceptionIllegalDataAddress
	}
	for i, v := range values {
		if err := m.coils[int(start)+i].Out(gpio.Level(v)); err != nil {
			return modbus.ExceptionDeviceFailure
		}
	}
	return 0
}

func (m *Module) touch() { m.lastReq.Store(m.clock.Now().UnixNano()) }

// Run serves the bus until ctx ends (nil) or the port fails, with the
// communication watchdog when Options.Watchdog is set.
func (m *Module) Run(ctx context.Context) error {
	if m.watchdog <= 0 {
		return m.slave.Run(ctx)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { m.watch(wctx) })
	err := m.slave.Run(ctx)
	stop()
	wg.Wait()
	return err
}

// watch switches every coil off once when the master has been silent for
// the watchdog time; the next request re-arms it.
func (m *Module) watch(ctx context.Context) {
	t := m.clock.NewTicker(max(m.watchdog/4, time.Millisecond))
	defer t.Stop()
	tripped := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		silent := m.clock.Since(time.Unix(0, m.lastReq.Load())) > m.watchdog
		switch {
		case silent && !tripped:
			tripped = true
			m.trips.Add(1)
			for _, c := range m.coils {
				_ = c.Out(gpio.Low)
			}
			m.log.Warn("io module watchdog: master silent, every coil off", "after", m.watchdog)
		case !silent:
			tripped = false
		}
	}
}

// WatchdogTrips counts how often the watchdog switched the coils off.
func (m *Module) WatchdogTrips() int64 { return m.trips.Load() }

// SetFaults injects CRC errors or silence (the zero value clears them).
func (m *Module) SetFaults(f rtuslave.Faults) { m.slave.SetFaults(f) }

// Stats returns the slave's counters.
func (m *Module) Stats() rtuslave.Stats { return m.slave.Stats() }
