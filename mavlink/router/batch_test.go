package router

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/mavlink"
)

// Queued frames leave at Flush, in order, one datagram each, to a client
// endpoint and to every client of a server endpoint; a filtered frame and
// a duplicate stay back; the caller's buffer may change after Queue.
func TestQueueFlush(t *testing.T) {
	g, cl := newGCS(t), newGCS(t)
	r := startRouter(t, Options{Endpoints: []Endpoint{
		{Name: "qgc", Addr: g.addr(), Filter: Filter{BlockMsgIDs: []uint32{33}}},
		{Name: "srv", Listen: true, Addr: "127.0.0.1:0"},
	}, Clock: clockwork.NewFakeClock()}, nil)
	cl.send(vehicleHeartbeat(t, 0), r.LocalAddr("srv"))
	waitFor(t, func() bool { return r.Stats()[1].Clients == 1 })
	if got, _ := g.read(5 * time.Second); got == nil { // the client's frame, passed on to qgc
		t.Fatal("qgc did not get the server client's heartbeat")
	}

	hb1, hb2 := vehicleHeartbeat(t, 1), vehicleHeartbeat(t, 2)
	pos := frame(t, 1, 1, 3, &mavlink.GlobalPositionInt{TimeBootMS: 7})
	buf := bytes.Clone(hb1)
	r.Queue(buf)
	clear(buf) // the router copied it
	r.Queue(pos)
	r.Queue(hb2)
	r.Queue(hb2) // a copy within the dedupe window
	if got, _ := g.read(50 * time.Millisecond); got != nil {
		t.Fatalf("ground station read % x before Flush, want nothing", got)
	}
	r.Flush()
	for _, want := range [][]byte{hb1, hb2} {
		if got, _ := g.read(5 * time.Second); !bytes.Equal(got, want) {
			t.Fatalf("qgc read % x, want % x (GLOBAL_POSITION_INT filtered)", got, want)
		}
	}
	for _, want := range [][]byte{hb1, pos, hb2} {
		if got, _ := cl.read(5 * time.Second); !bytes.Equal(got, want) {
			t.Fatalf("server client read % x, want % x", got, want)
		}
	}
	s := r.Stats()
	if s[0].FramesOut != 3 || s[0].Filtered != 1 || s[1].FramesOut != 3 || r.Duplicates() != 1 {
		t.Fatalf("stats %+v, duplicates %d; want qgc 3 out (the client's heartbeat, 2 queued) 1 filtered, srv 3 out, 1 duplicate", s, r.Duplicates())
	}
	r.Flush() // nothing queued: nothing sent
	if got, _ := g.read(50 * time.Millisecond); got != nil {
		t.Fatalf("second Flush sent % x, want nothing", got)
	}
}

// More than maxBatch queued frames go out without waiting for Flush, all
// of them and in order.
func TestQueueSendsFullBatch(t *testing.T) {
	g := newGCS(t)
	r := startRouter(t, Options{Endpoints: []Endpoint{{Addr: g.addr()}}, DedupeWindow: -1}, nil)
	pos := frame(t, 1, 1, 0, &mavlink.GlobalPositionInt{TimeBootMS: 1, Hdg: 9000}) // Hdg, the last field, keeps the payload untrimmed
	for i := range maxBatch + 1 {
		binary.LittleEndian.PutUint32(pos[10:], uint32(i))
		r.Queue(pos)
	}
	for i := range maxBatch {
		got, _ := g.read(5 * time.Second)
		if len(got) != len(pos) || binary.LittleEndian.Uint32(got[10:]) != uint32(i) {
			t.Fatalf("datagram %d: % x, want frame number %d", i, got, i)
		}
	}
	if got, _ := g.read(50 * time.Millisecond); got != nil {
		t.Fatalf("frame %d left before Flush", maxBatch)
	}
	r.Flush()
	if got, _ := g.read(5 * time.Second); got == nil || binary.LittleEndian.Uint32(got[10:]) != maxBatch {
		t.Fatalf("after Flush read % x, want frame number %d", got, maxBatch)
	}
}

// An IPv4 ground station is reached from the dual-stack socket the router
// opens (v4-mapped), and an IPv6 one too where the machine has ::1.
func TestQueueFlushAddressFamilies(t *testing.T) {
	for _, ip := range []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback} {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			t.Logf("%v: %v (no such loopback here)", ip, err)
			continue
		}
		g := &gcs{t: t, c: c}
		r := startRouter(t, Options{Endpoints: []Endpoint{{Addr: g.addr()}}}, nil)
		hb := vehicleHeartbeat(t, 1)
		r.Queue(hb)
		r.Flush()
		if got, _ := g.read(5 * time.Second); !bytes.Equal(got, hb) {
			t.Errorf("%v: read % x, want the heartbeat", ip, got)
		}
		c.Close()
	}
}

func TestQueueFlushDoesNotAllocate(t *testing.T) {
	g, srv := newGCS(t), newGCS(t)
	r, err := New(Options{Endpoints: []Endpoint{{Addr: g.addr()}, {Name: "srv", Listen: true, Addr: "127.0.0.1:0"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	srv.send(vehicleHeartbeat(t, 0), r.LocalAddr("srv"))
	hb := vehicleHeartbeat(t, 1)
	seq := uint8(0)
	batch := func() {
		for range 8 {
			seq++
			hb[4] = seq
			r.Queue(hb)
		}
		r.Flush()
	}
	batch() // the first batch makes the scratch space
	if allocs := testing.AllocsPerRun(100, batch); allocs != 0 {
		t.Fatalf("Queue+Flush allocate %v times per batch of 8, want 0", allocs)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second) // real IO: a bound, not a sync
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkForwardBatch is BenchmarkForward's frame sent in batches (the
// frames of one read of the vehicle link): per frame, Queue plus a share of
// the Flush's sendmmsg.
func BenchmarkForwardBatch(b *testing.B) {
	for _, n := range []int{1, 2, 8, 32} {
		b.Run(itoa(n), func(b *testing.B) {
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
			b.SetBytes(int64(len(pos) * n))
			k := uint32(0)
			for b.Loop() {
				for range n {
					k++
					binary.LittleEndian.PutUint32(pos[10:], k)
					r.Queue(pos)
				}
				r.Flush()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k), "ns/frame")
			if s := r.Stats()[0]; s.FramesOut < uint64(k)*9/10 {
				b.Fatalf("only %d of %d frames sent", s.FramesOut, k)
			}
		})
	}
}

func itoa(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }
