package modbus

import (
	"errors"
	"fmt"
)

// ErrTimeout means the unit sent nothing within the request timeout: it is
// absent, unpowered or not wired. A damaged reply is a *FrameError instead,
// and a failing port is neither.
var ErrTimeout = errors.New("modbus: no reply within timeout")

// ExceptionError is a Modbus exception response: the unit received the
// request and refused it.
type ExceptionError struct {
	Unit     uint8
	Function Function // the function of the request (without the 0x80 bit)
	Code     Exception
}

func (e *ExceptionError) Error() string {
	return fmt.Sprintf("modbus: unit %d refused function %s: exception %s", e.Unit, e.Function, e.Code)
}

// FrameErrorKind says how a reply was damaged or unexpected.
type FrameErrorKind uint8

// Kinds of FrameError.
const (
	FrameCRC      FrameErrorKind = iota + 1 // the CRC does not match
	FrameShort                              // the reply stopped before its length
	FrameUnit                               // the reply came from another unit id
	FrameFunction                           // the reply carries another function code
	FrameContent                            // byte count, echo or length disagree with the request
)

func (k FrameErrorKind) String() string {
	switch k {
	case FrameCRC:
		return "crc mismatch"
	case FrameShort:
		return "short frame"
	case FrameUnit:
		return "wrong unit"
	case FrameFunction:
		return "wrong function"
	case FrameContent:
		return "bad content"
	}
	return fmt.Sprintf("FrameErrorKind(%d)", uint8(k))
}

// FrameError is a reply that arrived but cannot be used: the line is alive
// (unlike ErrTimeout) but noisy, misconfigured or shared with a stranger. The
// client counts it and retries.
type FrameError struct {
	Unit     uint8    // the unit the request went to
	Function Function // the function of the request
	Kind     FrameErrorKind
	Len      int // bytes received
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("modbus: reply of unit %d to function %s: %s (%d bytes)", e.Unit, e.Function, e.Kind, e.Len)
}
