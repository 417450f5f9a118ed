package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// Kind is how a Link reaches its peer.
type Kind string

// Link kinds, spelled as in the link strings (and config's LinkKind).
const (
	Serial Kind = "serial" // a device path, 8N1 at Options.Baud
	UDP    Kind = "udp"    // udp://host:port: send there, hear replies on the same socket
	UDPIn  Kind = "udpin"  // udpin://[host]:port: listen, answer every peer heard recently
	TCP    Kind = "tcp"    // tcp://host:port: connect
)

// Defaults of Options.
const (
	DefaultBaud        = 57600
	DefaultMinBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	DefaultPeerTimeout = 10 * time.Second
)

// ErrDown is returned by Write while the link is not open.
var ErrDown = errors.New("link is down")

// ErrNoPeer is returned by Write on a udpin link that has heard nobody yet
// (or nobody within Options.PeerTimeout).
var ErrNoPeer = errors.New("no peer heard yet")

// Options configures a Link. The zero value is usable: 57600 baud, backoff
// 100 ms .. 5 s on the real clock, peers kept 10 s, no logging.
type Options struct {
	// Baud is the serial rate; 0 means DefaultBaud. Ignored by network links.
	Baud int
	// OpenSerial opens the device of a Serial link, 8N1 at baud; required
	// for Serial links. The app injects it (internal/serialport, with hints
	// such as group dialout in its errors), so this package opens no
	// device itself. Closing the stream from another goroutine must wake a
	// blocked Read with an error; a Read that times out returns 0, nil.
	OpenSerial func(device string, baud int) (io.ReadWriteCloser, error)
	// Clock times the reopen backoff and UDP peer expiry; nil means the
	// real clock.
	Clock clockwork.Clock
	// Log gets link up/down events (on change, never per frame); nil
	// discards.
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reopening a link
	// that failed (the Backoff policy): it doubles per failed attempt and
	// resets once the link has delivered a frame. Zero means the defaults.
	MinBackoff, MaxBackoff time.Duration
	// PeerTimeout is how long a udpin link keeps answering a peer it no
	// longer hears; 0 means DefaultPeerTimeout.
	PeerTimeout time.Duration
	// Parser configures frame parsing (e.g. a signature Verifier).
	Parser mavlink.ParserOptions
	// OnFrame, if set, receives every good frame read, in order, on Run's
	// reader goroutine. f and its slices alias the read buffer and are
	// valid only during the call (copy f.Raw to keep it). It must not
	// block for long: it holds up reading.
	OnFrame func(f *mavlink.Frame)
	// OnReadDone, if set, is called on the reader goroutine once the
	// frames of one read of the link (one datagram on UDP) were all passed
	// to OnFrame, before the link is read again: what OnFrame gathered can
	// leave as one batch (the router's sendmmsg) without waiting for the
	// next read. It must not block for long.
	OnReadDone func()
	// OnState, if set, is called on Run's goroutine when the link comes
	// up and when it is lost. It must not block for long.
	OnState func(e Event)
}

// Event reports a link coming up or going down.
type Event struct {
	Up bool
	// Err is why the link went down, or the last open error before it
	// came up (nil if the first attempt worked).
	Err error
	// Attempts is the number of failed open attempts before an up event.
	Attempts int
	// Down is how long the link was down before an up event (0 at the
	// first open).
	Down time.Duration
}

// Stats counts a Link's traffic over all (re)opens. Counters only grow.
type Stats struct {
	FramesIn, BytesIn   uint64 // good frames read and their bytes
	FramesOut, BytesOut uint64 // frames written and their bytes
	WriteErrors         uint64 // writes that failed or found the link down
	BadCRC              uint64 // damaged frames skipped
	Rejected            uint64 // checksum-valid frames refused (flags, length, signature)
	Skipped             uint64 // bytes read that were part of no frame
	Opens, Reopens      uint64 // successful opens; opens after a loss
}

