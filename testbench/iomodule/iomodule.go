package iomodule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dockagent/dock-agent/dock/modbus"
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
}

// Module is the simulated I/O module.
type Module struct {
	slave  *rtuslave.Slave
	coils  []*physics.Pin
	inputs []*physics.Pin
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
	m := &Module{}
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
		ReadCoils:          func(start, count uint16) ([]bool, modbus.Exception) { return read(m.coils, start, count) },
		ReadDiscreteInputs: func(start, count uint16) ([]bool, modbus.Exception) { return read(m.inputs, start, count) },
		WriteCoils:         m.write,
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

// Run serves the bus until ctx ends (nil) or the port fails.
func (m *Module) Run(ctx context.Context) error { return m.slave.Run(ctx) }

// SetFaults injects CRC errors or silence (the zero value clears them).
func (m *Module) SetFaults(f rtuslave.Faults) { m.slave.SetFaults(f) }

// Stats returns the slave's counters.
func (m *Module) Stats() rtuslave.Stats { return m.slave.Stats() }
