package router

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func frame(t testing.TB, sys, comp, seq uint8, m mavlink.Message) []byte {
	t.Helper()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Seq: seq, SysID: sys, CompID: comp}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func vehicleHeartbeat(t testing.TB, seq uint8) []byte {
	return frame(t, 1, 1, seq, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, MavlinkVersion: 3})
}

// unknownFrame is a valid-looking MAVLink 2 frame of an id outside the
// dialect (its checksum cannot be checked, so it passes as is).
func unknownFrame() []byte {
	return []byte{0xFD, 3, 0, 0, 9, 1, 1, 0x60, 0xEA, 0x00, 1, 2, 3, 0xAA, 0xBB}
}

// vehicleSide records what the router sends to the vehicle.
type vehicleSide struct{ ch chan []byte }

func (v *vehicleSide) Write(b []byte) error { v.ch <- bytes.Clone(b); return nil }

// gcs is a ground station on a UDP socket.
type gcs struct {
	t *testing.T
	c *net.UDPConn
}

func newGCS(t *testing.T) *gcs {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &gcs{t: t, c: c}
}

func (g *gcs) addr() string { return g.c.LocalAddr().String() }

// read returns the next datagram, or nil after within (real IO: a bound).
func (g *gcs) read(within time.Duration) ([]byte, netip.AddrPort) {
	buf := make([]byte, 1024)
	g.c.SetReadDeadline(time.Now().Add(within))
	n, from, err := g.c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}
	}
	return buf[:n], from
}

func (g *gcs) send(b []byte, to netip.AddrPort) {
	if _, err := g.c.WriteToUDPAddrPort(b, to); err != nil {
		g.t.Fatal(err)
	}
}

