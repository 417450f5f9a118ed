package mavlink

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// telemetryMix returns n frames of the realistic v2 telemetry mix
// (HEARTBEAT, GLOBAL_POSITION_INT, ATTITUDE, SYS_STATUS, GPS_RAW_INT,
// VFR_HUD, BATTERY_STATUS) with varied values, signed by s if not nil.
func telemetryMix(tb testing.TB, n int, seed uint64, s *Signer) [][]byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var out [][]byte
	for i := range n {
		var m Message
		switch i % 7 {
		case 0:
			m = &Heartbeat{Type: MAV_TYPE_QUADROTOR, Autopilot: MAV_AUTOPILOT_ARDUPILOTMEGA, BaseMode: MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | MAV_MODE_FLAG_SAFETY_ARMED, CustomMode: uint32(r.IntN(28)), SystemStatus: MAV_STATE_ACTIVE, MavlinkVersion: 3}
		case 1:
			m = &GlobalPositionInt{TimeBootMS: r.Uint32(), Lat: 481234567 + r.Int32N(1000), Lon: 115678901 + r.Int32N(1000), Alt: 520000 + r.Int32N(9999), RelativeAlt: r.Int32N(120000), Vx: int16(r.IntN(2000) - 1000), Vy: int16(r.IntN(2000) - 1000), Vz: int16(r.IntN(200) - 100), Hdg: uint16(r.IntN(36000))}
		case 2:
			m = &Attitude{TimeBootMS: r.Uint32(), Roll: r.Float32() - 0.5, Pitch: r.Float32() - 0.5, Yaw: r.Float32() * 3, Rollspeed: r.Float32() * 0.1, Pitchspeed: r.Float32() * 0.1, Yawspeed: r.Float32() * 0.1}
		case 3:
			m = &SysStatus{OnboardControlSensorsPresent: 0x3fffffff, OnboardControlSensorsEnabled: 0x2fffffff, OnboardControlSensorsHealth: 0x2ffffeff, Load: uint16(r.IntN(1000)), VoltageBattery: 15000 + uint16(r.IntN(1000)), CurrentBattery: int16(r.IntN(3000)), BatteryRemaining: int8(r.IntN(100)), DropRateComm: 0, ErrorsComm: 0}
		case 4:
			m = &GPSRawInt{TimeUsec: r.Uint64() >> 20, FixType: GPS_FIX_TYPE_3D_FIX, Lat: 481234567 + r.Int32N(1000), Lon: 115678901 + r.Int32N(1000), Alt: 520000, Eph: 80, Epv: 120, Vel: uint16(r.IntN(1500)), Cog: uint16(r.IntN(36000)), SatellitesVisible: 14}
		case 5:
			m = &VFRHUD{Airspeed: r.Float32() * 15, Groundspeed: r.Float32() * 15, Heading: int16(r.IntN(360)), Throttle: uint16(r.IntN(100)), Alt: 520 + r.Float32()*100, Climb: r.Float32() - 0.5}
		case 6:
			b := &BatteryStatus{ID: 0, BatteryFunction: 1, Type: 1, Temperature: 2500, CurrentBattery: int16(r.IntN(3000)), CurrentConsumed: r.Int32N(5000), EnergyConsumed: -1, BatteryRemaining: int8(r.IntN(100))}
			for k := range b.Voltages {
				b.Voltages[k] = 0xffff
			}
			for k := range 4 {
				b.Voltages[k] = 3900 + uint16(r.IntN(300))
			}
			m = b
		}
		f, err := AppendMessage(nil, Header{Seq: uint8(i), SysID: 1, CompID: 1}, m, s)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// parseAll parses buf as one datagram and returns the frames' raw bytes.
func parseAll(t *testing.T, p *Parser, buf []byte) [][]byte {
	t.Helper()
	var got [][]byte
	var f Frame
	for len(buf) > 0 {
		n, err := p.Next(buf, true, &f)
		buf = buf[n:]
		if err == io.EOF {
			break
		}
		if err == nil {
			got = append(got, bytes.Clone(f.Raw))
			continue
		}
		if _, ok := errors.AsType[*FrameError](err); !ok {
			t.Fatalf("Next() error %v, want nil, *FrameError or io.EOF", err)
		}
		if n == 0 {
			t.Fatal("Next() made no progress")
		}
	}
	return got
}

func TestParserDatagramWithSeveralFrames(t *testing.T) {
	frames := telemetryMix(t, 2000, 1, nil)
	var dg []byte
	for _, f := range frames {
		dg = append(dg, f...)
	}
	if len(dg) > 1<<16 {
		dg = dg[:0]
		n := 0
		for _, f := range frames {
			if len(dg)+len(f) > 1<<16 {
				break
			}
			dg = append(dg, f...)
			n++
		}
		frames = frames[:n]
	}
	p := NewParser(ParserOptions{})
	got := parseAll(t, p, dg)
	if len(got) != len(frames) {
		t.Fatalf("parsed %d frames from a %d-byte datagram, want %d", len(got), len(dg), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d = %x, want %x", i, got[i], frames[i])
		}
	}
	if s := p.Stats(); s.Frames != uint64(len(frames)) || s.BadCRC != 0 || s.BytesSkipped != 0 {
		t.Errorf("Stats() = %+v, want %d clean frames", s, len(frames))
	}
}

// TestParserResyncGarbage puts random garbage between 30 % of the frames:
// at least 99.5 % of the frames must be recovered (issue 3).
func TestParserResyncGarbage(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		r := rand.New(rand.NewPCG(seed, 7))
		frames := telemetryMix(t, 5000, seed, nil)
		var stream []byte
		for _, f := range frames {
			if r.Float64() < 0.3 {
				g := make([]byte, 1+r.IntN(64))
				for k := range g {
					g[k] = byte(r.Uint32())
					if r.IntN(8) == 0 {
						g[k] = MagicV2 + byte(r.IntN(2)) // provoke false starts
					}
				}
				stream = append(stream, g...)
			}
			stream = append(stream, f...)
		}
		got := parseAll(t, NewParser(ParserOptions{}), stream)
		want := map[string]bool{}
		for _, f := range frames {
			want[string(f)] = true
		}
		ok := 0
		for _, g := range got {
			if want[string(g)] {
				ok++
			}
		}
		if rate := float64(ok) / float64(len(frames)); rate < 0.995 {
			t.Errorf("seed %d: recovered %d of %d frames (%.2f %%), want >= 99.5 %%", seed, ok, len(frames), 100*rate)
		}
	}
}

