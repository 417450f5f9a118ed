package mavlink

import (
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestSignerTimestampsStrictlyIncreaseInBursts(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	s := NewSigner(SignerOptions{Key: [32]byte{9}, LinkID: 1, Clock: clk})
	p := NewParser(ParserOptions{})
	var last uint64
	var f Frame
	for i := range 1000 {
		if i == 500 {
			clk.Advance(time.Second) // the clock moves on: timestamps follow it
		}
		b, err := AppendMessage(nil, Header{SysID: 1, CompID: 1, Seq: uint8(i)}, &Heartbeat{}, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Next(b, true, &f); err != nil {
			t.Fatal(err)
		}
		if f.Timestamp <= last {
			t.Fatalf("frame %d timestamp %d, want > %d", i, f.Timestamp, last)
		}
		last = f.Timestamp
	}
	if want := SigningTimestamp(clk.Now()); last < want {
		t.Errorf("last timestamp %d, want >= clock %d", last, want)
	}
}

func TestVerifier(t *testing.T) {
	key := [32]byte{7, 7, 7}
	now := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	sign := func(t *testing.T, k [32]byte, at time.Time, sys uint8, link uint8) *Frame {
		t.Helper()
		s := NewSigner(SignerOptions{Key: k, LinkID: link, Clock: clockwork.NewFakeClockAt(at)})
		b, err := AppendMessage(nil, Header{SysID: sys, CompID: 1}, &Heartbeat{}, s)
		if err != nil {
			t.Fatal(err)
		}
		var f Frame
		if _, err := NewParser(ParserOptions{}).Next(b, true, &f); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	tests := []struct {
		name   string
		frames []*Frame
		want   []error
	}{
		{"fresh frame", []*Frame{sign(t, key, now, 1, 0)}, []error{nil}},
		{"wrong key", []*Frame{sign(t, [32]byte{1}, now, 1, 0)}, []error{ErrBadSignature}},
		{"new stream 2 min behind", []*Frame{sign(t, key, now.Add(-2*time.Minute), 1, 0)}, []error{ErrStaleTimestamp}},
		{"new stream 50 s behind", []*Frame{sign(t, key, now.Add(-50*time.Second), 1, 0)}, []error{nil}},
		{"replay", []*Frame{sign(t, key, now, 1, 0), sign(t, key, now, 1, 0)}, []error{nil, ErrReplay}},
		{"older on known stream", []*Frame{sign(t, key, now, 1, 0), sign(t, key, now.Add(-time.Second), 1, 0)}, []error{nil, ErrReplay}},
		{"same time other link", []*Frame{sign(t, key, now, 1, 0), sign(t, key, now, 1, 1)}, []error{nil, nil}},
		{"same time other system", []*Frame{sign(t, key, now, 1, 0), sign(t, key, now, 2, 0)}, []error{nil, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(VerifierOptions{Key: key, Clock: clockwork.NewFakeClockAt(now)})
			for i, f := range tc.frames {
				if err := v.Verify(f); !errors.Is(err, tc.want[i]) {
					t.Errorf("Verify(frame %d) = %v, want %v", i, err, tc.want[i])
				}
			}
		})
	}
}

func TestX25CheckValue(t *testing.T) {
	if got := X25([]byte("123456789")); got != 0x6F91 {
		t.Errorf("X25(123456789) = %#04x, want 0x6f91", got)
	}
}

// TestCRCSlicedMatchesBytewise: the slicing-by-8 checksum equals the
// bytewise definition for every length and start value.
func TestCRCSlicedMatchesBytewise(t *testing.T) {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	for _, init := range []uint16{crcInit, 0, 0x1234} {
		for n := 0; n <= len(b); n++ {
			want := init
			for _, c := range b[:n] {
				want = crcBit(want, c)
			}
			if got := crcAccumulate(init, b[:n]); got != want {
				t.Fatalf("crcAccumulate(%#04x, %d bytes) = %#04x, want %#04x", init, n, got, want)
			}
		}
	}
}
