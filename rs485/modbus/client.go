package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// Port is what the Modbus RTU client needs from an RS-485 line (a serial.Port fits).
//
// A Read that times out returns 0, nil (the go.bug.st/serial habit); any
// error from Read or Write is taken as the port failing.
type Port interface {
	io.ReadWriter
	SetReadTimeout(d time.Duration) error
}

// Defaults of ClientOptions.
const (
	DefaultBaud        = 9600
	DefaultTimeout     = 250 * time.Millisecond
	DefaultByteTimeout = 50 * time.Millisecond
	// readSlice bounds one blocking Read, so that ctx and the clock are
	// looked at several times per request timeout.
	readSlice = 20 * time.Millisecond
)

// ClientOptions configure a Client. The zero value is a 9600 bit/s bus with
// a 250 ms timeout and no retries.
type ClientOptions struct {
	// Baud is the line rate in bit/s, used to compute the inter-frame
	// silence; 0 means 9600.
	Baud int
	// Silence is the quiet time kept between the end of one frame and the
	// next request; 0 means 3.5 character times at Baud (11 bits a
	// character), and 1.75 ms above 19200 bit/s as the RTU spec fixes it.
	// Negative means none (a pty, where bytes have no duration).
	Silence time.Duration
	// Timeout is how long to wait for the first byte of a reply; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// ByteTimeout is the longest gap inside a reply before it counts as a
	// short frame; 0 means DefaultByteTimeout (USB adapters deliver in
	// bursts, so this is far above the spec's 1.5 characters).
	ByteTimeout time.Duration
	// Retries is how many times a request is sent again after a timeout or
	// a damaged reply; 0 means none. Exceptions and port failures are never
	// retried.
	Retries int
	// Clock times silences and timeouts; nil means the real clock.
	Clock clockwork.Clock
	// Logger receives warnings on change of the bus health; nil discards.
	Logger *slog.Logger
}

// Stats are the client's counters since it was made.
type Stats struct {
	Requests   uint64 // request frames sent, retries included
	Retries    uint64 // requests sent again
	Timeouts   uint64 // requests that met silence
	CRCErrors  uint64 // replies with a bad CRC
	Frames     uint64 // other damaged or unexpected replies (short, wrong unit, wrong function, content)
	Exceptions uint64 // exception replies
	PortErrors uint64 // reads or writes the port failed
}

// Client is a Modbus RTU master on one bus. It serialises the requests of
// all callers (one request on the wire at a time), so it is safe for
// concurrent use and several units can share the bus. The methods block for
// at most Timeout (plus the reply) per attempt, or until ctx ends.
type Client struct {
	port        Port
	clock       clockwork.Clock
	log         *slog.Logger
	silence     time.Duration
	timeout     time.Duration
	byteTimeout time.Duration
	retries     int

	// turn is the bus: a request holds its token while on the wire.
	turn chan struct{}
	// Guarded by turn:
	lastIO time.Time // end of the last frame on the wire
	dirty  bool      // stray bytes may wait in the port: drain before sending
	buf    [maxADU]byte
	out    []byte
	failed bool // the last request failed (for log on change)

	// total counts every unit; units[u] counts unit u alone (1..247), so
	// that a metrics reader can tell a dead module from a noisy bus.
	total counters
	units [248]counters
}

// counter indexes a counters array.
type counter int

const (
	cRequests counter = iota
	cRetries
	cTimeouts
	cCRCErrors
	cFrames
	cExceptions
	cPortErrors
	nCounters
)

// counters are one set of Stats, safe to read while the bus counts.
type counters [nCounters]atomic.Uint64

func (cs *counters) stats() Stats {
	return Stats{
		Requests:   cs[cRequests].Load(),
		Retries:    cs[cRetries].Load(),
		Timeouts:   cs[cTimeouts].Load(),
		CRCErrors:  cs[cCRCErrors].Load(),
		Frames:     cs[cFrames].Load(),
		Exceptions: cs[cExceptions].Load(),
		PortErrors: cs[cPortErrors].Load(),
	}
}

