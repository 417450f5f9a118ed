package rtuslave

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/rs485/modbus"
)

// Device answers the requests of one unit. A nil callback answers its
// functions with exception 0x01 (illegal function). A callback returns a
// non-zero Exception to refuse a request; the values are then ignored.
// Callbacks run on the slave's Run goroutine and must not block.
type Device struct {
	ReadCoils            func(start, count uint16) ([]bool, modbus.Exception)
	ReadDiscreteInputs   func(start, count uint16) ([]bool, modbus.Exception)
	ReadHoldingRegisters func(start, count uint16) ([]uint16, modbus.Exception)
	ReadInputRegisters   func(start, count uint16) ([]uint16, modbus.Exception)
	// WriteCoils serves 0x05 (one value) and 0x0F.
	WriteCoils func(start uint16, values []bool) modbus.Exception
	// WriteRegisters serves 0x06 (one value) and 0x10.
	WriteRegisters func(start uint16, values []uint16) modbus.Exception
}

// Options configure a Slave.
type Options struct {
	// Unit is the unit id answered, 1..247; requests to other units are
	// consumed silently, as on a shared bus.
	Unit uint8
	// Gap is the line silence that ends a frame; 0 means 20 ms. Bytes of an
	// incomplete frame are dropped after it.
	Gap time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Faults are the faults a Slave injects; the zero value is a healthy
// device.
type Faults struct {
	// CRCErrors corrupts the CRC of every reply.
	CRCErrors bool
	// Silent consumes requests without replying, as a dead device.
	Silent bool
}

// Stats are a slave's counters.
type Stats struct {
	Requests  uint64 // frames to this unit with a good CRC
	Replies   uint64 // replies written (exceptions included)
	Ignored   uint64 // good frames to other units
	BadFrames uint64 // bytes dropped: bad CRC, unknown length, cut by silence
}

// Slave is a Modbus RTU slave on a port. Its methods are safe for
// concurrent use with Run.
type Slave struct {
	port modbus.Port
	dev  Device
	unit uint8
	gap  time.Duration
	log  *slog.Logger

	mu     sync.Mutex
	faults Faults

	requests, replies, ignored, badFrames atomic.Uint64
}

// New returns a slave answering for dev on port. The caller owns port.
func New(opts Options, port modbus.Port, dev Device) (*Slave, error) {
	if port == nil {
		return nil, errors.New("new rtu slave: nil port")
	}
	if opts.Unit < 1 || opts.Unit > 247 {
		return nil, fmt.Errorf("new rtu slave: unit %d out of 1..247", opts.Unit)
	}
	s := &Slave{port: port, dev: dev, unit: opts.Unit, gap: opts.Gap, log: opts.Logger}
	if s.gap <= 0 {
		s.gap = 20 * time.Millisecond
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// SetFaults replaces the injected faults.
func (s *Slave) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the injected faults.
func (s *Slave) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Stats returns the counters.
func (s *Slave) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Replies: s.replies.Load(), Ignored: s.ignored.Load(), BadFrames: s.badFrames.Load()}
}

// Run serves requests until ctx ends (returning nil) or the port fails
// (returning the error). It polls ctx every Gap.
func (s *Slave) Run(ctx context.Context) error {
	if err := s.port.SetReadTimeout(s.gap); err != nil {
		return fmt.Errorf("rtu slave unit %d: set read timeout: %w", s.unit, err)
	}
	buf := make([]byte, 0, 512)
	chunk := make([]byte, 256)
	var out []byte
	for {
		if ctx.Err() != nil {
			return nil
		}
		n, err := s.port.Read(chunk)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("rtu slave unit %d: read: %w", s.unit, err)
		}
		if n == 0 { // silence ends any frame in progress
			if len(buf) > 0 {
				s.badFrames.Add(uint64(len(buf)))
				buf = buf[:0]
			}
			continue
		}
		buf = append(buf, chunk[:n]...)
		for {
			frame, rest, ok := s.cut(buf)
			if !ok {
				break
			}
			if frame != nil {
				out = s.serve(out[:0], frame)
				if len(out) > 0 {
					if _, err := s.port.Write(out); err != nil {
						return fmt.Errorf("rtu slave unit %d: write reply: %w", s.unit, err)
					}
					s.replies.Add(1)
				}
			}
			buf = append(buf[:0], rest...)
		}
		if len(buf) > 300 { // no frame is this long: noise
			s.badFrames.Add(uint64(len(buf)))
			buf = buf[:0]
		}
	}
}

// requestLen is the length of the request frame starting buf, 0 if buf is
// too short to tell, -1 for a function whose length is unknown.
func requestLen(buf []byte) int {
	if len(buf) < 2 {
		return 0
	}
	switch modbus.Function(buf[1]) {
	case modbus.FuncReadCoils, modbus.FuncReadDiscreteInputs, modbus.FuncReadHoldingRegisters,
		modbus.FuncReadInputRegisters, modbus.FuncWriteSingleCoil, modbus.FuncWriteSingleRegister:
		return 8
	case modbus.FuncWriteMultipleCoils, modbus.FuncWriteMultipleRegisters:
		if len(buf) < 7 {
			return 0
		}
		return 9 + int(buf[6])
	}
	return -1
}

// cut takes the next frame off buf. ok is false when more bytes are
// needed. frame is nil when a byte was dropped (noise) and rest is what
// remains to parse.
func (s *Slave) cut(buf []byte) (frame, rest []byte, ok bool) {
	l := requestLen(buf)
	switch {
	case l == 0 || l > len(buf):
		return nil, buf, false
	case l < 0 || !modbus.CheckCRC(buf[:l]):
		s.badFrames.Add(1)
		return nil, buf[1:], true
	}
	return buf[:l], buf[l:], true
}

// serve appends the reply to frame (nil when there is none).
func (s *Slave) serve(out, frame []byte) []byte {
	if frame[0] != s.unit {
		s.ignored.Add(1)
		return out
	}
	s.requests.Add(1)
	f := s.Faults()
	if f.Silent {
		return out
	}
	out = append(out, s.unit)
	out = s.answer(out, modbus.Function(frame[1]), frame[2:len(frame)-2])
	out = modbus.AppendCRC(out)
	if f.CRCErrors {
		out[len(out)-1] ^= 0x5A
	}
	return out
}

// answer appends the reply PDU to fn with request data d (after the
// function code, before the CRC).
func (s *Slave) answer(out []byte, fn modbus.Function, d []byte) []byte {
	exc := func(e modbus.Exception) []byte { return append(out, byte(fn)|0x80, byte(e)) }
	addr := binary.BigEndian.Uint16(d)
	count := binary.BigEndian.Uint16(d[2:])
	switch fn {
	case modbus.FuncReadCoils, modbus.FuncReadDiscreteInputs:
		cb := s.dev.ReadCoils
		if fn == modbus.FuncReadDiscreteInputs {
			cb = s.dev.ReadDiscreteInputs
		}
		if cb == nil {
			return exc(modbus.ExceptionIllegalFunction)
		}
		if count < 1 || count > modbus.MaxReadBits {
			return exc(modbus.ExceptionIllegalDataValue)
		}
		bits, e := cb(addr, count)
		if e != 0 {
			return exc(e)
		}
		if len(bits) != int(count) {
			return exc(modbus.ExceptionDeviceFailure)
		}
		out = append(out, byte(fn), byte((count+7)/8))
		return modbus.PackBits(out, bits)
	case modbus.FuncReadHoldingRegisters, modbus.FuncReadInputRegisters:
		cb := s.dev.ReadHoldingRegisters
		if fn == modbus.FuncReadInputRegisters {
			cb = s.dev.ReadInputRegisters
		}
		if cb == nil {
			return exc(modbus.ExceptionIllegalFunction)
		}
		if count < 1 || count > modbus.MaxReadRegisters {
			return exc(modbus.ExceptionIllegalDataValue)
		}
		regs, e := cb(addr, count)
		if e != 0 {
			return exc(e)
		}
		if len(regs) != int(count) {
			return exc(modbus.ExceptionDeviceFailure)
		}
		out = append(out, byte(fn), byte(2*count))
		for _, r := range regs {
			out = binary.BigEndian.AppendUint16(out, r)
		}
		return out
	case modbus.FuncWriteSingleCoil:
		if s.dev.WriteCoils == nil {
			return exc(modbus.ExceptionIllegalFunction)
		}
		if count != 0xFF00 && count != 0x0000 {
			return exc(modbus.ExceptionIllegalDataValue)
		}
		if e := s.dev.WriteCoils(addr, []bool{count == 0xFF00}); e != 0 {
			return exc(e)
		}
		return append(out, byte(fn), d[0], d[1], d[2], d[3])
	case modbus.FuncWriteSingleRegister:
		if s.dev.WriteRegisters == nil {
			return exc(modbus.ExceptionIllegalFunction)
		}
		if e := s.dev.WriteRegisters(addr, []uint16{count}); e != 0 {
			return exc(e)
		}
		return append(out, byte(fn), d[0], d[1], d[2], d[3])
	case modbus.FuncWriteMultipleCoils:
		if s.dev.WriteCoils == nil {
			return exc(modbus.ExceptionIllegalFunction)
		}
		if count < 1 || count > modbus.MaxWriteBits || int(d[4]) != (int(count)+7)/8 {
			return exc(modbus.ExceptionIllegalDataValue)
		}
		if e := s.dev.WriteCoils(addr, modbus.UnpackBits(nil, d[5:], int(count))); e != 0 {
			return exc(e)
		}
		return append(out, byte(fn), d[0], d[1], d[2], d[3])
	case modbus.FuncWriteMultipleRegisters:
		if s.dev.WriteRegisters == nil {
			return exc(modbus.ExceptionIllegalFunction)
		}
		if count < 1 || count > modbus.MaxWriteRegisters || int(d[4]) != 2*int(count) {
			return exc(modbus.ExceptionIllegalDataValue)
		}
		regs := make([]uint16, count)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(d[5+2*i:])
		}
		if e := s.dev.WriteRegisters(addr, regs); e != 0 {
			return exc(e)
		}
		return append(out, byte(fn), d[0], d[1], d[2], d[3])
	}
	return exc(modbus.ExceptionIllegalFunction)
}