func startRouter(t *testing.T, opts Options, v Sender) *Router {
	t.Helper()
	r, err := New(opts, v)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func TestGroundStationSeesVehicleAndCommandsIt(t *testing.T) {
	g := newGCS(t)
	v := &vehicleSide{ch: make(chan []byte, 10)}
	r := startRouter(t, Options{Endpoints: []Endpoint{{Name: "qgc", Addr: g.addr()}}}, v)

	hb := vehicleHeartbeat(t, 1)
	r.Forward(hb)
	got, from := g.read(5 * time.Second)
	if !bytes.Equal(got, hb) {
		t.Fatalf("ground station read % x, want the heartbeat % x byte for byte", got, hb)
	}
	r.Forward(unknownFrame())
	if got, _ := g.read(5 * time.Second); !bytes.Equal(got, unknownFrame()) {
		t.Fatalf("unknown message arrived as % x, want it untouched", got)
	}

	cmd := frame(t, 255, 190, 0, &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1})
	g.send(append(bytes.Clone(cmd), unknownFrame()...), from)
	for _, want := range [][]byte{cmd, unknownFrame()} {
		select {
		case got := <-v.ch:
			if !bytes.Equal(got, want) {
				t.Fatalf("vehicle got % x, want % x", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the ground station's frame did not reach the vehicle")
		}
	}
	s := r.Stats()[0]
	if s.Name != "qgc" || s.FramesOut != 2 || s.FramesIn != 2 || s.BytesOut != uint64(len(hb)+len(unknownFrame())) {
		t.Fatalf("Stats() = %+v, want 2 frames each way", s)
	}
}

func TestServerEndpointAnswersEveryRecentClient(t *testing.T) {
	clk := clockwork.NewFakeClock()
	v := &vehicleSide{ch: make(chan []byte, 10)}
	r := startRouter(t, Options{Clock: clk, Endpoints: []Endpoint{{Name: "srv", Listen: true, Addr: "127.0.0.1:0"}}}, v)
	srv := r.LocalAddr("srv")
	a, b := newGCS(t), newGCS(t)
	for i, g := range []*gcs{a, b} {
		g.send(frame(t, 255-uint8(i), 190, 0, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GCS, Autopilot: mavlink.MAV_AUTOPILOT_INVALID}), srv)
		select {
		case <-v.ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("client %d not heard", i)
		}
	}
	if n := r.Stats()[0].Clients; n != 2 {
		t.Fatalf("Clients = %d, want 2", n)
	}
	hb := vehicleHeartbeat(t, 5)
	r.Forward(hb)
	for i, g := range []*gcs{a, b} {
		if got, _ := g.read(5 * time.Second); !bytes.Equal(got, hb) {
			t.Fatalf("client %d read % x, want the heartbeat (every client, not only the last)", i, got)
		}
	}
	clk.Advance(11 * time.Second)
	r.Forward(vehicleHeartbeat(t, 6))
	if s := r.Stats()[0]; s.Clients != 0 || s.FramesOut != 2 {
		t.Fatalf("after 11 s of silence Stats() = %+v, want no clients and nothing more sent", s)
	}
}

func TestFilters(t *testing.T) {
	noHB, onlyVehicle := newGCS(t), newGCS(t)
	v := &vehicleSide{ch: make(chan []byte, 10)}
	r := startRouter(t, Options{Endpoints: []Endpoint{
		{Name: "no-heartbeat", Addr: noHB.addr(), Filter: Filter{BlockMsgIDs: []uint32{0}}},
		{Name: "vehicle-only", Addr: onlyVehicle.addr(), Filter: Filter{AllowSysIDs: []uint8{1}, AllowMsgIDs: []uint32{0, 33}}},
	}}, v)
	hb := vehicleHeartbeat(t, 1)
	pos := frame(t, 1, 1, 2, &mavlink.GlobalPositionInt{Lat: 1})
	att := frame(t, 1, 1, 3, &mavlink.Attitude{Roll: 1})
	ours := frame(t, 255, 190, 0, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GCS, Autopilot: mavlink.MAV_AUTOPILOT_INVALID})
	for _, f := range [][]byte{hb, pos, att, ours} {
		r.Forward(f)
	}
	var got [][]byte
	for {
		b, _ := noHB.read(300 * time.Millisecond)
		if b == nil {
			break
		}
		got = append(got, b)
	}
	if len(got) != 2 || !bytes.Equal(got[0], pos) || !bytes.Equal(got[1], att) {
		t.Errorf("no-heartbeat endpoint got %d frames, want position and attitude", len(got))
	}
	got = nil
	for {
		b, _ := onlyVehicle.read(300 * time.Millisecond)
		if b == nil {
			break
		}
		got = append(got, b)
	}
	if len(got) != 2 || !bytes.Equal(got[0], hb) || !bytes.Equal(got[1], pos) {
		t.Errorf("vehicle-only endpoint got %d frames, want the vehicle's heartbeat and position", len(got))
	}
	st := r.Stats()
	if st[0].Filtered != 2 || st[1].Filtered != 2 {
		t.Errorf("Filtered = %d, %d; want 2, 2", st[0].Filtered, st[1].Filtered)
	}
	// Inbound: a blocked heartbeat from the ground station is not passed on.
	_, from := noHB.c.LocalAddr(), r.eps[0].pc.LocalAddr().(*net.UDPAddr).AddrPort()
	noHB.send(ours, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), from.Port()))
	cmd := frame(t, 255, 190, 1, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_MISSION_START})
	noHB.send(cmd, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), from.Port()))
	select {
	case b := <-v.ch:
		if !bytes.Equal(b, cmd) {
			t.Errorf("vehicle got % x, want only the command (the heartbeat is blocked)", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("command did not reach the vehicle")
	}
}

func TestDedupe(t *testing.T) {
	clk := clockwork.NewFakeClock()
	g := newGCS(t)
	r := startRouter(t, Options{Clock: clk, Endpoints: []Endpoint{{Addr: g.addr()}}}, nil)
	hb := vehicleHeartbeat(t, 1)
	r.Forward(hb)
	r.Forward(hb) // the same frame over the second radio
	other := vehicleHeartbeat(t, 2)
	r.Forward(other)
	if r.Duplicates() != 1 {
		t.Fatalf("Duplicates() = %d, want 1", r.Duplicates())
	}
	clk.Advance(time.Second)
	r.Forward(hb) // seq wrapped around: a new frame
	var got [][]byte
	for {
		b, _ := g.read(300 * time.Millisecond)
		if b == nil {
			break
		}
		got = append(got, b)
	}
	if len(got) != 3 || !bytes.Equal(got[0], hb) || !bytes.Equal(got[1], other) || !bytes.Equal(got[2], hb) {
		t.Fatalf("ground station got %d frames, want heartbeat, other, heartbeat", len(got))
	}
}

func TestBadEndpoint(t *testing.T) {
	for _, tc := range []struct {
		ep      Endpoint
		wantErr string
	}{
		{Endpoint{}, "endpoint udp://: no address"},
		{Endpoint{Addr: "no port"}, "endpoint udp://no port: resolve udp://no port: "},
		{Endpoint{Name: "srv", Listen: true, Addr: "256.1.1.1:5"}, "endpoint srv: resolve udpin://256.1.1.1:5: "},
	} {
		if _, err := New(Options{Endpoints: []Endpoint{tc.ep}}, nil); err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
			t.Errorf("New(%+v) = %v, want an error starting %q", tc.ep, err, tc.wantErr)
		}
	}
}

