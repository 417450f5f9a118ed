package mavlink

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

var benchKey = [32]byte{0x67, 0x08, 0xb7, 0xb0}

// mixBuffer concatenates the telemetry mix, as a serial read or datagrams
// would deliver it.
func mixBuffer(tb testing.TB, n int, s *Signer) ([]byte, int) {
	var buf []byte
	frames := telemetryMix(tb, n, 42, s)
	for _, f := range frames {
		buf = append(buf, f...)
	}
	return buf, len(frames)
}

// perMessage returns the mix split by message, plus the whole mix.
func benchSets(tb testing.TB, s *Signer) []struct {
	name   string
	buf    []byte
	frames int
} {
	var sets []struct {
		name   string
		buf    []byte
		frames int
	}
	frames := telemetryMix(tb, 7*200, 42, s)
	for k := range 7 {
		var buf []byte
		n := 0
		for i := k; i < len(frames); i += 7 {
			buf = append(buf, frames[i]...)
			n++
		}
		var f Frame
		if _, err := NewParser(ParserOptions{}).Next(buf, true, &f); err != nil {
			tb.Fatal(err)
		}
		sets = append(sets, struct {
			name   string
			buf    []byte
			frames int
		}{f.Name(), buf, n})
	}
	buf, n := mixBuffer(tb, 7*200, s)
	sets = append(sets, struct {
		name   string
		buf    []byte
		frames int
	}{"mix", buf, n})
	return sets
}

func parseBuffer(p *Parser, buf []byte, f *Frame, each func(*Frame)) int {
	frames := 0
	for {
		n, err := p.Next(buf, true, f)
		buf = buf[n:]
		if err == io.EOF {
			return frames
		}
		if err == nil {
			frames++
			if each != nil {
				each(f)
			}
		}
	}
}

func reportFrames(b *testing.B, frames int) {
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkParse(b *testing.B) {
	for _, set := range benchSets(b, nil) {
		b.Run(set.name, func(b *testing.B) {
			p := NewParser(ParserOptions{})
			var f Frame
			b.ReportAllocs()
			b.SetBytes(int64(len(set.buf)))
			for b.Loop() {
				if parseBuffer(p, set.buf, &f, nil) != set.frames {
					b.Fatal("lost frames")
				}
			}
			reportFrames(b, set.frames)
		})
	}
}

// typedSet holds one struct per message of the mix, reused by the decode loop.
type typedSet struct {
	hb  Heartbeat
	gp  GlobalPositionInt
	att Attitude
	sys SysStatus
	gps GPSRawInt
	hud VFRHUD
	bat BatteryStatus
}

func (ts *typedSet) decode(f *Frame) {
	var m Message
	switch f.MsgID {
	case 0:
		m = &ts.hb
	case 33:
		m = &ts.gp
	case 30:
		m = &ts.att
	case 1:
		m = &ts.sys
	case 24:
		m = &ts.gps
	case 74:
		m = &ts.hud
	case 147:
		m = &ts.bat
	default:
		return
	}
	if err := DecodeMessage(f, m); err != nil {
		panic(err) // benchmark input is valid
	}
}

func BenchmarkParseDecode(b *testing.B) {
	for _, set := range benchSets(b, nil) {
		b.Run(set.name, func(b *testing.B) {
			p := NewParser(ParserOptions{})
			var f Frame
			var ts typedSet
			b.ReportAllocs()
			b.SetBytes(int64(len(set.buf)))
			for b.Loop() {
				parseBuffer(p, set.buf, &f, ts.decode)
			}
			reportFrames(b, set.frames)
		})
	}
}

func BenchmarkParseVerify(b *testing.B) {
	// The real clock, as production verifies (see BenchmarkEncode); the
	// frames are signed just before, well inside the verifier's window.
	clk := clockwork.NewRealClock()
	buf, n := mixBuffer(b, 7*200, NewSigner(SignerOptions{Key: benchKey, Clock: clk}))
	b.Run("mix", func(b *testing.B) {
		var f Frame
		var ts typedSet
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			// A fresh verifier each pass: the same frames again would be replays.
			p := NewParser(ParserOptions{Verifier: NewVerifier(VerifierOptions{Key: benchKey, Clock: clk})})
			if parseBuffer(p, buf, &f, ts.decode) != n {
				b.Fatal("lost frames")
			}
		}
		reportFrames(b, n)
	})
}

