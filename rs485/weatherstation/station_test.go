package weatherstation

import (
	"context"
	"errors"
	"math"
	"strings"
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
		{"u16 scaled", Register{Type: U16, Scale: 0.1}, []uint16{123}, 12.3},
		{"s16 negative", Register{Type: S16, Scale: 0.1}, []uint16{0xFF9C}, -10},
		{"s16 offset", Register{Type: S16, Offset: -40}, []uint16{50}, 10},
		{"u32", Register{Type: U32}, []uint16{1, 2}, 65538},
		{"u32 swapped", Register{Type: U32, WordSwap: true}, []uint16{2, 1}, 65538},
		{"s32", Register{Type: S32}, []uint16{0xFFFF, 0xFFFE}, -2},
		{"f32", Register{Type: F32}, []uint16{uint16(f32 >> 16), uint16(f32)}, -12.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.reg.decode(tt.words)
			if err != nil || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("decode(%v) = %v, %v, want %v", tt.words, got, err, tt.want)
			}
		})
	}
	if _, err := (Register{Type: F32}).decode([]uint16{0x7FC0, 0}); err == nil {
		t.Errorf("decode(NaN) = nil error, want an error")
	}
	if _, err := (Register{Type: U32}).decode([]uint16{1}); err == nil {
		t.Errorf("decode(short) = nil error, want an error")
	}
}

func FuzzRegisterDecode(f *testing.F) {
	f.Add(uint8(0), uint16(0), uint16(0), 1.0, false)
	f.Add(uint8(4), uint16(0x7FC0), uint16(0), 0.1, true)
	f.Add(uint8(3), uint16(0xFFFF), uint16(0xFFFE), 0.01, false)
	types := []Type{U16, S16, U32, S32, F32, "x"}
	f.Fuzz(func(t *testing.T, typ uint8, w0, w1 uint16, scale float64, swap bool) {
		r := Register{Type: types[int(typ)%len(types)], Scale: scale, WordSwap: swap}
		v, err := r.decode([]uint16{w0, w1})
		if err == nil && r.Type == F32 && !math.IsNaN(scale) && !math.IsInf(scale, 0) && scale != 0 && math.IsNaN(v) {
			t.Errorf("decode returned NaN without error")
		}
	})
}

func TestStation(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	regs := &fakeRegs{
		holding: map[uint16]uint16{0: 52, 1: 81, 2: 270, 3: 0xFFEC, 4: 655, 5: 1},
		input:   map[uint16]uint16{100: 215},
	}
	var fed []Reading
	ws, err := New(Options{
		Unit: 3,
		Registers: Registers{
			WindMPS:     &Register{Table: TableHolding, Address: 0, Type: U16, Scale: 0.1},
			GustMPS:     &Register{Table: TableHolding, Address: 1, Type: U16, Scale: 0.1},
			DirDeg:      &Register{Table: TableHolding, Address: 2, Type: U16},
			TempC:       &Register{Table: TableHolding, Address: 3, Type: S16, Scale: 0.1},
			HumidityPct: &Register{Table: TableHolding, Address: 4, Type: U16, Scale: 0.1},
			Rain:        &Register{Table: TableHolding, Address: 5, Type: U16},
			InsideTempC: &Register{Table: TableInput, Address: 100, Type: S16, Scale: 0.1},
		},
		Clock: clock,
	}, regs, func(r Reading) { fed = append(fed, r) })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ws.poll(ctx)
	inside := 21.5
	want := []Reading{{WindMPS: 5.2, GustMPS: 8.1, DirDeg: 270, TempC: -2, HumidityPct: 65.5, Rain: true, InsideTempC: &inside, At: clock.Now()}}
	if diff := cmp.Diff(want, fed, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("first poll fed (-want +got):\n%s", diff)
	}
	if regs.requests != 2 {
		t.Errorf("requests per poll = %d, want 2 (one per table)", regs.requests)
	}

	// A failed poll feeds nothing: staleness is the controller's call.
	regs.err = errors.New("modbus: timeout")
	clock.Advance(5 * time.Second)
	ws.poll(ctx)
	clock.Advance(6 * time.Second)
	ws.poll(ctx)
	if len(fed) != 1 {
		t.Errorf("after two failed polls: %d readings fed, want still 1", len(fed))
	}
	if !ws.failing || ws.failCount != 2 {
		t.Errorf("failing %v, failed polls counted = %d, want true, 2", ws.failing, ws.failCount)
	}
	regs.err = nil
	clock.Advance(time.Second)
	ws.poll(ctx)
	if len(fed) != 2 || !fed[1].At.Equal(clock.Now()) {
		t.Errorf("after recovery: fed %+v, want a second reading at %v", fed, clock.Now())
	}
	if ws.failing {
		t.Errorf("still failing after a good poll")
	}
}

func TestStationRefusesBadRegisters(t *testing.T) {
	tests := []struct {
		name string
		regs Registers
		want string
	}{
		{"unknown type", Registers{WindMPS: &Register{Table: TableHolding, Type: "u8"}}, `register wind_mps: register 0: unknown type "u8"`},
		{"unknown table", Registers{Rain: &Register{Table: "coil", Type: U16}}, `register rain: table "coil" is not holding or input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Registers: tt.regs, Clock: clockwork.NewFakeClock()}, &fakeRegs{}, func(Reading) {})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
