package telemetry

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// TestBridge relays frames both ways and drops what is not a frame.
func TestBridge(t *testing.T) {
	b := startMochi(t, nil)
	var mu sync.Mutex
	var got [][]byte
	s := startService(t, b.url(), t.TempDir(), nil, nil, func(o *Options) {
		o.Bridge = func(f []byte) error {
			mu.Lock()
			got = append(got, f)
			mu.Unlock()
			return nil
		}
	})
	c := newCC(t, b.url())
	frame := []byte{0xFD, 9, 0, 0, 1, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xAA, 0xBB}
	c.w.send("dock/d1/mavlink/in", []byte("junk"))
	c.w.send("dock/d1/mavlink/in", frame)
	waitFor(t, "frame to the sink", 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	if !bytes.Equal(got[0], frame) {
		t.Errorf("sink got % x, want % x", got[0], frame)
	}
	s.PublishFrame(frame)
	m := c.w.waitMsg("dock/d1/mavlink/out", func(pubMsg) bool { return true })
	if m.payload != string(frame) || m.qos != 0 {
		t.Errorf("mavlink/out = % x qos %d, want the frame at qos 0", m.payload, m.qos)
	}
	waitFor(t, "junk counted", 5*time.Second, func() bool { return s.Health().FramesDropped == 1 })
}
