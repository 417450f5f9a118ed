package transport

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/internal/serialport"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// heartbeat encodes a HEARTBEAT from sys/comp with sequence seq.
func heartbeat(t testing.TB, sys, comp, seq uint8) []byte {
	t.Helper()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Seq: seq, SysID: sys, CompID: comp},
		&mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, MavlinkVersion: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder collects frames and events from a Link's callbacks.
type recorder struct {
	mu     sync.Mutex
	frames [][]byte
	events []Event
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) onFrame(f *mavlink.Frame) {
	r.mu.Lock()
	r.frames = append(r.frames, bytes.Clone(f.Raw))
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) onState(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds (checked under the lock) or fails after 5 s.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second) // real IO: a bound, not a synchronisation
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func startLink(t *testing.T, kind Kind, addr string, opts Options) (*Link, *recorder) {
	t.Helper()
	rec := newRecorder()
	return startLinkRec(t, kind, addr, opts, rec), rec
}

// startLinkRec is startLink recording into rec, which other callbacks in
// opts may share.
func startLinkRec(t *testing.T, kind Kind, addr string, opts Options, rec *recorder) *Link {
	t.Helper()
	opts.OnFrame = rec.onFrame
	opts.OnState = rec.onState
	opts.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 10 * time.Millisecond
		opts.MaxBackoff = 50 * time.Millisecond
	}
	l, err := New(kind, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := l.Run(ctx); err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return l
}

func TestNewRefusesWhatItCannotOpen(t *testing.T) {
	for _, tc := range []struct {
		kind    Kind
		addr    string
		wantErr string
	}{
		{"http", "x:1", `link x:1: kind "http" is not serial, udp, udpin or tcp`},
		{TCP, "", "tcp link: no address"},
		{Serial, "/dev/ttyUSB0", "serial link /dev/ttyUSB0: no Options.OpenSerial to open it with"},
	} {
		if l, err := New(tc.kind, tc.addr, Options{}); err == nil || err.Error() != tc.wantErr {
			t.Errorf("New(%q, %q) = %v, %v, want error %q", tc.kind, tc.addr, l, err, tc.wantErr)
		}
	}
}

func TestSerialUnplugReplug(t *testing.T) {
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "radio")})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	l, rec := startLink(t, Serial, pair.Path(), Options{Baud: 115200, OpenSerial: openSerial})
	rec.waitFor(t, "link up", func() bool { return len(rec.events) == 1 && rec.events[0].Up })

	// Vehicle to agent, with line noise in front.
	if _, err := pair.Write(append([]byte{0x00, 0x13, 0x55}, heartbeat(t, 1, 1, 7)...)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "heartbeat", func() bool { return len(rec.frames) == 1 })
	// Agent to vehicle.
	hb := heartbeat(t, 255, 190, 1)
	if err := l.Write(hb); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	got := readN(t, pair, len(hb))
	if !bytes.Equal(got, hb) {
		t.Fatalf("vehicle read % x, want % x", got, hb)
	}

	if err := pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "link lost", func() bool { return len(rec.events) == 2 && !rec.events[1].Up })
	if err := l.Write(hb); !errors.Is(err, ErrDown) {
		t.Fatalf("Write() while unplugged = %v, want ErrDown", err)
	}
	if err := pair.Replug(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "link back", func() bool { return len(rec.events) == 3 && rec.events[2].Up })
	if _, err := pair.Write(heartbeat(t, 1, 1, 8)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "heartbeat after replug", func() bool { return len(rec.frames) == 2 })
	s := l.Stats()
	if s.FramesIn != 2 || s.Reopens != 1 || s.Opens != 2 || s.Skipped != 3 || s.FramesOut != 1 || s.WriteErrors != 1 {
		t.Fatalf("Stats() = %+v, want 2 frames in, 3 bytes skipped, 1 out, 1 write error, 2 opens, 1 reopen", s)
	}
}

// readN reads n bytes from the pty master under a deadline.
func readN(t *testing.T, p *pty.Pair, n int) []byte {
	t.Helper()
	if err := p.SetReadTimeout(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 512)
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		k, err := p.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:k]...)
	}
	return out
}

func TestUDPClient(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	l, rec := startLink(t, UDP, peer.LocalAddr().String(), Options{})
	rec.waitFor(t, "link up", func() bool { return len(rec.events) == 1 })
	hb := heartbeat(t, 255, 190, 3)
	if err := l.Write(hb); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 300)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || !bytes.Equal(buf[:n], hb) {
		t.Fatalf("peer read % x, %v; want % x", buf[:n], err, hb)
	}
	// Two frames in one datagram both arrive.
	two := append(heartbeat(t, 1, 1, 1), heartbeat(t, 1, 1, 2)...)
	if _, err := peer.WriteToUDPAddrPort(two, from); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "two frames", func() bool { return len(rec.frames) == 2 })
}