func TestForwardDoesNotAllocate(t *testing.T) {
	g := newGCS(t)
	srv := newGCS(t)
	r, err := New(Options{Endpoints: []Endpoint{{Addr: g.addr()}, {Name: "srv", Listen: true, Addr: "127.0.0.1:0"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	srv.send(vehicleHeartbeat(t, 0), r.LocalAddr("srv"))
	hb := vehicleHeartbeat(t, 1)
	seq := uint8(0)
	allocs := testing.AllocsPerRun(200, func() {
		seq++
		hb[4] = seq // a new frame each time, so dedupe lets it pass
		r.Forward(hb)
	})
	if allocs != 0 {
		t.Fatalf("Forward allocates %v times per frame, want 0", allocs)
	}
}

// BenchmarkForward is the router's figure for production: one frame from
// the vehicle to one udp:// ground station, the sendto system call included
// (a loopback sink reads nothing, so the kernel drops what overflows its
// buffer after the send succeeded).
func BenchmarkForward(b *testing.B) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	r, err := New(Options{Endpoints: []Endpoint{{Addr: sink.LocalAddr().String()}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	pos := frame(b, 1, 1, 0, &mavlink.GlobalPositionInt{TimeBootMS: 1, Lat: 525200000, Lon: 134050000, Alt: 54000, RelativeAlt: 20000, Hdg: 9000})
	b.ReportAllocs()
	b.SetBytes(int64(len(pos)))
	n := uint32(0)
	for b.Loop() {
		n++
		// A new frame each time (time_boot_ms, the first payload field), so
		// dedupe passes it and every frame reaches the socket; the router
		// does not check checksums (the parser did).
		binary.LittleEndian.PutUint32(pos[10:], n)
		r.Forward(pos)
	}
	if s := r.Stats()[0]; s.FramesOut < uint64(n)*9/10 {
		b.Fatalf("only %d of %d frames sent", s.FramesOut, n)
	}
}

// FuzzDedupe: whatever header PeekHeader finds, the dedupe ring remembers.
func FuzzDedupe(f *testing.F) {
	f.Add(vehicleHeartbeat(f, 1))
	f.Add(unknownFrame())
	v1, _ := mavlink.AppendMessage(nil, mavlink.Header{Version: 1, SysID: 1, CompID: 1}, &mavlink.Heartbeat{}, nil)
	f.Add(v1)
	f.Add([]byte{0xFD, 255, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, ok := mavlink.PeekHeader(raw)
		if !ok {
			return
		}
		var d dedupe
		d.window = time.Second
		now := time.Unix(0, 0)
		if d.seen(h, now) || !d.seen(h, now) {
			t.Fatal("dedupe does not remember a frame")
		}
	})
}

// BenchmarkForwardOverhead is the router's own cost (header, dedupe ring,
// filter) without the send system call: the filter holds every frame back,
// so this is the filter-drops case, not a relayed frame (BenchmarkForward).
func BenchmarkForwardOverhead(b *testing.B) {
	r, err := New(Options{Endpoints: []Endpoint{{Addr: "127.0.0.1:9", Filter: Filter{BlockSysIDs: []uint8{1}}}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	pos := frame(b, 1, 1, 0, &mavlink.GlobalPositionInt{TimeBootMS: 1, Lat: 525200000, Lon: 134050000, Alt: 54000, RelativeAlt: 20000, Hdg: 9000})
	b.ReportAllocs()
	b.SetBytes(int64(len(pos)))
	n := uint32(0)
	for b.Loop() {
		n++
		binary.LittleEndian.PutUint32(pos[10:], n)
		r.Forward(pos)
	}
}

// gateSide refuses COMMAND_LONG with a reply and passes the rest, recording
// what reached the vehicle and from which endpoint.
type gateSide struct {
	vehicleSide
	mu   sync.Mutex
	from []string
}

func (g *gateSide) WriteFrom(endpoint string, raw []byte) ([]byte, error) {
	g.mu.Lock()
	g.from = append(g.from, endpoint)
	g.mu.Unlock()
	if raw[7] == 76 { // MAVLink 2 msgid low byte: COMMAND_LONG
		return []byte("no"), fmt.Errorf("arm: %w", ErrRefused)
	}
	return nil, g.Write(raw)
}

// TestGateSenderRefusesAndAnswers: a GateSender sees each endpoint frame
// with its endpoint's name; a refused frame reaches neither the vehicle nor
// the other endpoints, and its reply goes back to its sender alone.
func TestGateSenderRefusesAndAnswers(t *testing.T) {
	a, other := newGCS(t), newGCS(t)
	v := &gateSide{vehicleSide: vehicleSide{ch: make(chan []byte, 10)}}
	r := startRouter(t, Options{Endpoints: []Endpoint{{Name: "qgc", Addr: a.addr()}, {Name: "other", Addr: other.addr()}}}, v)
	r.Forward(vehicleHeartbeat(t, 1))
	_, from := a.read(5 * time.Second)
	if _, ok := other.read(5 * time.Second); !ok.IsValid() {
		t.Fatal("the other ground station got no heartbeat")
	}

	arm := frame(t, 255, 190, 0, &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1})
	a.send(arm, from)
	if got, _ := a.read(5 * time.Second); string(got) != "no" {
		t.Fatalf("sender got %q after a refused frame, want the reply %q", got, "no")
	}
	hb := frame(t, 255, 190, 1, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GCS, Autopilot: mavlink.MAV_AUTOPILOT_INVALID})
	a.send(hb, from)
	select {
	case got := <-v.ch:
		if !bytes.Equal(got, hb) {
			t.Fatalf("vehicle got % x, want only the heartbeat % x (the refused command must not pass)", got, hb)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the heartbeat did not reach the vehicle")
	}
	// The other ground station sees the heartbeat, never the command.
	if got, _ := other.read(5 * time.Second); !bytes.Equal(got, hb) {
		t.Fatalf("other ground station got % x, want the heartbeat % x", got, hb)
	}
	s := r.Stats()[0]
	if s.Refused != 1 || s.Replies != 1 || s.FramesIn != 1 {
		t.Errorf("Stats() = %+v, want Refused 1, Replies 1, FramesIn 1", s)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.from) != 2 || v.from[0] != "qgc" {
		t.Errorf("WriteFrom saw endpoints %q, want [qgc qgc]", v.from)
	}
}
