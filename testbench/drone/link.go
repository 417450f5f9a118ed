package drone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// maxQueue bounds the bytes waiting for the writer. A peer that stops
// reading (an agent killed, a full pty) costs frames, as on a radio, not
// memory.
const maxQueue = 32 << 10

// pollInterval is how often a blocked read on a port with a read timeout
// (a pty.Pair, a serial port) comes back to check for the end of Serve.
const pollInterval = 100 * time.Millisecond

// link is one attached peer: its stream settings (ArduPilot keeps them per
// port), its sequence numbers and its outgoing queue.
type link struct {
	// Guarded by Sim.mu.
	seq       uint8
	enc       []byte
	groupHz   [13]float64              // by MAV_DATA_STREAM id
	override  map[uint32]time.Duration // SET_MESSAGE_INTERVAL: >0 interval, <0 off
	sched     []sched
	hbNext    time.Time
	loadLast  time.Time
	loadCarry float64 // fraction of a load frame owed
	loadIdx   int

	qmu  sync.Mutex
	q    []byte
	ends []int // end offsets of the frames in q
	wake chan struct{}

	sent, dropped, written, frames, bad atomic.Uint64
}

// sched is one message streamed on a link.
type sched struct {
	id    uint32
	every time.Duration
	next  time.Time
}

func newLink(now time.Time) *link {
	return &link{
		enc:      make([]byte, 0, mavlink.MaxFrameLen),
		override: make(map[uint32]time.Duration),
		hbNext:   now,
		loadLast: now,
		wake:     make(chan struct{}, 1),
	}
}

func (l *link) stats() LinkStats {
	return LinkStats{Sent: l.sent.Load(), Dropped: l.dropped.Load(), Written: l.written.Load(), Frames: l.frames.Load(), Bad: l.bad.Load()}
}

// enqueue copies frame into the queue, or drops it when the queue is full.
func (l *link) enqueue(frame []byte) {
	l.qmu.Lock()
	if len(l.q)+len(frame) > maxQueue {
		l.qmu.Unlock()
		l.dropped.Add(1)
		return
	}
	l.q = append(l.q, frame...)
	l.ends = append(l.ends, len(l.q))
	l.qmu.Unlock()
	l.sent.Add(1)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// setStreamRate sets an ArduPilot stream group (REQUEST_DATA_STREAM) to hz;
// MAV_DATA_STREAM_ALL sets every group. Caller holds Sim.mu.
func (l *link) setStreamRate(id mavlink.MAVDataStream, hz float64, now time.Time) {
	if id == mavlink.MAV_DATA_STREAM_ALL {
		for g := range streamGroups {
			l.groupHz[g] = hz
		}
	} else if int(id) < len(l.groupHz) {
		l.groupHz[id] = hz
	}
	l.rebuild(now)
}

// setInterval applies MAV_CMD_SET_MESSAGE_INTERVAL: us -1 stops the
// message, 0 returns it to its stream group's rate, more is the interval in
// µs. Caller holds Sim.mu.
func (l *link) setInterval(id uint32, us float64, now time.Time) {
	switch {
	case us < 0:
		l.override[id] = -1
	case us == 0:
		delete(l.override, id)
	default:
		l.override[id] = max(time.Millisecond, time.Duration(us)*time.Microsecond)
	}
	l.rebuild(now)
}

// interval returns the interval message id is streamed at, 0 if not.
func (l *link) interval(id uint32) time.Duration {
	if d, ok := l.override[id]; ok {
		return max(d, 0)
	}
	var best time.Duration
	for g, ids := range streamGroups {
		hz := l.groupHz[g]
		if hz <= 0 {
			continue
		}
		for _, m := range ids {
			if m == id {
				if d := time.Duration(float64(time.Second) / hz); best == 0 || d < best {
					best = d
				}
			}
		}
	}
	return best
}

// rebuild recomputes the schedule; messages already streamed keep their
// phase, new ones are due at once.
func (l *link) rebuild(now time.Time) {
	old := l.sched
	l.sched = nil
	for _, id := range streamIDs {
		d := l.interval(id)
		if d <= 0 {
			continue
		}
		next := now
		for _, o := range old {
			if o.id == id && o.every == d {
				next = o.next
			}
		}
		l.sched = append(l.sched, sched{id: id, every: d, next: next})
	}
}

// emitDue sends link l its heartbeat, streams and load frames due at now.
// Caller holds mu.
func (s *Sim) emitDue(l *link, now time.Time) {
	if !now.Before(l.hbNext) {
		s.sendID(l, 0, now)
		l.hbNext = l.hbNext.Add(time.Second)
		if !l.hbNext.After(now) {
			l.hbNext = now.Add(time.Second)
		}
	}
	for i := range l.sched {
		e := &l.sched[i]
		if now.Before(e.next) {
			continue
		}
		s.sendID(l, e.id, now)
		e.next = e.next.Add(e.every)
		if !e.next.After(now) {
			e.next = now.Add(e.every)
		}
	}
	v := &s.v
	dt := now.Sub(l.loadLast).Seconds()
	l.loadLast = now
	if v.loadRate <= 0 {
		return
	}
	l.loadCarry += float64(v.loadRate) * dt
	n := int(l.loadCarry)
	l.loadCarry -= float64(n)
	n = min(n, v.loadRate) // at most a second's worth after a stall
	for range n {
		s.sendID(l, loadIDs[l.loadIdx%len(loadIDs)], now)
		l.loadIdx++
	}
}

// loadIDs are the messages of the load stream, in turn.
var loadIDs = [...]uint32{30, 33, 74, 1}

// send encodes m and queues it for l, or loses it during a link drop.
// Caller holds mu.
func (s *Sim) send(l *link, m mavlink.Message) {
	var err error
	l.enc, err = mavlink.AppendMessage(l.enc[:0], mavlink.Header{Version: s.ver, Seq: l.seq, SysID: s.sysID, CompID: s.compID}, m, nil)
	if err != nil {
		panic(fmt.Sprintf("drone: encode message %d: %v", m.MsgID(), err)) // programmer bug: only table messages are sent
	}
	s.queue(l)
}

// sendPayload is send for a message without a Go type: payload is the
// untruncated payload. Caller holds mu.
func (s *Sim) sendPayload(l *link, id uint32, payload []byte) {
	var err error
	l.enc, err = mavlink.AppendPayload(l.enc[:0], mavlink.Header{Version: s.ver, Seq: l.seq, SysID: s.sysID, CompID: s.compID}, id, payload, nil)
	if err != nil {
		panic(fmt.Sprintf("drone: encode message %d: %v", id, err)) // programmer bug
	}
	s.queue(l)
}

func (s *Sim) queue(l *link) {
	l.seq++
	if s.clock.Now().Before(s.v.linkDownUntil) {
		l.dropped.Add(1)
		return
	}
	l.enqueue(l.enc)
}

// sendAll sends m on every link. Caller holds mu.
func (s *Sim) sendAll(m mavlink.Message) {
	for l := range s.links {
		s.send(l, m)
	}
}

// Serve serves one MAVLink link over rw until ctx ends (then it returns
// nil) or rw fails (it returns the error, matching io.EOF when the peer
// left, also by a TCP reset; the vehicle flies on and Serve may be called
// again with a new rw). A link starts with only the
// heartbeat, like ArduCopter's ports; its stream settings live as long as
// this call, so a pty.Pair unplugged and replugged, or an agent killed and
// restarted on it, keeps them, as a real serial port does.
//
// Reads return on ctx's end by themselves when rw has SetReadDeadline (a
// net.Conn) or SetReadTimeout (a pty.Pair, a serial port: Serve sets
// 100 ms); otherwise the caller must close rw to end Serve. A Write can
// block when the peer stopped reading (a pty whose agent died fills after
// ~8 KB): frames are then dropped, not buffered without bound, and at the
// end Serve returns after 1 s (wall clock) leaving the blocked writer to
// end when rw is closed.
func (s *Sim) Serve(ctx context.Context, rw io.ReadWriter) error {
	s.mu.Lock()
	l := newLink(s.clock.Now())
	s.links[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.links, l)
		if s.v.up != nil && s.v.up.l == l {
			s.v.up = nil
		}
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	real := clockwork.NewRealClock() // IO deadlines are wall-clock time
	if d, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(real.Now()) })
		defer stop()
	} else if t, ok := rw.(interface{ SetReadTimeout(time.Duration) error }); ok {
		if err := t.SetReadTimeout(pollInterval); err != nil {
			return fmt.Errorf("serve drone link: set read timeout: %w", err)
		}
	}
	if d, ok := rw.(interface{ SetWriteDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetWriteDeadline(real.Now()) })
		defer stop()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.writeLoop(ctx, l, rw)
	}()
	err := s.readLoop(ctx, l, rw)
	cancel()
	// A writer blocked on a peer that stopped reading (a pty whose reader
	// died, its buffer full) cannot be woken without closing rw, which is
	// the caller's: give it a moment, then leave it to end when rw closes.
	select {
	case <-done:
	case <-real.After(writerGrace):
		s.log.Warn("drone link writer still blocked at the end of Serve; it ends when the port is closed")
	}
	return err
}

