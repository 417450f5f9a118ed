package transport

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/pty"
)

// doneRecorder notes how many frames had arrived at each OnReadDone.
type doneRecorder struct {
	rec   *recorder
	marks []int // len(rec.frames) at each call
}

func (d *doneRecorder) onReadDone() {
	d.rec.mu.Lock()
	d.marks = append(d.marks, len(d.rec.frames))
	d.rec.mu.Unlock()
	d.rec.poke()
}

// checkMarks: every OnReadDone follows at least one new frame, and the
// last follows them all.
func (d *doneRecorder) checkMarks(t *testing.T, frames int) {
	t.Helper()
	d.rec.mu.Lock()
	defer d.rec.mu.Unlock()
	prev := 0
	for _, m := range d.marks {
		if m <= prev {
			t.Fatalf("OnReadDone after frames %v: a call without a new frame before it", d.marks)
		}
		prev = m
	}
	if prev != frames {
		t.Fatalf("OnReadDone after frames %v, want the last after all %d", d.marks, frames)
	}
}

// A serial read that returns several frames hands them all to OnFrame,
// then calls OnReadDone once, before reading again.
func TestSerialReadDoneAfterEachRead(t *testing.T) {
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "radio")})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	d := &doneRecorder{rec: newRecorder()}
	startLinkRec(t, Serial, pair.Path(), Options{Baud: 115200, OpenSerial: openSerial, OnReadDone: d.onReadDone}, d.rec)
	d.rec.waitFor(t, "link up", func() bool { return len(d.rec.events) == 1 })
	var three []byte
	for seq := range uint8(3) {
		three = append(three, heartbeat(t, 1, 1, seq)...)
	}
	if _, err := pair.Write(three); err != nil {
		t.Fatal(err)
	}
	d.rec.waitFor(t, "three frames and a read done", func() bool { return len(d.marks) > 0 && d.marks[len(d.marks)-1] == 3 })
	d.checkMarks(t, 3)
	if len(d.marks) > 3 {
		t.Fatalf("%d OnReadDone calls for 3 frames", len(d.marks))
	}
}

// Over UDP a datagram is one read: its two frames, then one OnReadDone.
func TestUDPReadDoneAfterDatagram(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	d := &doneRecorder{rec: newRecorder()}
	l := startLinkRec(t, UDP, peer.LocalAddr().String(), Options{OnReadDone: d.onReadDone}, d.rec)
	d.rec.waitFor(t, "link up", func() bool { return len(d.rec.events) == 1 })
	if err := l.Write(heartbeat(t, 255, 190, 0)); err != nil { // so the peer learns the link's address
		t.Fatal(err)
	}
	buf := make([]byte, 300)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second)) // real IO: a bound
	_, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	two := append(heartbeat(t, 1, 1, 1), heartbeat(t, 1, 1, 2)...)
	if _, err := peer.WriteToUDPAddrPort(two, from); err != nil {
		t.Fatal(err)
	}
	d.rec.waitFor(t, "a read done", func() bool { return len(d.marks) == 1 })
	d.checkMarks(t, 2)
}
