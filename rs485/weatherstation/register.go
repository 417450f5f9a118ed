package weatherstation

import (
	"context"
	"fmt"
	"math"
)

// RegisterReader is what the weather station poller needs from a Modbus
// client (rs485/modbus's Client fits). Each call waits at most until ctx
// ends.
type RegisterReader interface {
	ReadHoldingRegisters(ctx context.Context, unit uint8, start, count uint16) ([]uint16, error)
	ReadInputRegisters(ctx context.Context, unit uint8, start, count uint16) ([]uint16, error)
}

// Table says which Modbus table a register is read from.
type Table string

// Register tables (function 0x03 and 0x04).
const (
	TableHolding Table = "holding"
	TableInput   Table = "input"
)

// Type is how a register's words encode the value.
type Type string

// Register types: 16-bit unsigned or signed, 32-bit unsigned, signed or
// IEEE 754 float over two words, high word first unless WordSwap.
const (
	U16 Type = "u16"
	S16 Type = "s16"
	U32 Type = "u32"
	S32 Type = "s32"
	F32 Type = "f32"
)

// Register locates one value: value = raw*Scale + Offset (Scale 0 means 1).
// For Rain a value above 0 means rain.
type Register struct {
	Table    Table
	Address  uint16
	Type     Type
	Scale    float64
	Offset   float64
	WordSwap bool // low word first for 32-bit types
}

func (r Register) words() uint16 {
	switch r.Type {
	case U32, S32, F32:
		return 2
	}
	return 1
}

// decode turns the register's words into its scaled value.
func (r Register) decode(w []uint16) (float64, error) {
	if len(w) < int(r.words()) {
		return 0, fmt.Errorf("register %d: %d words, want %d", r.Address, len(w), r.words())
	}
	var raw float64
	u32 := func() uint32 {
		if r.WordSwap {
			return uint32(w[1])<<16 | uint32(w[0])
		}
		return uint32(w[0])<<16 | uint32(w[1])
	}
	switch r.Type {
	case U16:
		raw = float64(w[0])
	case S16:
		raw = float64(int16(w[0]))
	case U32:
		raw = float64(u32())
	case S32:
		raw = float64(int32(u32()))
	case F32:
		raw = float64(math.Float32frombits(u32()))
		if math.IsNaN(raw) || math.IsInf(raw, 0) {
			return 0, fmt.Errorf("register %d: float is %v", r.Address, raw)
		}
	default:
		return 0, fmt.Errorf("register %d: unknown type %q", r.Address, r.Type)
	}
	scale := r.Scale
	if scale == 0 {
		scale = 1
	}
	return raw*scale + r.Offset, nil
}

// Registers is the station's register map; a nil entry is not read
// (and its value stays zero, or for InsideTempC unknown).
type Registers struct {
	WindMPS, GustMPS, DirDeg, TempC, HumidityPct, Rain, InsideTempC *Register
}