func mixMessages() []Message {
	return []Message{
		&Heartbeat{Type: 2, Autopilot: 3, BaseMode: 209, CustomMode: 4, SystemStatus: 4, MavlinkVersion: 3},
		&GlobalPositionInt{TimeBootMS: 123456, Lat: 481234567, Lon: 115678901, Alt: 520000, RelativeAlt: 30000, Vx: 120, Vy: -40, Vz: 3, Hdg: 27000},
		&Attitude{TimeBootMS: 123456, Roll: 0.01, Pitch: -0.02, Yaw: 1.5, Rollspeed: 0.001, Pitchspeed: 0.002, Yawspeed: 0.003},
		&SysStatus{OnboardControlSensorsPresent: 0x3fffffff, OnboardControlSensorsEnabled: 0x2fffffff, OnboardControlSensorsHealth: 0x2fffffff, Load: 300, VoltageBattery: 15800, CurrentBattery: 1200, BatteryRemaining: 80},
		&GPSRawInt{TimeUsec: 1234567890, FixType: 3, Lat: 481234567, Lon: 115678901, Alt: 520000, Eph: 80, Epv: 120, Vel: 300, Cog: 27000, SatellitesVisible: 14},
		&VFRHUD{Airspeed: 5.5, Groundspeed: 5.2, Heading: 270, Throttle: 45, Alt: 550, Climb: 0.1},
		&BatteryStatus{Temperature: 2500, Voltages: [10]uint16{4000, 4001, 4002, 4003, 65535, 65535, 65535, 65535, 65535, 65535}, CurrentBattery: 1200, CurrentConsumed: 800, EnergyConsumed: -1, BatteryRemaining: 80},
	}
}

// BenchmarkEncode signs on the real clock, as the agent does: the signer
// reads the time for every frame's timestamp, and a fake clock's read is
// cheaper than the vDSO call production makes.
func BenchmarkEncode(b *testing.B) {
	clk := clockwork.NewRealClock()
	for _, signed := range []bool{false, true} {
		for _, m := range append(mixMessages(), nil) {
			name := "mix"
			if m != nil {
				name = LookupMessage(m.MsgID()).Name
			}
			if signed {
				name += "/signed"
			}
			b.Run(name, func(b *testing.B) {
				var s *Signer
				if signed {
					s = NewSigner(SignerOptions{Key: benchKey, Clock: clk})
				}
				msgs := mixMessages()
				if m != nil {
					msgs = []Message{m}
				}
				buf := make([]byte, 0, MaxFrameLen*len(msgs))
				bytes := 0
				b.ReportAllocs()
				for b.Loop() {
					buf = buf[:0]
					for i, m := range msgs {
						var err error
						buf, err = AppendMessage(buf, Header{Seq: uint8(i), SysID: 1, CompID: 1}, m, s)
						if err != nil {
							b.Fatal(err)
						}
					}
					bytes = len(buf)
				}
				b.SetBytes(int64(bytes))
				reportFrames(b, len(msgs))
			})
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	signer := NewSigner(SignerOptions{Key: benchKey, Clock: clk})
	plain, n := mixBuffer(t, 70, nil)
	signed, _ := mixBuffer(t, 70, signer)
	p := NewParser(ParserOptions{})
	var f Frame
	var ts typedSet
	verifier := NewVerifier(VerifierOptions{Key: benchKey, Clock: clk})
	// Warm the verifier's stream table: new streams allocate once.
	parseBuffer(NewParser(ParserOptions{Verifier: verifier}), signed, &f, nil)
	buf := make([]byte, 0, 8*MaxFrameLen)
	msgs := mixMessages()
	tests := []struct {
		name string
		fn   func()
	}{
		{"parse", func() {
			if parseBuffer(p, plain, &f, nil) != n {
				panic("lost frames")
			}
		}},
		{"parse+decode", func() { parseBuffer(p, plain, &f, ts.decode) }},
		{"verify", func() {
			for i := range 10 {
				parseBuffer(p, signed[:len(signed)*i/10], &f, func(f *Frame) { _ = verifier.Verify(f) })
			}
		}},
		{"encode", func() {
			buf = buf[:0]
			for _, m := range msgs {
				buf, _ = AppendMessage(buf, Header{SysID: 1, CompID: 1}, m, nil)
			}
		}},
		{"encode+sign", func() {
			buf = buf[:0]
			for _, m := range msgs {
				buf, _ = AppendMessage(buf, Header{SysID: 1, CompID: 1}, m, signer)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a := testing.AllocsPerRun(20, tc.fn); a != 0 {
				t.Errorf("%s: %v allocs per run, want 0", tc.name, a)
			}
		})
	}
}

func ExampleAppendMessage() {
	buf := make([]byte, 0, MaxFrameLen)
	buf, err := AppendMessage(buf, Header{Seq: 7, SysID: 255, CompID: 190},
		&CommandLong{TargetSystem: 1, TargetComponent: 1, Command: MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}, nil)
	if err != nil {
		panic(err)
	}
	var f Frame
	if _, err := NewParser(ParserOptions{}).Next(buf, true, &f); err != nil {
		panic(err)
	}
	var cmd CommandLong
	if err := DecodeMessage(&f, &cmd); err != nil {
		panic(err)
	}
	fmt.Println(f.Name(), len(f.Raw), cmd.Command, cmd.Param1)
	// Output: COMMAND_LONG 44 MAV_CMD_COMPONENT_ARM_DISARM 1
}