// inc counts one k for unit (the bus total and the unit's own).
func (c *Client) inc(unit uint8, k counter) {
	c.total[k].Add(1)
	c.units[unit][k].Add(1)
}

// NewClient returns a client sending on port. The client does not own the
// port: the caller closes it, which makes pending requests fail.
func NewClient(opts ClientOptions, port Port) (*Client, error) {
	if port == nil {
		return nil, errors.New("new modbus client: nil port")
	}
	if opts.Baud < 0 || opts.Timeout < 0 || opts.ByteTimeout < 0 || opts.Retries < 0 {
		return nil, fmt.Errorf("new modbus client: negative baud %d, timeout %v, byte timeout %v or retries %d",
			opts.Baud, opts.Timeout, opts.ByteTimeout, opts.Retries)
	}
	c := &Client{
		port:        port,
		clock:       opts.Clock,
		log:         opts.Logger,
		silence:     opts.Silence,
		timeout:     opts.Timeout,
		byteTimeout: opts.ByteTimeout,
		retries:     opts.Retries,
		turn:        make(chan struct{}, 1),
	}
	if c.clock == nil {
		c.clock = clockwork.NewRealClock()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.silence == 0 {
		c.silence = FrameSilence(opts.Baud)
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.byteTimeout == 0 {
		c.byteTimeout = DefaultByteTimeout
	}
	return c, nil
}

// FrameSilence returns the RTU inter-frame silence at baud bit/s: 3.5
// characters of 11 bits, or 1.75 ms above 19200 bit/s; baud 0 means 9600.
func FrameSilence(baud int) time.Duration {
	if baud == 0 {
		baud = DefaultBaud
	}
	if baud > 19200 {
		return 1750 * time.Microsecond
	}
	return time.Duration(int64(time.Second) * 35 * 11 / 10 / int64(baud))
}

// Stats returns the bus's counters, all units together. It is safe to call
// at any time.
func (c *Client) Stats() Stats { return c.total.stats() }

// UnitStats are one unit's counters.
type UnitStats struct {
	Unit uint8
	Stats
}

// UnitStats returns the counters of every unit the client has sent a
// request to, by unit id. It is safe to call at any time (a metrics
// scrape reads it) and allocates only the returned slice.
func (c *Client) UnitStats() []UnitStats {
	var out []UnitStats
	for u := 1; u < len(c.units); u++ {
		if c.units[u][cRequests].Load() == 0 {
			continue
		}
		out = append(out, UnitStats{Unit: uint8(u), Stats: c.units[u].stats()})
	}
	return out
}

// ReadCoils reads count coils from start (function 0x01).
func (c *Client) ReadCoils(ctx context.Context, unit uint8, start, count uint16) ([]bool, error) {
	return c.readBits(ctx, &request{unit: unit, fn: FuncReadCoils, addr: start, count: count})
}

// ReadDiscreteInputs reads count discrete inputs from start (function 0x02).
func (c *Client) ReadDiscreteInputs(ctx context.Context, unit uint8, start, count uint16) ([]bool, error) {
	return c.readBits(ctx, &request{unit: unit, fn: FuncReadDiscreteInputs, addr: start, count: count})
}

// ReadHoldingRegisters reads count holding registers from start (function 0x03).
func (c *Client) ReadHoldingRegisters(ctx context.Context, unit uint8, start, count uint16) ([]uint16, error) {
	return c.readRegisters(ctx, &request{unit: unit, fn: FuncReadHoldingRegisters, addr: start, count: count})
}

// ReadInputRegisters reads count input registers from start (function 0x04).
func (c *Client) ReadInputRegisters(ctx context.Context, unit uint8, start, count uint16) ([]uint16, error) {
	return c.readRegisters(ctx, &request{unit: unit, fn: FuncReadInputRegisters, addr: start, count: count})
}

// WriteSingleCoil sets or clears one coil (function 0x05) and returns when
// the unit echoed it.
func (c *Client) WriteSingleCoil(ctx context.Context, unit uint8, addr uint16, on bool) error {
	v := uint16(0x0000)
	if on {
		v = 0xFF00
	}
	_, err := c.do(ctx, &request{unit: unit, fn: FuncWriteSingleCoil, addr: addr, count: v})
	return err
}

// WriteSingleRegister writes one holding register (function 0x06).
func (c *Client) WriteSingleRegister(ctx context.Context, unit uint8, addr, value uint16) error {
	_, err := c.do(ctx, &request{unit: unit, fn: FuncWriteSingleRegister, addr: addr, count: value})
	return err
}

// WriteMultipleCoils writes len(values) coils from start (function 0x0F).
func (c *Client) WriteMultipleCoils(ctx context.Context, unit uint8, start uint16, values []bool) error {
	if len(values) < 1 || len(values) > MaxWriteBits {
		return fmt.Errorf("modbus: write %d coils to unit %d: count out of 1..%d", len(values), unit, MaxWriteBits)
	}
	r := &request{unit: unit, fn: FuncWriteMultipleCoils, addr: start, count: uint16(len(values)), data: packBits(nil, values)}
	_, err := c.do(ctx, r)
	return err
}

// WriteMultipleRegisters writes len(values) holding registers from start
// (function 0x10).
func (c *Client) WriteMultipleRegisters(ctx context.Context, unit uint8, start uint16, values []uint16) error {
	if len(values) < 1 || len(values) > MaxWriteRegisters {
		return fmt.Errorf("modbus: write %d registers to unit %d: count out of 1..%d", len(values), unit, MaxWriteRegisters)
	}
	data := make([]byte, 0, 2*len(values))
	for _, v := range values {
		data = binary.BigEndian.AppendUint16(data, v)
	}
	r := &request{unit: unit, fn: FuncWriteMultipleRegisters, addr: start, count: uint16(len(values)), data: data}
	_, err := c.do(ctx, r)
	return err
}

func (c *Client) readBits(ctx context.Context, r *request) ([]bool, error) {
	if r.count < 1 || r.count > MaxReadBits {
		return nil, fmt.Errorf("modbus: %s of %d from unit %d: count out of 1..%d", r.fn, r.count, r.unit, MaxReadBits)
	}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	return unpackBits(make([]bool, 0, r.count), data, int(r.count)), nil
}

func (c *Client) readRegisters(ctx context.Context, r *request) ([]uint16, error) {
	if r.count < 1 || r.count > MaxReadRegisters {
		return nil, fmt.Errorf("modbus: %s of %d from unit %d: count out of 1..%d", r.fn, r.count, r.unit, MaxReadRegisters)
	}
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	regs := make([]uint16, r.count)
	for i := range regs {
		regs[i] = binary.BigEndian.Uint16(data[2*i:])
	}
	return regs, nil
}

// do runs r on the bus with retries and returns a copy of the reply data.
func (c *Client) do(ctx context.Context, r *request) ([]byte, error) {
	if r.unit < 1 || r.unit > 247 {
		return nil, fmt.Errorf("modbus: %s to unit %d: unit id out of 1..247", r.fn, r.unit)
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("modbus: %s to unit %d: wait for the bus: %w", r.fn, r.unit, ctx.Err())
	}
	defer func() { <-c.turn }()

	for attempt := 0; ; attempt++ {
		data, err := c.once(ctx, r)
		if err == nil {
			if c.failed {
				c.failed = false
				c.log.Info("modbus bus recovered", "unit", r.unit)
			}
			return append([]byte(nil), data...), nil
		}
		var fe *FrameError
		retryable := errors.Is(err, ErrTimeout) || errors.As(err, &fe)
		if !retryable || attempt >= c.retries || ctx.Err() != nil {
			if !c.failed {
				c.failed = true
				c.log.Warn("modbus request failed", "unit", r.unit, "function", r.fn.String(), "err", err)
			}
			return nil, err
		}
		c.inc(r.unit, cRetries)
	}
}

// once sends r once and reads its reply. The caller holds the bus.
func (c *Client) once(ctx context.Context, r *request) ([]byte, error) {
	if err := c.quiet(ctx, r); err != nil {
		return nil, err
	}
	c.out = r.appendADU(c.out[:0])
	c.inc(r.unit, cRequests)
	if _, err := c.port.Write(c.out); err != nil {
		c.inc(r.unit, cPortErrors)
		c.dirty = true
		return nil, fmt.Errorf("modbus: write %s to unit %d: %w", r.fn, r.unit, err)
	}
	c.lastIO = c.clock.Now()
	frame, err := c.readReply(ctx, r)
	c.lastIO = c.clock.Now()
	if err != nil {
		c.dirty = true
		c.count(r.unit, err)
		return nil, err
	}
	data, err := r.decodeReply(frame)
	if err != nil {
		var ee *ExceptionError
		if !errors.As(err, &ee) {
			c.dirty = true
		}
		c.count(r.unit, err)
		return nil, err
	}
	return data, nil
}

// count adds err to the counters.
func (c *Client) count(unit uint8, err error) {
	var fe *FrameError
	var ee *ExceptionError
	switch {
	case errors.Is(err, ErrTimeout):
		c.inc(unit, cTimeouts)
	case errors.As(err, &fe) && fe.Kind == FrameCRC:
		c.inc(unit, cCRCErrors)
	case errors.As(err, &fe):
		c.inc(unit, cFrames)
	case errors.As(err, &ee):
		c.inc(unit, cExceptions)
	}
}

// quiet waits out the inter-frame silence after the last frame and, after
// a failed request, drains bytes a late or damaged reply left in the port.
func (c *Client) quiet(ctx context.Context, r *request) error {
	if c.dirty {
		c.dirty = false
		if err := c.drain(ctx); err != nil {
			c.inc(r.unit, cPortErrors)
			return fmt.Errorf("modbus: drain before %s to unit %d: %w", r.fn, r.unit, err)
		}
	}
	if c.silence <= 0 || c.lastIO.IsZero() {
		return nil
	}
	wait := c.silence - c.clock.Since(c.lastIO)
	if wait <= 0 {
		return nil
	}
	t := c.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("modbus: %s to unit %d: %w", r.fn, r.unit, ctx.Err())
	}
}

// drain reads and drops whatever arrives until the line stays quiet for a
// byte timeout.
func (c *Client) drain(ctx context.Context) error {
	if err := c.port.SetReadTimeout(c.byteTimeout); err != nil {
		return err
	}
	for range 64 { // bounded: a babbling line is reported by the next reply
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := c.port.Read(c.buf[:])
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// readReply reads one reply frame to r into c.buf, its length told by the
// function code and byte count.
func (c *Client) readReply(ctx context.Context, r *request) ([]byte, error) {
	deadline := c.clock.Now().Add(c.timeout)
	got, need := 0, 3
	for got < need {
		now := c.clock.Now()
		limit := deadline
		if got > 0 {
			limit = c.lastIO.Add(c.byteTimeout)
		}
		wait := limit.Sub(now)
		if wait <= 0 {
			if got == 0 {
				return nil, fmt.Errorf("modbus: %s to unit %d: %w", r.fn, r.unit, ErrTimeout)
			}
			return nil, &FrameError{Unit: r.unit, Function: r.fn, Kind: FrameShort, Len: got}
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("modbus: %s to unit %d: %w", r.fn, r.unit, err)
		}
		if err := c.port.SetReadTimeout(min(wait, readSlice)); err != nil {
			c.inc(r.unit, cPortErrors)
			return nil, fmt.Errorf("modbus: set read timeout for unit %d: %w", r.unit, err)
		}
		n, err := c.port.Read(c.buf[got:need])
		if err != nil {
			c.inc(r.unit, cPortErrors)
			return nil, fmt.Errorf("modbus: read reply of unit %d to %s: %w", r.unit, r.fn, err)
		}
		if n == 0 {
			continue
		}
		got += n
		c.lastIO = c.clock.Now()
		switch l := r.replyLen(c.buf[:got]); {
		case l < 0:
			return nil, &FrameError{Unit: r.unit, Function: r.fn, Kind: FrameFunction, Len: got}
		case l > maxADU:
			return nil, &FrameError{Unit: r.unit, Function: r.fn, Kind: FrameContent, Len: got}
		case l > 0:
			need = l
		}
	}
	return c.buf[:got], nil
}
