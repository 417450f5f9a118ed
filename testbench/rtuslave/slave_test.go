package rtuslave

import (
	"bytes"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/rs485/modbus"
)

func testSlave(t testing.TB) *Slave {
	regs := []uint16{1, 2, 3}
	s, err := New(Options{Unit: 3}, nopPort{}, Device{
		ReadInputRegisters: func(start, count uint16) ([]uint16, modbus.Exception) {
			if int(start)+int(count) > len(regs) {
				return nil, modbus.ExceptionIllegalDataAddress
			}
			return regs[start : start+count], 0
		},
		WriteCoils: func(uint16, []bool) modbus.Exception { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type nopPort struct{}

func (nopPort) Read([]byte) (int, error)           { return 0, nil }
func (nopPort) Write(b []byte) (int, error)        { return len(b), nil }
func (nopPort) SetReadTimeout(time.Duration) error { return nil }

// replies parses in as the byte stream of a line and returns the replies.
func replies(s *Slave, in []byte) [][]byte {
	var out [][]byte
	buf := append([]byte(nil), in...)
	for {
		frame, rest, ok := s.cut(buf)
		if !ok {
			return out
		}
		if frame != nil {
			if r := s.serve(nil, frame); len(r) > 0 {
				out = append(out, r)
			}
		}
		buf = rest
	}
}

func TestFraming(t *testing.T) {
	read := modbus.AppendCRC([]byte{3, 4, 0, 1, 0, 2})
	other := modbus.AppendCRC([]byte{9, 4, 0, 0, 0, 1})
	coils := modbus.AppendCRC([]byte{3, 0x0F, 0, 0, 0, 9, 2, 0xFF, 0x01})
	wantRead := modbus.AppendCRC([]byte{3, 4, 4, 0, 2, 0, 3})
	wantCoils := modbus.AppendCRC([]byte{3, 0x0F, 0, 0, 0, 9})
	tests := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"one request", read, [][]byte{wantRead}},
		{"leading noise", append([]byte{0xAA, 0x03}, read...), [][]byte{wantRead}},
		{"back to back with another unit", append(append(append([]byte(nil), read...), other...), coils...), [][]byte{wantRead, wantCoils}},
		{"exception", modbus.AppendCRC([]byte{3, 4, 0, 2, 0, 5}), [][]byte{modbus.AppendCRC([]byte{3, 0x84, 2})}},
		{"unsupported function", modbus.AppendCRC([]byte{3, 3, 0, 0, 0, 1}), [][]byte{modbus.AppendCRC([]byte{3, 0x83, 1})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := replies(testSlave(t), tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("replies = %x, want %x", got, tt.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("reply %d = %x, want %x", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzRequests feeds arbitrary line bytes to the slave's framing and
// answering: no panic, and every reply carries a good CRC.
func FuzzRequests(f *testing.F) {
	f.Add(modbus.AppendCRC([]byte{3, 4, 0, 1, 0, 2}))
	f.Add(modbus.AppendCRC([]byte{3, 0x0F, 0, 0, 0, 9, 2, 0xFF, 0x01}))
	f.Add(modbus.AppendCRC([]byte{3, 0x10, 0, 0, 0, 1, 2, 0, 1}))
	f.Add([]byte{3, 0x0F, 0, 0, 0, 9, 200})
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, r := range replies(testSlave(t), in) {
			if !modbus.CheckCRC(r) || r[0] != 3 {
				t.Fatalf("reply %x: bad CRC or unit", r)
			}
		}
	})
}
