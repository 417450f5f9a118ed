package modbus

import (
	"encoding/binary"
	"fmt"
)

// Function is a Modbus function code.
type Function uint8

// Function codes the client and the bench's slaves speak.
const (
	FuncReadCoils              Function = 0x01
	FuncReadDiscreteInputs     Function = 0x02
	FuncReadHoldingRegisters   Function = 0x03
	FuncReadInputRegisters     Function = 0x04
	FuncWriteSingleCoil        Function = 0x05
	FuncWriteSingleRegister    Function = 0x06
	FuncWriteMultipleCoils     Function = 0x0F
	FuncWriteMultipleRegisters Function = 0x10
)

// exceptionBit is set in the function code of an exception response.
const exceptionBit = 0x80

func (f Function) String() string {
	switch f {
	case FuncReadCoils:
		return "0x01 read coils"
	case FuncReadDiscreteInputs:
		return "0x02 read discrete inputs"
	case FuncReadHoldingRegisters:
		return "0x03 read holding registers"
	case FuncReadInputRegisters:
		return "0x04 read input registers"
	case FuncWriteSingleCoil:
		return "0x05 write single coil"
	case FuncWriteSingleRegister:
		return "0x06 write single register"
	case FuncWriteMultipleCoils:
		return "0x0f write multiple coils"
	case FuncWriteMultipleRegisters:
		return "0x10 write multiple registers"
	}
	return fmt.Sprintf("0x%02x", uint8(f))
}

// Exception is a Modbus exception code.
type Exception uint8

// Exception codes of the Modbus application protocol.
const (
	ExceptionIllegalFunction    Exception = 0x01
	ExceptionIllegalDataAddress Exception = 0x02
	ExceptionIllegalDataValue   Exception = 0x03
	ExceptionDeviceFailure      Exception = 0x04
	ExceptionAcknowledge        Exception = 0x05
	ExceptionDeviceBusy         Exception = 0x06
)

func (e Exception) String() string {
	switch e {
	case ExceptionIllegalFunction:
		return "0x01 illegal function"
	case ExceptionIllegalDataAddress:
		return "0x02 illegal data address"
	case ExceptionIllegalDataValue:
		return "0x03 illegal data value"
	case ExceptionDeviceFailure:
		return "0x04 device failure"
	case ExceptionAcknowledge:
		return "0x05 acknowledge"
	case ExceptionDeviceBusy:
		return "0x06 device busy"
	}
	return fmt.Sprintf("0x%02x", uint8(e))
}

// Limits of one request (Modbus application protocol v1.1b3 §6).
const (
	MaxReadBits       = 2000 // coils or discrete inputs per read
	MaxReadRegisters  = 125  // registers per read
	MaxWriteBits      = 1968 // coils per 0x0F
	MaxWriteRegisters = 123  // registers per 0x10
	maxADU            = 256  // longest RTU frame
)

// request is one request the client sends and the shape of the reply it
// expects.
type request struct {
	unit  uint8
	fn    Function
	addr  uint16 // start address
	count uint16 // quantity of bits or registers (0x05/0x06: the value)
	data  []byte // payload of 0x0F/0x10 (packed bits or big-endian registers)
}

// appendADU appends the RTU frame of r (unit, PDU, CRC) to dst.
func (r *request) appendADU(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, r.unit, byte(r.fn))
	dst = binary.BigEndian.AppendUint16(dst, r.addr)
	dst = binary.BigEndian.AppendUint16(dst, r.count)
	if r.fn == FuncWriteMultipleCoils || r.fn == FuncWriteMultipleRegisters {
		dst = append(dst, byte(len(r.data)))
		dst = append(dst, r.data...)
	}
	crc := CRC16(dst[start:])
	return append(dst, byte(crc), byte(crc>>8))
}

// replyDataLen is the byte count a read reply to r must carry.
func (r *request) replyDataLen() int {
	switch r.fn {
	case FuncReadCoils, FuncReadDiscreteInputs:
		return (int(r.count) + 7) / 8
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		return 2 * int(r.count)
	}
	return 0
}

// isRead reports whether r is one of the read functions 0x01..0x04, whose
// reply is unit, function, byte count, data, CRC.
func (r *request) isRead() bool {
	return r.fn >= FuncReadCoils && r.fn <= FuncReadInputRegisters
}

// replyLen returns the full length of the reply frame whose first bytes are
// head, or 0 when head is too short to tell, or -1 when the function byte
// is not one r can be answered with (the length is then unknown).
func (r *request) replyLen(head []byte) int {
	if len(head) < 2 {
		return 0
	}
	switch fn := head[1]; {
	case fn == byte(r.fn)|exceptionBit:
		return 5
	case fn != byte(r.fn):
		return -1
	case r.isRead():
		if len(head) < 3 {
			return 0
		}
		return 5 + int(head[2])
	default:
		return 8
	}
}

// decodeReply checks frame, a complete reply to r, and returns the data of
// a read reply (the bytes after the byte count) or nil for a write echo.
// The returned slice aliases frame. It never panics on any input: frame
// comes from the wire.
func (r *request) decodeReply(frame []byte) ([]byte, error) {
	fe := func(k FrameErrorKind) error {
		return &FrameError{Unit: r.unit, Function: r.fn, Kind: k, Len: len(frame)}
	}
	if len(frame) < 4 {
		return nil, fe(FrameShort)
	}
	if !CheckCRC(frame) {
		return nil, fe(FrameCRC)
	}
	if frame[0] != r.unit {
		return nil, fe(FrameUnit)
	}
	switch frame[1] {
	case byte(r.fn) | exceptionBit:
		if len(frame) != 5 {
			return nil, fe(FrameContent)
		}
		return nil, &ExceptionError{Unit: r.unit, Function: r.fn, Code: Exception(frame[2])}
	case byte(r.fn):
	default:
		return nil, fe(FrameFunction)
	}
	if r.isRead() {
		n := r.replyDataLen()
		if len(frame) < 5 || int(frame[2]) != n || len(frame) != 5+n {
			return nil, fe(FrameContent)
		}
		return frame[3 : 3+n], nil
	}
	if len(frame) != 8 ||
		binary.BigEndian.Uint16(frame[2:]) != r.addr ||
		binary.BigEndian.Uint16(frame[4:]) != r.count {
		return nil, fe(FrameContent)
	}
	return nil, nil
}

// unpackBits returns the first n bits of b, least significant bit of the
// first byte first, as Modbus packs coils and discrete inputs.
func unpackBits(dst []bool, b []byte, n int) []bool {
	for i := range n {
		dst = append(dst, b[i/8]&(1<<(i%8)) != 0)
	}
	return dst
}

// packBits packs bits as Modbus does (first bit in the least significant
// bit of the first byte), appending to dst.
func packBits(dst []byte, bits []bool) []byte {
	for i := 0; i < len(bits); i += 8 {
		var x byte
		for j := 0; j < 8 && i+j < len(bits); j++ {
			if bits[i+j] {
				x |= 1 << j
			}
		}
		dst = append(dst, x)
	}
	return dst
}

// PackBits packs bits as Modbus does (first bit in the least significant bit
// of the first byte), appending to dst; slaves use it for read replies.
func PackBits(dst []byte, bits []bool) []byte { return packBits(dst, bits) }

// UnpackBits appends the first n bits of b to dst, least significant bit
// first. It panics if b holds fewer than n bits (a programmer bug).
func UnpackBits(dst []bool, b []byte, n int) []bool { return unpackBits(dst, b, n) }
