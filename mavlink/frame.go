package mavlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Wire constants (PROTOCOL.md §1, §2).
const (
	MagicV1 = 0xFE // start byte of a MAVLink 1 frame
	MagicV2 = 0xFD // start byte of a MAVLink 2 frame

	// IncompatSigned is the only incompat flag defined: the frame carries a
	// 13-byte signature. A frame with any other incompat bit is discarded.
	IncompatSigned = 0x01

	headerLenV1    = 6
	headerLenV2    = 10
	SignatureLen   = 13  // link id, 48-bit timestamp, 6-byte signature
	MaxFrameLen    = 280 // a signed MAVLink 2 frame with a 255-byte payload
	MaxPayloadLen  = 255
	minFrameLenV1  = headerLenV1 + 2
	minFrameLenV2  = headerLenV2 + 2
	checksumLength = 2
)

// Frame is one MAVLink frame. Payload and Raw alias the buffer the frame was
// parsed from (valid until that buffer is reused) or the slice built by
// AppendMessage; copy them to keep them.
type Frame struct {
	Version       uint8 // 1 or 2
	IncompatFlags uint8 // v2 only
	CompatFlags   uint8 // v2 only
	Seq           uint8
	SysID         uint8
	CompID        uint8
	MsgID         uint32
	// Payload is the payload as on the wire: MAVLink 2 senders truncate
	// trailing zero bytes, decoders zero-extend it.
	Payload  []byte
	Checksum uint16
	// Signature fields, set when IncompatFlags has IncompatSigned.
	LinkID    uint8
	Timestamp uint64 // 10 µs units since 2015-01-01 00:00:00 UTC
	Signature [6]byte
	// Raw is the whole frame, magic to signature, to forward it untouched.
	Raw []byte
	// Info is the dialect table entry of MsgID, nil if the id is unknown
	// (such a frame's checksum could not be checked).
	Info *MessageInfo
}

// Signed reports whether f carries a signature.
func (f *Frame) Signed() bool { return f.IncompatFlags&IncompatSigned != 0 }

// Name returns the spec name of f's message, or "" if the id is unknown.
func (f *Frame) Name() string {
	if f.Info == nil {
		return ""
	}
	return f.Info.Name
}

// Header is what a sender chooses for a frame it encodes.
type Header struct {
	// Version is 1 or 2; 0 means 2.
	Version uint8
	Seq     uint8
	SysID   uint8
	CompID  uint8
}

// AppendMessage appends to dst the frame carrying m with header h, signed by
// s if s is not nil (MAVLink 2 only), and returns the extended slice. It
// does not allocate when dst has room for MaxFrameLen more bytes.
func AppendMessage(dst []byte, h Header, m Message, s *Signer) ([]byte, error) {
	mi := LookupMessage(m.MsgID())
	if mi == nil {
		return dst, fmt.Errorf("encode message %d: %w", m.MsgID(), ErrUnknownMessage)
	}
	dst, hdr, frame := growFrame(dst, h, mi)
	// Encode in place, behind room for the header: no scratch buffer.
	m.EncodePayload(frame[hdr:])
	return finishFrame(dst, h, mi, hdr+mi.MaxLen, s)
}

// growFrame makes room behind dst for one frame of mi: it returns dst
// (same length, grown by MaxFrameLen), the header length of h's version
// and the frame's bytes (header and untruncated payload) past dst's end.
func growFrame(dst []byte, h Header, mi *MessageInfo) (grown []byte, hdr int, frame []byte) {
	start := len(dst)
	dst = slices.Grow(dst, MaxFrameLen)
	hdr = headerLenV2
	if h.Version == 1 {
		hdr = headerLenV1
	}
	return dst, hdr, dst[start : start+hdr+mi.MaxLen]
}

// AppendPayload appends to dst the frame carrying the untruncated payload of
// message id msgID (which must be in the table, for its CRC_EXTRA), signed by
// s if s is not nil. MAVLink 2 payloads are truncated (trailing zeros
// stripped, the first byte kept); MAVLink 1 payloads are cut to the
// message's base fields, as MAVLink 1 has no extensions.
func AppendPayload(dst []byte, h Header, msgID uint32, payload []byte, s *Signer) ([]byte, error) {
	mi := LookupMessage(msgID)
	if mi == nil {
		return dst, fmt.Errorf("encode message %d: %w", msgID, ErrUnknownMessage)
	}
	if len(payload) > mi.MaxLen {
		return dst, fmt.Errorf("encode %s: payload of %d bytes exceeds %d", mi.Name, len(payload), mi.MaxLen)
	}
	dst, hdr, frame := growFrame(dst, h, mi)
	clear(frame[hdr+copy(frame[hdr:], payload):])
	return finishFrame(dst, h, mi, hdr+mi.MaxLen, s)
}

