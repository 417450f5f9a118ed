package modbus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestCRC16(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want uint16
	}{
		{"check string", []byte("123456789"), 0x4B37},
		{"read holding request", []byte{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A}, 0xCDC5},
		{"empty", nil, 0xFFFF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CRC16(tt.in); got != tt.want {
				t.Errorf("CRC16(%x) = %#04x, want %#04x", tt.in, got, tt.want)
			}
			if f := AppendCRC(append([]byte(nil), tt.in...)); !CheckCRC(f) && len(f) >= 3 {
				t.Errorf("CheckCRC(AppendCRC(%x)) = false", tt.in)
			}
		})
	}
}

func TestRequestADU(t *testing.T) {
	r := &request{unit: 1, fn: FuncReadHoldingRegisters, addr: 0, count: 10}
	want := []byte{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD}
	if got := r.appendADU(nil); !bytes.Equal(got, want) {
		t.Errorf("appendADU = %x, want %x", got, want)
	}
}

// encodeReply is the slave side of decodeReply, for round trips.
func encodeReply(r *request, data []byte) []byte {
	b := []byte{r.unit, byte(r.fn)}
	if r.isRead() {
		b = append(b, byte(len(data)))
		b = append(b, data...)
	} else {
		b = binary.BigEndian.AppendUint16(b, r.addr)
		b = binary.BigEndian.AppendUint16(b, r.count)
	}
	return AppendCRC(b)
}

func TestDecodeReply(t *testing.T) {
	read := &request{unit: 7, fn: FuncReadInputRegisters, addr: 0, count: 2}
	write := &request{unit: 7, fn: FuncWriteSingleCoil, addr: 3, count: 0xFF00}
	good := encodeReply(read, []byte{0, 42, 1, 0})
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name     string
		r        *request
		frame    []byte
		wantData []byte
		wantKind FrameErrorKind
		wantExc  Exception
	}{
		{"read ok", read, good, []byte{0, 42, 1, 0}, 0, 0},
		{"write echo ok", write, encodeReply(write, nil), nil, 0, 0},
		{"bad crc", read, badCRC, nil, FrameCRC, 0},
		{"short", read, good[:3], nil, FrameShort, 0},
		{"wrong unit", read, encodeReply(&request{unit: 8, fn: read.fn, count: 2}, []byte{0, 42, 1, 0}), nil, FrameUnit, 0},
		{"wrong function", read, encodeReply(&request{unit: 7, fn: FuncReadHoldingRegisters, count: 2}, []byte{0, 42, 1, 0}), nil, FrameFunction, 0},
		{"byte count disagrees", read, encodeReply(read, []byte{0, 42}), nil, FrameContent, 0},
		{"echo disagrees", write, encodeReply(&request{unit: 7, fn: write.fn, addr: 4, count: 0xFF00}, nil), nil, FrameContent, 0},
		{"exception", read, AppendCRC([]byte{7, 0x84, 0x02}), nil, 0, ExceptionIllegalDataAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.r.decodeReply(tt.frame)
			var fe *FrameError
			var ee *ExceptionError
			switch {
			case tt.wantKind != 0:
				if !errors.As(err, &fe) || fe.Kind != tt.wantKind {
					t.Errorf("decodeReply(%x) = %v, want frame error %v", tt.frame, err, tt.wantKind)
				}
			case tt.wantExc != 0:
				if !errors.As(err, &ee) || ee.Code != tt.wantExc || ee.Function != tt.r.fn {
					t.Errorf("decodeReply(%x) = %v, want exception %v", tt.frame, err, tt.wantExc)
				}
			case err != nil:
				t.Errorf("decodeReply(%x) = %v, want nil", tt.frame, err)
			case !bytes.Equal(data, tt.wantData):
				t.Errorf("decodeReply(%x) data = %x, want %x", tt.frame, data, tt.wantData)
			}
		})
	}
}

func TestDecodeReplyAllocs(t *testing.T) {
	r := &request{unit: 1, fn: FuncReadDiscreteInputs, count: 9}
	frame := encodeReply(r, []byte{0xA5, 0x01})
	if n := testing.AllocsPerRun(100, func() { _, _ = r.decodeReply(frame) }); n != 0 {
		t.Errorf("decodeReply allocs = %v, want 0", n)
	}
}

func TestPackBitsRoundTrip(t *testing.T) {
	bits := []bool{true, false, true, true, false, false, false, true, true, false, true}
	packed := packBits(nil, bits)
	if want := []byte{0x8D, 0x05}; !bytes.Equal(packed, want) {
		t.Fatalf("packBits = %x, want %x", packed, want)
	}
	got := unpackBits(nil, packed, len(bits))
	for i := range bits {
		if got[i] != bits[i] {
			t.Errorf("bit %d = %v, want %v", i, got[i], bits[i])
		}
	}
}

// FuzzDecodeReply feeds arbitrary replies to every request shape: the
// decoder must never panic, and an accepted reply must re-encode to the
// same bytes (bit padding of the last byte aside).
func FuzzDecodeReply(f *testing.F) {
	f.Add(uint8(1), uint8(3), uint16(0), uint16(2), encodeReply(&request{unit: 1, fn: 3, count: 2}, []byte{0, 1, 0, 2}))
	f.Add(uint8(1), uint8(2), uint16(0), uint16(9), encodeReply(&request{unit: 1, fn: 2, count: 9}, []byte{0xff, 0x01}))
	f.Add(uint8(9), uint8(5), uint16(4), uint16(0xFF00), encodeReply(&request{unit: 9, fn: 5, addr: 4, count: 0xFF00}, nil))
	f.Add(uint8(1), uint8(4), uint16(0), uint16(1), AppendCRC([]byte{1, 0x84, 2}))
	f.Add(uint8(1), uint8(1), uint16(0), uint16(1), []byte{1})
	f.Fuzz(func(t *testing.T, unit, fn uint8, addr, count uint16, frame []byte) {
		r := &request{unit: unit, fn: Function(fn), addr: addr, count: count}
		if l := r.replyLen(frame); l > 0 && l < 5 && Function(fn)&exceptionBit == 0 {
			t.Fatalf("replyLen = %d, shorter than any reply", l)
		}
		data, err := r.decodeReply(frame)
		if err != nil {
			return
		}
		again := encodeReply(r, data)
		if r.isRead() && (r.fn == FuncReadCoils || r.fn == FuncReadDiscreteInputs) {
			bits := unpackBits(nil, data, int(r.count))
			again = encodeReply(r, packBits(nil, bits))
			if len(again) != len(frame) {
				t.Fatalf("re-encoded %x, length differs from %x", again, frame)
			}
			return
		}
		if !bytes.Equal(again, frame) {
			t.Fatalf("re-encoded %x, want %x", again, frame)
		}
	})
}

func BenchmarkDecodeReply(b *testing.B) {
	r := &request{unit: 2, fn: FuncReadInputRegisters, count: 7}
	frame := encodeReply(r, []byte{0, 31, 0, 45, 1, 14, 0, 214, 3, 47, 0, 0, 0, 183})
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := r.decodeReply(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestADU(b *testing.B) {
	r := &request{unit: 1, fn: FuncReadDiscreteInputs, count: 8}
	buf := make([]byte, 0, maxADU)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.appendADU(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}