func TestUDPServerAnswersEveryPeer(t *testing.T) {
	clk := clockwork.NewFakeClock()
	l, rec := startLink(t, UDPIn, "127.0.0.1:0", Options{Clock: clk, PeerTimeout: 10 * time.Second})
	rec.waitFor(t, "link up", func() bool { return len(rec.events) == 1 })
	if err := l.Write(heartbeat(t, 255, 190, 0)); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("Write() before any peer = %v, want ErrNoPeer", err)
	}
	srv := net.UDPAddrFromAddrPort(l.LocalAddr())
	var peers []*net.UDPConn
	for i := range 2 {
		p, err := net.DialUDP("udp", nil, srv)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		peers = append(peers, p)
		if _, err := p.Write(heartbeat(t, uint8(1+i), 1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitFor(t, "both peers heard", func() bool { return len(rec.frames) == 2 })
	hb := heartbeat(t, 255, 190, 1)
	if err := l.Write(hb); err != nil {
		t.Fatal(err)
	}
	for i, p := range peers {
		buf := make([]byte, 300)
		p.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := p.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], hb) {
			t.Fatalf("peer %d read % x, %v; want % x", i, buf[:n], err, hb)
		}
	}
	clk.Advance(11 * time.Second)
	if err := l.Write(hb); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("Write() 11 s after the peers fell silent = %v, want ErrNoPeer", err)
	}
}

func TestTCPReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l, rec := startLink(t, TCP, ln.Addr().String(), Options{})
	c1, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c1.Write(heartbeat(t, 1, 1, 0))
	rec.waitFor(t, "frame on first connection", func() bool { return len(rec.frames) == 1 })
	c1.Close() // the simulator goes away
	rec.waitFor(t, "link lost", func() bool { return len(rec.events) >= 2 && !rec.events[1].Up })
	c2, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	rec.waitFor(t, "link back", func() bool { return len(rec.events) == 3 && rec.events[2].Up })
	hb := heartbeat(t, 255, 190, 0)
	if err := l.Write(hb); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(hb))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := readFull(c2, buf); err != nil || !bytes.Equal(buf, hb) {
		t.Fatalf("simulator read % x, %v; want % x", buf, err, hb)
	}
	if s := l.Stats(); s.Reopens != 1 {
		t.Fatalf("Stats().Reopens = %d, want 1", s.Reopens)
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestBackoff checks on a fake clock that failed opens wait 100 ms, 200 ms,
// 400 ms ... capped at 5 s, and never spin.
func TestBackoff(t *testing.T) {
	clk := clockwork.NewFakeClock()
	l, err := New(TCP, "127.0.0.1:1", Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	attempts := make(chan time.Time, 100)
	l.open = func(context.Context) (conn, error) {
		attempts <- clk.Now()
		return nil, errors.New("connection refused")
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	<-attempts
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for i, w := range want {
		w *= time.Millisecond
		if err := clk.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(w - time.Millisecond)
		select {
		case <-attempts:
			t.Fatalf("attempt %d came before %v", i+2, w)
		default:
		}
		clk.Advance(time.Millisecond)
		select {
		case <-attempts:
		case <-time.After(5 * time.Second): // real bound on a goroutine hand-off
			t.Fatalf("attempt %d did not come after %v", i+2, w)
		}
	}
}

func TestWriteBeforeRun(t *testing.T) {
	l, err := New(UDP, "127.0.0.1:9", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write([]byte{1}); !errors.Is(err, ErrDown) {
		t.Fatalf("Write() before Run = %v, want ErrDown", err)
	}
	if l.LocalAddr() != (netip.AddrPort{}) {
		t.Fatalf("LocalAddr() before Run = %v, want invalid", l.LocalAddr())
	}
}

// The serial link reads through internal/serialport's polled port (not
// go.bug.st/serial's select(2) read); that Close wakes a blocked read is
// serialport's own test.
func TestSerialReadWaitsInPoller(t *testing.T) {
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "radio")})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	l, err := New(Serial, pair.Path(), Options{Baud: 57600, OpenSerial: openSerial})
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.openSerial(t.Context())
	if err != nil {
		t.Fatalf("openSerial() = %v", err)
	}
	sc, ok := c.(*streamConn).rwc.(*serialport.Port)
	if !ok || !sc.Polled() {
		c.close()
		t.Fatalf("openSerial() reads through %T, want a polled *serialport.Port", c.(*streamConn).rwc)
	}
	hb := heartbeat(t, 1, 1, 3)
	if _, err := pair.Write(hb); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := sc.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], hb) {
		t.Fatalf("Read() = % x, %v, want % x", buf[:n], err, hb)
	}
	if err := c.close(); err != nil {
		t.Fatalf("close() = %v", err)
	}
}