// Link is one MAVLink link that Run keeps open. Write is safe for
// concurrent use with itself and with Run.
type Link struct {
	kind Kind
	addr string
	opts Options
	log  *slog.Logger

	open opener

	mu   sync.Mutex // guards cur and base
	conn conn
	cur  mavlink.Stats // the open conn's parser counters
	base mavlink.Stats // counters of conns already closed

	wmu sync.Mutex // serialises writes so frames never interleave

	inBytes                          atomic.Uint64
	framesOut, bytesOut, writeErrors atomic.Uint64
	opens, reopens                   atomic.Uint64
	up                               atomic.Bool
}

// opener opens one connection of a link.
type opener func(ctx context.Context) (conn, error)

// conn is one open connection: serial port, socket.
type conn interface {
	// readFrames reads until the connection fails or is closed, calling
	// fn for each good frame, stats after each read and done once the
	// frames of one read (one datagram) were all passed to fn.
	readFrames(fn func(*mavlink.Frame), stats func(mavlink.Stats), done func()) error
	write(b []byte) error
	close() error
}

// New returns a Link of kind to addr: a device path for Serial (at
// opts.Baud), host:port for UDP and TCP, [host]:port for UDPIn. The link
// string itself (vehicle.url) is parsed in one place, config.ParseLink;
// the app passes its kind and address here. Nothing is opened before Run.
func New(kind Kind, addr string, opts Options) (*Link, error) {
	if addr == "" {
		return nil, fmt.Errorf("%s link: no address", kind)
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Baud == 0 {
		opts.Baud = DefaultBaud
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.PeerTimeout <= 0 {
		opts.PeerTimeout = DefaultPeerTimeout
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Link{kind: kind, addr: addr, opts: opts, log: log.With("link", kind.link(addr))}
	switch kind {
	case Serial:
		if opts.OpenSerial == nil {
			return nil, fmt.Errorf("serial link %s: no Options.OpenSerial to open it with", addr)
		}
		l.open = l.openSerial
	case UDP:
		l.open = l.openUDP
	case UDPIn:
		l.open = l.openUDPIn
	case TCP:
		l.open = l.openTCP
	default:
		return nil, fmt.Errorf("link %s: kind %q is not serial, udp, udpin or tcp", addr, kind)
	}
	return l, nil
}

// link spells a kind and address as the link string of vehicle.url (for
// the logs, which name links as the operator wrote them).
func (k Kind) link(addr string) string {
	if k == Serial {
		return addr
	}
	return string(k) + "://" + addr
}

// Kind returns the link's kind.
func (l *Link) Kind() Kind { return l.kind }

// Up reports whether the link is open now.
func (l *Link) Up() bool { return l.up.Load() }

// Stats returns the counters so far.
func (l *Link) Stats() Stats {
	l.mu.Lock()
	p := l.base
	c := l.cur
	l.mu.Unlock()
	return Stats{
		FramesIn:    p.Frames + c.Frames,
		BadCRC:      p.BadCRC + c.BadCRC,
		Rejected:    p.Rejected + c.Rejected + p.BadSignature + c.BadSignature,
		Skipped:     p.BytesSkipped + c.BytesSkipped,
		BytesIn:     l.inBytes.Load(),
		FramesOut:   l.framesOut.Load(),
		BytesOut:    l.bytesOut.Load(),
		WriteErrors: l.writeErrors.Load(),
		Opens:       l.opens.Load(),
		Reopens:     l.reopens.Load(),
	}
}

// Write sends one raw frame (or several back to back). It returns ErrDown
// while the link is not open, ErrNoPeer on a udpin link nobody talked to.
func (l *Link) Write(b []byte) error {
	l.mu.Lock()
	c := l.conn
	l.mu.Unlock()
	if c == nil {
		l.writeErrors.Add(1)
		return fmt.Errorf("write to %s link %s: %w", l.kind, l.addr, ErrDown)
	}
	l.wmu.Lock()
	err := c.write(b)
	l.wmu.Unlock()
	if err != nil {
		l.writeErrors.Add(1)
		return fmt.Errorf("write to %s link %s: %w", l.kind, l.addr, err)
	}
	l.framesOut.Add(1)
	l.bytesOut.Add(uint64(len(b)))
	return nil
}

// Run opens the link and reads it until ctx ends, reopening it with backoff
// whenever opening fails or the open link fails. It returns nil when ctx
// ends, after closing the link and stopping every goroutine it started.
func (l *Link) Run(ctx context.Context) error {
	backoff := Backoff{Min: l.opts.MinBackoff, Max: l.opts.MaxBackoff}
	var (
		downSince time.Time // zero before the first open
		attempts  int
		lastErr   error
	)
	for ctx.Err() == nil {
		c, err := l.open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wait := backoff.Failed()
			if attempts == 0 {
				l.log.Warn("link open failed, retrying", "err", err, "backoff", wait)
			}
			attempts++
			lastErr = err
			if !l.sleep(ctx, wait) {
				break
			}
			continue
		}
		ev := Event{Up: true, Err: lastErr, Attempts: attempts}
		if !downSince.IsZero() {
			ev.Down = l.opts.Clock.Since(downSince)
			l.reopens.Add(1)
		}
		l.opens.Add(1)
		l.log.Info("link up", "attempts", attempts, "down", ev.Down)
		l.setConn(c)
		l.report(ev)

		gotFrames, err := l.serve(ctx, c)

		l.setConn(nil)
		if ctx.Err() != nil {
			break
		}
		downSince = l.opts.Clock.Now()
		attempts, lastErr = 0, err
		l.log.Warn("link lost", "err", err)
		l.report(Event{Up: false, Err: err})
		if gotFrames {
			backoff.Reset()
		}
		// Wait even after a link that worked: a port that opens and fails
		// at once must not spin.
		if !l.sleep(ctx, backoff.Failed()) {
			break
		}
	}
	return nil
}

func (l *Link) report(e Event) {
	l.up.Store(e.Up)
	if l.opts.OnState != nil {
		l.opts.OnState(e)
	}
}

func (l *Link) setConn(c conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c == nil && l.conn != nil {
		l.base = addStats(l.base, l.cur)
		l.cur = mavlink.Stats{}
	}
	l.conn = c
}

func addStats(a, b mavlink.Stats) mavlink.Stats {
	return mavlink.Stats{
		Frames:       a.Frames + b.Frames,
		BadCRC:       a.BadCRC + b.BadCRC,
		BadSignature: a.BadSignature + b.BadSignature,
		Unknown:      a.Unknown + b.Unknown,
		Rejected:     a.Rejected + b.Rejected,
		BytesSkipped: a.BytesSkipped + b.BytesSkipped,
	}
}

// serve reads c until it fails or ctx ends, then closes it. It reports
// whether any frame arrived.
func (l *Link) serve(ctx context.Context, c conn) (bool, error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			c.close() // wakes the blocked read
		case <-done:
		}
	})
	got := false
	err := c.readFrames(func(f *mavlink.Frame) {
		got = true
		l.inBytes.Add(uint64(len(f.Raw)))
		if l.opts.OnFrame != nil {
			l.opts.OnFrame(f)
		}
	}, func(s mavlink.Stats) {
		l.mu.Lock()
		l.cur = s
		l.mu.Unlock()
	}, l.readDone)
	close(done)
	c.close()
	wg.Wait()
	return got, err
}

func (l *Link) readDone() {
	if l.opts.OnReadDone != nil {
		l.opts.OnReadDone()
	}
}

// sleep waits d on the clock; false if ctx ended first.
func (l *Link) sleep(ctx context.Context, d time.Duration) bool {
	t := l.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.Chan():
		return true
	}
}