// writerGrace is how long (wall-clock) Serve waits for a blocked writer.
const writerGrace = time.Second

// writeLoop writes the queued frames in batches and reports each written
// frame to Options.OnFrameWritten.
func (s *Sim) writeLoop(ctx context.Context, l *link, w io.Writer) {
	var batch []byte
	var ends []int
	logged := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		l.qmu.Lock()
		batch, l.q = l.q, batch[:0]
		ends, l.ends = l.ends, ends[:0]
		l.qmu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if _, err := w.Write(batch); err != nil {
			l.dropped.Add(uint64(len(ends)))
			if ctx.Err() != nil {
				return
			}
			if !logged {
				s.log.Warn("drone link write failing", "err", err)
				logged = true
			}
			continue
		}
		if logged {
			s.log.Info("drone link write recovered")
			logged = false
		}
		l.written.Add(uint64(len(ends)))
		if s.onSent != nil {
			now := s.clock.Now()
			start := 0
			for _, e := range ends {
				s.onSent(batch[start:e], now)
				start = e
			}
		}
	}
}

// readLoop parses frames from r and handles them until ctx ends or r fails.
func (s *Sim) readLoop(ctx context.Context, l *link, r io.Reader) error {
	p := mavlink.NewParser(mavlink.ParserOptions{})
	buf := make([]byte, 16<<10)
	var f mavlink.Frame
	start, end := 0, 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		if end == len(buf) { // only a partial frame can be left: keep it
			end = copy(buf, buf[start:end])
			start = 0
		}
		n, err := r.Read(buf[end:])
		end += n
		for start < end {
			k, perr := p.Next(buf[start:end], false, &f)
			start += k
			if errors.Is(perr, mavlink.ErrNeedMore) {
				break
			}
			if perr != nil {
				l.bad.Add(1)
				continue
			}
			l.frames.Add(1)
			s.handleFrame(l, &f)
		}
		if start == end {
			start, end = 0, 0
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if errors.Is(err, syscall.ECONNRESET) {
				// A TCP peer that closed with frames still unread resets
				// the connection instead of ending it: it left all the same.
				return fmt.Errorf("serve drone link: peer reset the connection (%v): %w", err, io.EOF)
			}
			return fmt.Errorf("serve drone link: read: %w", err)
		}
	}
}
