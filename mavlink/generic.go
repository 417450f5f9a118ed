package mavlink

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// FieldValue decodes field i of message mi from payload (zero-extended if
// truncated) without a typed struct, for tools such as dockctl dump and for
// messages that have no Go type. Scalars come as uint64 (unsigned), int64
// (signed), float32 or float64; char arrays as a string up to the first
// NUL; other arrays as []uint64, []int64, []float32 or []float64. It
// allocates.
func (mi *MessageInfo) FieldValue(payload []byte, i int) any {
	f := &mi.Fields[i]
	var full [MaxPayloadLen]byte
	p := payload
	if len(p) < mi.MaxLen {
		copy(full[:], p)
		p = full[:mi.MaxLen]
	}
	b := p[f.Offset : f.Offset+f.Size()]
	if f.ArrayLen == 0 {
		return scalar(f.Type, b)
	}
	es := f.Type.Size()
	switch f.Type {
	case FieldChar:
		if k := bytes.IndexByte(b, 0); k >= 0 {
			b = b[:k]
		}
		return string(b)
	case FieldFloat:
		v := make([]float32, f.ArrayLen)
		for k := range v {
			v[k] = scalar(f.Type, b[k*es:]).(float32)
		}
		return v
	case FieldDouble:
		v := make([]float64, f.ArrayLen)
		for k := range v {
			v[k] = scalar(f.Type, b[k*es:]).(float64)
		}
		return v
	case FieldInt8, FieldInt16, FieldInt32, FieldInt64:
		v := make([]int64, f.ArrayLen)
		for k := range v {
			v[k] = scalar(f.Type, b[k*es:]).(int64)
		}
		return v
	default:
		v := make([]uint64, f.ArrayLen)
		for k := range v {
			v[k] = scalar(f.Type, b[k*es:]).(uint64)
		}
		return v
	}
}

func scalar(t FieldType, b []byte) any {
	switch t {
	case FieldUint8, FieldChar:
		return uint64(b[0])
	case FieldInt8:
		return int64(int8(b[0]))
	case FieldUint16:
		return uint64(binary.LittleEndian.Uint16(b))
	case FieldInt16:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case FieldUint32:
		return uint64(binary.LittleEndian.Uint32(b))
	case FieldInt32:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case FieldFloat:
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	case FieldUint64:
		return binary.LittleEndian.Uint64(b)
	case FieldInt64:
		return int64(binary.LittleEndian.Uint64(b))
	case FieldDouble:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	panic("mavlink: unknown field type") // programmer bug: the table is generated
}

// PutFieldValue writes v as field i of message mi into the full
// (untruncated, at least MaxLen bytes) payload p. v takes the types
// FieldValue returns; integer types may also be int or uint64/int64
// interchangeably when the value fits. It is for tools and tests, not hot
// paths.
func (mi *MessageInfo) PutFieldValue(p []byte, i int, v any) error {
	f := &mi.Fields[i]
	b := p[f.Offset : f.Offset+f.Size()]
	if f.ArrayLen == 0 {
		return putScalar(f.Type, b, v)
	}
	es := f.Type.Size()
	var n int
	put := func(k int, x any) error { return putScalar(f.Type, b[k*es:], x) }
	switch a := v.(type) {
	case string:
		if f.Type != FieldChar || len(a) > f.ArrayLen {
			return fmt.Errorf("set %s.%s: string of %d bytes does not fit", mi.Name, f.Name, len(a))
		}
		clear(b)
		copy(b, a)
		return nil
	case []float32:
		n = len(a)
		for k, x := range a {
			if k < f.ArrayLen {
				if err := put(k, x); err != nil {
					return err
				}
			}
		}
	case []float64:
		n = len(a)
		for k, x := range a {
			if k < f.ArrayLen {
				if err := put(k, x); err != nil {
					return err
				}
			}
		}
	case []int64:
		n = len(a)
		for k, x := range a {
			if k < f.ArrayLen {
				if err := put(k, x); err != nil {
					return err
				}
			}
		}
	case []uint64:
		n = len(a)
		for k, x := range a {
			if k < f.ArrayLen {
				if err := put(k, x); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("set %s.%s: %T is not an array value", mi.Name, f.Name, v)
	}
	if n != f.ArrayLen {
		return fmt.Errorf("set %s.%s: %d elements, want %d", mi.Name, f.Name, n, f.ArrayLen)
	}
	return nil
}

func putScalar(t FieldType, b []byte, v any) error {
	var u uint64
	var fl float64
	isFloat := false
	switch x := v.(type) {
	case uint64:
		u = x
	case int64:
		u = uint64(x)
	case int:
		u = uint64(x)
	case float32:
		fl, isFloat = float64(x), true
		if t == FieldFloat {
			binary.LittleEndian.PutUint32(b, math.Float32bits(x))
			return nil
		}
	case float64:
		fl, isFloat = x, true
	default:
		return fmt.Errorf("%T is not a scalar value", v)
	}
	switch t {
	case FieldFloat:
		if !isFloat {
			fl = float64(int64(u))
		}
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(fl)))
	case FieldDouble:
		if !isFloat {
			fl = float64(int64(u))
		}
		binary.LittleEndian.PutUint64(b, math.Float64bits(fl))
	default:
		if isFloat {
			return fmt.Errorf("float %v for an integer field", fl)
		}
		switch t.Size() {
		case 1:
			b[0] = byte(u)
		case 2:
			binary.LittleEndian.PutUint16(b, uint16(u))
		case 4:
			binary.LittleEndian.PutUint32(b, uint32(u))
		case 8:
			binary.LittleEndian.PutUint64(b, u)
		}
	}
	return nil
}