// finishFrame completes the frame whose untruncated payload already sits in
// dst's spare capacity behind room for the header: n is header plus full
// payload length.
func finishFrame(dst []byte, h Header, mi *MessageInfo, n int, s *Signer) ([]byte, error) {
	start := len(dst)
	frame := dst[start : start+n]
	switch h.Version {
	case 1:
		if mi.ID > 255 {
			return dst, fmt.Errorf("encode %s as MAVLink 1: id %d does not fit 8 bits", mi.Name, mi.ID)
		}
		if s != nil {
			return dst, fmt.Errorf("encode %s as MAVLink 1: signing needs MAVLink 2", mi.Name)
		}
		plen := mi.MinLen
		frame[0], frame[1], frame[2], frame[3], frame[4], frame[5] = MagicV1, byte(plen), h.Seq, h.SysID, h.CompID, byte(mi.ID)
		dst = dst[:start+headerLenV1+plen]
	case 0, 2:
		p := frame[headerLenV2:]
		plen := len(p)
		for plen > 1 && p[plen-1] == 0 {
			plen--
		}
		if plen == 0 {
			// The first byte is never stripped (PROTOCOL.md §1); a message
			// without fields still sends one zero byte.
			frame = dst[start : start+headerLenV2+1]
			frame[headerLenV2] = 0
			plen = 1
		}
		var incompat byte
		if s != nil {
			incompat = IncompatSigned
		}
		frame[0], frame[1], frame[2], frame[3], frame[4], frame[5], frame[6] = MagicV2, byte(plen), incompat, 0, h.Seq, h.SysID, h.CompID
		frame[7], frame[8], frame[9] = byte(mi.ID), byte(mi.ID>>8), byte(mi.ID>>16)
		dst = dst[:start+headerLenV2+plen]
	default:
		return dst, fmt.Errorf("encode %s: unknown MAVLink version %d", mi.Name, h.Version)
	}
	crc := crcAccumulate(crcInit, dst[start+1:])
	crc = crcByte(crc, mi.CRCExtra)
	dst = binary.LittleEndian.AppendUint16(dst, crc)
	if s != nil {
		dst = s.appendSignature(dst, start, h.SysID, h.CompID)
	}
	return dst, nil
}

// Errors a reader branches on. Damaged frames come as *FrameError wrapping
// one of the Err* kinds below; anything else from Reader.ReadFrame is the
// link's own error.
var (
	// ErrBadCRC: the checksum does not match (damage or a false start).
	ErrBadCRC = errors.New("bad checksum")
	// ErrBadSignature: the signature does not match the key.
	ErrBadSignature = errors.New("bad signature")
	// ErrReplay: the signature timestamp is not newer than the stream's last one.
	ErrReplay = errors.New("signature timestamp replayed")
	// ErrStaleTimestamp: a new stream's timestamp is too far behind local time.
	ErrStaleTimestamp = errors.New("signature timestamp too old")
	// ErrUnsigned: a verifier was given an unsigned frame.
	ErrUnsigned = errors.New("frame is not signed")
	// ErrIncompatFlags: the frame has an incompat flag this codec does not know.
	ErrIncompatFlags = errors.New("unknown incompat flags")
	// ErrBadLength: the payload length is outside the message's limits.
	ErrBadLength = errors.New("payload length out of range")
	// ErrUnknownMessage: the message id is not in the dialect table.
	ErrUnknownMessage = errors.New("unknown message id")
)

// FrameError reports a damaged or rejected frame: the parser counted it and
// skipped it, and the link is still alive. Err is one of ErrBadCRC,
// ErrBadSignature, ErrReplay, ErrStaleTimestamp, ErrIncompatFlags,
// ErrBadLength.
type FrameError struct {
	MsgID  uint32
	SysID  uint8
	CompID uint8
	Err    error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("mavlink frame of message %d from %d/%d: %v", e.MsgID, e.SysID, e.CompID, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }
