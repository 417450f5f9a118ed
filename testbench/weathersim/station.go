package weathersim

import (
	"context"
	"log/slog"
	"math"
	"sync"

	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
)

// DefaultUnit is the station's unit id when Options.Unit is 0.
const DefaultUnit = 2

// Register addresses of the map in the package doc.
const (
	RegWind = iota
	RegGust
	RegDir
	RegTemp
	RegHumidity
	RegRain
	RegInsideTemp
	NumRegs
)

// Reading is what the station reports.
type Reading struct {
	WindMPS     float64
	GustMPS     float64
	DirDeg      float64
	TempC       float64
	HumidityPct float64
	Rain        bool
	InsideC     float64
}

// Registers returns r encoded as the register map.
func (r Reading) Registers() [NumRegs]uint16 {
	u := func(v float64) uint16 { return uint16(min(max(math.Round(v), 0), math.MaxUint16)) }
	s := func(v float64) uint16 { return uint16(int16(min(max(math.Round(v), math.MinInt16), math.MaxInt16))) }
	var regs [NumRegs]uint16
	regs[RegWind] = u(r.WindMPS * 10)
	regs[RegGust] = u(r.GustMPS * 10)
	regs[RegDir] = u(math.Mod(math.Mod(r.DirDeg, 360)+360, 360))
	regs[RegTemp] = s(r.TempC * 10)
	regs[RegHumidity] = u(r.HumidityPct * 10)
	if r.Rain {
		regs[RegRain] = 1
	}
	regs[RegInsideTemp] = s(r.InsideC * 10)
	return regs
}

// Options configure a Station.
type Options struct {
	// Unit is the unit id; 0 means DefaultUnit.
	Unit uint8
	// Initial is the reading before the first Set.
	Initial Reading
	// Logger; nil discards.
	Logger *slog.Logger
}

// Station is the simulated weather station. Safe for concurrent use.
type Station struct {
	slave *rtuslave.Slave

	mu      sync.Mutex
	reading Reading
}

// New returns a station answering on port (usually a *pty.Pair, which the
// caller owns and closes).
func New(opts Options, port modbus.Port) (*Station, error) {
	if opts.Unit == 0 {
		opts.Unit = DefaultUnit
	}
	s := &Station{reading: opts.Initial}
	slave, err := rtuslave.New(rtuslave.Options{Unit: opts.Unit, Logger: opts.Logger}, port, rtuslave.Device{
		ReadHoldingRegisters: s.read,
		ReadInputRegisters:   s.read,
	})
	if err != nil {
		return nil, err
	}
	s.slave = slave
	return s, nil
}

func (s *Station) read(start, count uint16) ([]uint16, modbus.Exception) {
	if int(start)+int(count) > NumRegs {
		return nil, modbus.ExceptionIllegalDataAddress
	}
	regs := s.Reading().Registers()
	return append([]uint16(nil), regs[start:int(start)+int(count)]...), 0
}

// Set replaces the reading.
func (s *Station) Set(r Reading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reading = r
}

// Update changes the reading with f, atomically (e.g. only the wind).
func (s *Station) Update(f func(r *Reading)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.reading)
}

// Reading returns the current reading.
func (s *Station) Reading() Reading {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reading
}

// Run serves the bus until ctx ends (nil) or the port fails.
func (s *Station) Run(ctx context.Context) error { return s.slave.Run(ctx) }

// SetFaults injects CRC errors or silence (the zero value clears them).
func (s *Station) SetFaults(f rtuslave.Faults) { s.slave.SetFaults(f) }

// Stats returns the slave's counters.
func (s *Station) Stats() rtuslave.Stats { return s.slave.Stats() }