// TestParserCorruptedLengthLosesOneFrame: a damaged length byte may cost
// only the damaged frame (issue 3).
func TestParserCorruptedLengthLosesOneFrame(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	frames := telemetryMix(t, 300, 9, nil)
	for trial := range 200 {
		k := 1 + r.IntN(len(frames)-2)
		var stream []byte
		var newLen byte
		for i, f := range frames {
			if i == k {
				f = bytes.Clone(f)
				for f[1] == frames[k][1] {
					f[1] = byte(r.Uint32())
				}
				newLen = f[1]
			}
			stream = append(stream, f...)
		}
		got := parseAll(t, NewParser(ParserOptions{}), stream)
		if len(got) != len(frames)-1 {
			t.Fatalf("trial %d: length of frame %d changed %d -> %d: parsed %d frames, want %d",
				trial, k, frames[k][1], newLen, len(got), len(frames)-1)
		}
	}
}

func TestParserStreamReader(t *testing.T) {
	frames := telemetryMix(t, 500, 3, nil)
	var stream []byte
	for _, f := range frames {
		stream = append(stream, f...)
	}
	// A reader returning a few bytes at a time exercises ErrNeedMore.
	rd := NewReader(&chunkReader{b: stream, n: 7}, nil)
	var f Frame
	for i := range frames {
		if err := rd.ReadFrame(&f); err != nil {
			t.Fatalf("ReadFrame() #%d = %v", i, err)
		}
		if !bytes.Equal(f.Raw, frames[i]) {
			t.Fatalf("frame %d = %x, want %x", i, f.Raw, frames[i])
		}
	}
	if err := rd.ReadFrame(&f); err != io.EOF {
		t.Fatalf("ReadFrame() at end = %v, want io.EOF", err)
	}
}

