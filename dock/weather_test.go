package dock

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
)

// fakeRegs serves registers from maps and counts requests.
type fakeRegs struct {
	mu       sync.Mutex
	holding  map[uint16]uint16
	input    map[uint16]uint16
	err      error
	requests int
}

func (f *fakeRegs) read(m map[uint16]uint16, start, count uint16) ([]uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.err != nil {
		return nil, f.err
	}
	out := make([]uint16, count)
	for i := range out {
		out[i] = m[start+uint16(i)]
	}
	return out, nil
}

func (f *fakeRegs) ReadHoldingRegisters(_ context.Context, _ uint8, start, count uint16) ([]uint16, error) {
	return f.read(f.holding, start, count)
}

func (f *fakeRegs) ReadInputRegisters(_ context.Context, _ uint8, start, count uint16) ([]uint16, error) {
	return f.read(f.input, start, count)
}

func TestRegisterDecode(t *testing.T) {
	f32 := math.Float32bits(-12.5)
	tests := []struct {
		name  string
		reg   Register
		words []uint16
		want  float64
	}{
		{"u16 scaled", Register{Type: RegU16, Scale: 0.1}, []uint16{123}, 12.3},
		{"s16 negative", Register{Type: RegS16, Scale: 0.1}, []uint16{0xFF9C}, -10},
		{"s16 offset", Register{Type: RegS16, Offset: -40}, []uint16{50}, 10},
		{"u32", Register{Type: RegU32}, []uint16{1, 2}, 65538},
		{"u32 swapped", Register{Type: RegU32, WordSwap: true}, []uint16{2, 1}, 65538},
		{"s32", Register{Type: RegS32}, []uint16{0xFFFF, 0xFFFE}, -2},
		{"f32", Register{Type: RegF32}, []uint16{uint16(f32 >> 16), uint16(f32)}, -12.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.reg.decode(tt.words)
			if err != nil || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("decode(%v) = %v, %v, want %v", tt.words, got, err, tt.want)
			}
		})
	}
	if _, err := (Register{Type: RegF32}).decode([]uint16{0x7FC0, 0}); err == nil {
		t.Errorf("decode(NaN) = nil error, want an error")
	}
	if _, err := (Register{Type: RegU32}).decode([]uint16{1}); err == nil {
		t.Errorf("decode(short) = nil error, want an error")
	}
}

func FuzzRegisterDecode(f *testing.F) {
	f.Add(uint8(0), uint16(0), uint16(0), 1.0, false)
	f.Add(uint8(4), uint16(0x7FC0), uint16(0), 0.1, true)
	f.Add(uint8(3), uint16(0xFFFF), uint16(0xFFFE), 0.01, false)
	types := []RegisterType{RegU16, RegS16, RegU32, RegS32, RegF32, "x"}
	f.Fuzz(func(t *testing.T, typ uint8, w0, w1 uint16, scale float64, swap bool) {
		r := Register{Type: types[int(typ)%len(types)], Scale: scale, WordSwap: swap}
		v, err := r.decode([]uint16{w0, w1})
		if err == nil && r.Type == RegF32 && !math.IsNaN(scale) && !math.IsInf(scale, 0) && scale != 0 && math.IsNaN(v) {
			t.Errorf("decode returned NaN without error")
		}
	})
}

func TestWeatherStation(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	regs := &fakeRegs{
		holding: map[uint16]uint16{0: 52, 1: 81, 2: 270, 3: 0xFFEC, 4: 655, 5: 1},
		input:   map[uint16]uint16{100: 215},
	}
	var fed []Weather
	var inside []*float64
	ws, err := NewWeatherStation(WeatherOptions{
		Unit: 3,
		Registers: WeatherRegisters{
			WindMPS:     &Register{Table: TableHolding, Address: 0, Type: RegU16, Scale: 0.1},
			GustMPS:     &Register{Table: TableHolding, Address: 1, Type: RegU16, Scale: 0.1},
			DirDeg:      &Register{Table: TableHolding, Address: 2, Type: RegU16},
			TempC:       &Register{Table: TableHolding, Address: 3, Type: RegS16, Scale: 0.1},
			HumidityPct: &Register{Table: TableHolding, Address: 4, Type: RegU16, Scale: 0.1},
			Rain:        &Register{Table: TableHolding, Address: 5, Type: RegU16},
			InsideTempC: &Register{Table: TableInput, Address: 100, Type: RegS16, Scale: 0.1},
		},
		StaleAfter: 10 * time.Second,
		Clock:      clock,
	}, regs, func(w Weather, in *float64) { fed, inside = append(fed, w), append(inside, in) })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ws.poll(ctx)
	want := Weather{WindMPS: 5.2, GustMPS: 8.1, DirDeg: 270, TempC: -2, HumidityPct: 65.5, Rain: true, At: clock.Now()}
	if diff := cmp.Diff(want, fed[0], cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("first reading (-want +got):\n%s", diff)
	}
	if inside[0] == nil || math.Abs(*inside[0]-21.5) > 1e-9 {
		t.Errorf("inside temperature = %v, want 21.5", inside[0])
	}
	if regs.requests != 2 {
		t.Errorf("requests per poll = %d, want 2 (one per table)", regs.requests)
	}

	regs.err = errors.New("modbus: timeout")
	clock.Advance(5 * time.Second)
	ws.poll(ctx)
	if got := fed[len(fed)-1]; got.Stale || got.WindMPS != 5.2 {
		t.Errorf("5s after the last reading: stale %v wind %v, want fresh 5.2", got.Stale, got.WindMPS)
	}
	clock.Advance(6 * time.Second)
	ws.poll(ctx)
	if got := fed[len(fed)-1]; !got.Stale || got.WindMPS != 5.2 || inside[len(inside)-1] != nil {
		t.Errorf("11s after the last reading: stale %v wind %v inside %v, want stale, wind kept, inside unknown", got.Stale, got.WindMPS, inside[len(inside)-1])
	}
	if ws.failCount != 2 {
		t.Errorf("failed polls counted = %d, want 2", ws.failCount)
	}
	regs.err = nil
	clock.Advance(time.Second)
	ws.poll(ctx)
	if got := ws.Latest(); got.Stale || !got.At.Equal(clock.Now()) {
		t.Errorf("after recovery: %+v, want fresh", got)
	}
	if ws.failing {
		t.Errorf("still failing after a good poll")
	}
}

func TestWeatherStationNeverReadIsStale(t *testing.T) {
	regs := &fakeRegs{err: errors.New("no reply")}
	var got Weather
	ws, err := NewWeatherStation(WeatherOptions{
		Registers: WeatherRegisters{WindMPS: &Register{Table: TableInput, Address: 0, Type: RegU16}},
		Clock:     clockwork.NewFakeClock(),
	}, regs, func(w Weather, _ *float64) { got = w })
	if err != nil {
		t.Fatal(err)
	}
	ws.poll(t.Context())
	if !got.Stale {
		t.Errorf("reading with no answer ever = %+v, want stale", got)
	}
}
