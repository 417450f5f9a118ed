package telemetry

import (
	"bytes"
	"testing"
	"time"
)

// v2 builds a MAVLink 2 frame with a payload of n bytes (flags: signed
// adds the 13-byte signature); the bridge reads headers only.
func v2(n int, signed bool) []byte {
	f := []byte{0xFD, byte(n), 0, 0, 1, 1, 1, 0, 0, 0}
	if signed {
		f[2] = 0x01
	}
	f = append(f, make([]byte, n+2)...)
	if signed {
		f = append(f, make([]byte, 13)...)
	}
	return f
}

// TestBridgeBatchOut: a payload of whole frames back to back is published
// as it is and counted per frame; one with a stray or missing byte is
// dropped, counted once.
func TestBridgeBatchOut(t *testing.T) {
	b := startMochi(t, nil)
	s := startService(t, b.url(), t.TempDir(), nil, nil, func(o *Options) {
		o.Bridge = func([]byte) error { return nil }
	})
	c := newCC(t, b.url())
	waitFor(t, "service connected", 15*time.Second, func() bool { return s.conn.isConnected() })
	v1 := append([]byte{0xFE, 2, 0, 1, 1, 0, 9, 9}, 0xAA, 0xBB)
	batch := bytes.Join([][]byte{v2(9, false), v1, v2(255, true), v2(0, false)}, nil)
	s.PublishFrame(batch)
	m := c.w.waitMsg("dock/d1/mavlink/out", func(pubMsg) bool { return true })
	if m.payload != string(batch) {
		t.Fatalf("mavlink/out = % x, want the batch of 4 frames as sent", m.payload)
	}
	waitFor(t, "4 frames counted", 5*time.Second, func() bool { return s.Health().FramesOut == 4 })

	long := bytes.Repeat(v2(255, false), 2)
	s.PublishFrame(append(bytes.Clone(long), 0x00)) // a stray byte after two frames
	s.PublishFrame(long[:len(long)-1])              // the second frame cut short
	waitFor(t, "2 bad batches dropped", 5*time.Second, func() bool { return s.Health().FramesDropped == 2 })
	if h := s.Health(); h.FramesOut != 4 {
		t.Fatalf("frames out %d after bad batches, want still 4", h.FramesOut)
	}
}

func TestCountFrames(t *testing.T) {
	one := v2(9, false)
	tests := []struct {
		name string
		b    []byte
		want int
	}{
		{"empty", nil, 0},
		{"one v2", one, 1},
		{"signed v2", v2(3, true), 1},
		{"three", bytes.Repeat(one, 3), 3},
		{"truncated", one[:len(one)-1], 0},
		{"stray byte", append(bytes.Clone(one), 0xFD), 0},
		{"not a frame", []byte("junk, not mavlink"), 0},
		{"64 frames", bytes.Repeat(one, maxBatchFrames), maxBatchFrames},
		{"65 frames", bytes.Repeat(one, maxBatchFrames+1), 0},
	}
	for _, tc := range tests {
		if got := countFrames(tc.b); got != tc.want {
			t.Errorf("%s: countFrames = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// FuzzCountFrames: whatever the bytes, countFrames stays inside them, and
// a count it gives splits b exactly into that many frames.
func FuzzCountFrames(f *testing.F) {
	f.Add(v2(9, false))
	f.Add(bytes.Repeat(v2(1, true), 3))
	f.Add([]byte{0xFE, 0, 0, 1, 1, 0, 1, 2})
	f.Add([]byte{0xFD, 255, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := countFrames(b)
		if n == 0 {
			return
		}
		rest, k := b, 0
		for len(rest) > 0 {
			l := frameLen(rest)
			if l < minFrameBytes || l > maxFrameBytes {
				t.Fatalf("frame %d of %d has length %d", k, n, l)
			}
			rest, k = rest[l:], k+1
		}
		if k != n {
			t.Fatalf("countFrames = %d, split gives %d", n, k)
		}
	})
}

// TestBridgeBatchDroppedBrokerAway: a batch handed over while the broker is
// away counts its frames dropped, as a full queue does, so the relay's
// stages add up (frames read = published + dropped).
func TestBridgeBatchDroppedBrokerAway(t *testing.T) {
	s := startService(t, "tcp://127.0.0.1:1", t.TempDir(), nil, nil, func(o *Options) {
		o.Bridge = func([]byte) error { return nil }
	})
	if s.conn.isConnected() {
		t.Fatal("connected to a port nobody listens on")
	}
	s.PublishFrame(bytes.Repeat(v2(9, false), 3))
	s.PublishFrame(v2(1, false))
	if h := s.Health(); h.FramesDropped != 4 || h.FramesOut != 0 {
		t.Fatalf("frames dropped %d, out %d; want the batch's 3 and the single frame dropped, none out", h.FramesDropped, h.FramesOut)
	}
}
