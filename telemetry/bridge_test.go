package telemetry

import (
	"bytes"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
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

// TestBridgeSigned: with signing on, mavlink/in takes only signed, fresh,
// first-seen envelopes; a bare frame, a wrong key, a stale ts and a replay
// never reach the sink and are reported as refused.
func TestBridgeSigned(t *testing.T) {
	b := startMochi(t, nil)
	key := []byte("0123456789abcdef0123456789abcdef")
	var mu sync.Mutex
	var got [][]byte
	var refused []string
	s := startService(t, b.url(), t.TempDir(), nil, nil, func(o *Options) {
		o.SigningKey = key
		o.Bridge = func(f []byte) error {
			mu.Lock()
			got = append(got, f)
			mu.Unlock()
			return nil
		}
		o.BridgeRefused = func(reason, detail string) {
			mu.Lock()
			refused = append(refused, reason+": "+detail)
			mu.Unlock()
		}
	})
	c := newCC(t, b.url())
	frame := []byte{0xFD, 9, 0, 0, 1, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xAA, 0xBB}
	good, err := contract.SignFrame(key, frame, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := contract.SignFrame([]byte("another key, another key, anothe"), frame, time.Now())
	stale, _ := contract.SignFrame(key, frame, time.Now().Add(-time.Hour))
	for _, p := range [][]byte{frame, wrongKey, stale, good, good} {
		c.w.send("dock/d1/mavlink/in", p)
	}
	waitFor(t, "four refusals and one frame", 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(refused) == 4 && len(got) == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(got[0], frame) {
		t.Errorf("sink got % x, want the frame inside the envelope % x", got[0], frame)
	}
	// The test client's messages may arrive in any order: each refusal
	// once, whatever the order.
	all := strings.Join(refused, "\n")
	for _, want := range []string{"unsigned: signing is on: not a signed envelope", "unsigned: bad signature", "unsigned: ts: ", "unsigned: replayed envelope"} {
		if strings.Count(all, want) != 1 {
			t.Errorf("refusals:\n%s\nwant one %q", all, want)
		}
	}
	if h := s.Health(); h.FramesUnsigned != 4 {
		t.Errorf("Health().FramesUnsigned = %d, want 4", h.FramesUnsigned)
	}
}

// FuzzFrameEnvelope: any payload on mavlink/in with signing on is refused
// or yields one frame, never a panic; a payload opens at most once.
func FuzzFrameEnvelope(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	frame := []byte{0xFD, 9, 0, 0, 1, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xAA, 0xBB}
	good, err := contract.SignFrame(key, frame, clk.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"frame":{"ts":"2026-12-05T19:00:00Z","mavlink":""},"sig":"00"}`))
	f.Add(frame)
	f.Fuzz(func(t *testing.T, payload []byte) {
		o := newFrameOpener(&signer{key: key, window: time.Minute, clock: clk})
		raw, err := o.open(payload)
		if err != nil {
			return
		}
		if !validFrame(raw) {
			t.Fatalf("opened % x to % x, not a frame", payload, raw)
		}
		if _, err := o.open(payload); err == nil {
			t.Fatalf("the same envelope opened twice")
		}
	})
}