func TestReaderLinkErrorIsNotFrameError(t *testing.T) {
	boom := errors.New("port closed")
	rd := NewReader(&chunkReader{b: []byte{0x01, 0x02}, n: 2, err: boom}, nil)
	var f Frame
	err := rd.ReadFrame(&f)
	if !errors.Is(err, boom) {
		t.Fatalf("ReadFrame() = %v, want wrapping %v", err, boom)
	}
	if _, ok := errors.AsType[*FrameError](err); ok {
		t.Fatalf("ReadFrame() = %v is a *FrameError, want a link error", err)
	}
}

type chunkReader struct {
	b   []byte
	n   int
	err error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}

func TestParserRejects(t *testing.T) {
	hb, err := AppendMessage(nil, Header{SysID: 1, CompID: 1}, &Heartbeat{Type: MAV_TYPE_QUADROTOR}, nil)
	if err != nil {
		t.Fatal(err)
	}
	withCRC := func(b []byte, extra byte) []byte {
		b = bytes.Clone(b)
		n := len(b) - 2
		c := crcByte(crcAccumulate(crcInit, b[1:n]), extra)
		b[n], b[n+1] = byte(c), byte(c>>8)
		return b
	}
	unknownIncompat := bytes.Clone(hb)
	unknownIncompat[2] = 0x02
	unknownIncompat = withCRC(unknownIncompat, 50)
	badCRC := bytes.Clone(hb)
	badCRC[len(badCRC)-1] ^= 0xff
	unknownID := bytes.Clone(hb)
	unknownID[7], unknownID[8], unknownID[9] = 0x39, 0x30, 0x00 // 12345
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		frames  int
		unknown uint64
	}{
		{"unknown incompat flag", unknownIncompat, ErrIncompatFlags, 0, 0},
		{"bad checksum", badCRC, ErrBadCRC, 0, 0},
		{"unknown id at end of datagram", unknownID, nil, 1, 1},
		{"unknown id before next magic", append(bytes.Clone(unknownID), hb...), nil, 2, 1},
		{"unknown id before garbage", append(bytes.Clone(unknownID), 0x00, 0x11), nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(ParserOptions{})
			var f Frame
			var firstErr error
			frames := 0
			buf := tc.in
			for {
				n, err := p.Next(buf, true, &f)
				buf = buf[n:]
				if err == io.EOF {
					break
				}
				if err == nil {
					frames++
				} else if firstErr == nil {
					firstErr = err
				}
			}
			if !errors.Is(firstErr, tc.wantErr) || (tc.wantErr != nil) != (firstErr != nil) {
				t.Errorf("first error = %v, want %v", firstErr, tc.wantErr)
			}
			if frames != tc.frames || p.Stats().Unknown != tc.unknown {
				t.Errorf("frames = %d, unknown = %d, want %d, %d", frames, p.Stats().Unknown, tc.frames, tc.unknown)
			}
		})
	}
}

func TestParserVerifiesSignatures(t *testing.T) {
	key := [32]byte{1, 2, 3}
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	s := NewSigner(SignerOptions{Key: key, LinkID: 3, Clock: clk})
	frames := telemetryMix(t, 50, 4, s)
	var dg []byte
	for _, f := range frames {
		dg = append(dg, f...)
	}
	dg = append(dg, frames[10]...) // a replay
	tampered := bytes.Clone(frames[11])
	tampered[len(tampered)-1] ^= 1
	dg = append(dg, tampered...)
	p := NewParser(ParserOptions{Verifier: NewVerifier(VerifierOptions{Key: key, Clock: clk})})
	got := parseAll(t, p, dg)
	if len(got) != len(frames) {
		t.Errorf("accepted %d frames, want %d", len(got), len(frames))
	}
	if st := p.Stats(); st.BadSignature != 2 {
		t.Errorf("Stats().BadSignature = %d, want 2", st.BadSignature)
	}
}
