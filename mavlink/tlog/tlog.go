package tlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// setupSigningID is SETUP_SIGNING, which carries the secret key: never
// logged (PROTOCOL.md §4).
const setupSigningID = 256

// WriterOptions configures a Writer. The zero value writes frames as given.
type WriterOptions struct {
	// StripSignatures removes the signature of signed MAVLink 2 frames
	// (clears the flag, drops the 13 bytes, recomputes the checksum), as
	// the signing spec asks of logs. Frames of ids outside the dialect table
	// cannot get a new checksum and are written as they are.
	StripSignatures bool
}

// Writer writes .tlog records. Not safe for concurrent use; the caller
// closes the underlying writer.
type Writer struct {
	w    io.Writer
	opts WriterOptions
	buf  []byte
}

// NewWriter returns a Writer appending records to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	return &Writer{w: w, opts: opts, buf: make([]byte, 0, 8+mavlink.MaxFrameLen)}
}

// WriteFrame writes one record: t and the raw frame (for example
// mavlink.Frame.Raw). SETUP_SIGNING frames are skipped: they carry the key.
func (w *Writer) WriteFrame(t time.Time, raw []byte) error {
	if len(raw) < 8 {
		return fmt.Errorf("write tlog record: frame of %d bytes is too short", len(raw))
	}
	if h, ok := mavlink.PeekHeader(raw); ok && h.MsgID == setupSigningID {
		return nil
	}
	b := binary.BigEndian.AppendUint64(w.buf[:0], uint64(t.UnixMicro()))
	b = append(b, raw...)
	if w.opts.StripSignatures {
		b = stripSignature(b, 8)
	}
	w.buf = b[:0]
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("write tlog record: %w", err)
	}
	return nil
}

// stripSignature removes the signature of the frame at b[start:] in place.
func stripSignature(b []byte, start int) []byte {
	f := b[start:]
	if f[0] != mavlink.MagicV2 || len(f) < 12+mavlink.SignatureLen || f[2]&mavlink.IncompatSigned == 0 {
		return b
	}
	mi := mavlink.LookupMessage(uint32(f[7]) | uint32(f[8])<<8 | uint32(f[9])<<16)
	if mi == nil {
		return b
	}
	f[2] &^= mavlink.IncompatSigned
	n := 10 + int(f[1])
	crc := mavlink.X25(f[1:n])
	crc = x25Byte(crc, mi.CRCExtra)
	binary.LittleEndian.PutUint16(f[n:], crc)
	return b[:start+n+2]
}

func x25Byte(crc uint16, c byte) uint16 {
	tmp := c ^ uint8(crc)
	tmp ^= tmp << 4
	return crc>>8 ^ uint16(tmp)<<8 ^ uint16(tmp)<<3 ^ uint16(tmp)>>4
}

// Record is one .tlog record. Frame aliases the Reader's buffer and is valid
// until the next call to Next.
type Record struct {
	Time  time.Time
	Frame []byte
}

// ErrCorrupt means a record does not start a MAVLink frame where one should
// be: the file is damaged or not a .tlog.
var ErrCorrupt = errors.New("tlog record does not hold a MAVLink frame")

// Reader reads .tlog records. Not safe for concurrent use.
type Reader struct {
	r   io.Reader
	off int64
	buf [8 + mavlink.MaxFrameLen]byte
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next returns the next record; io.EOF at a clean end, io.ErrUnexpectedEOF
// for a cut record, an error wrapping ErrCorrupt for a damaged one.
func (r *Reader) Next() (Record, error) {
	b := r.buf[:]
	if _, err := io.ReadFull(r.r, b[:9]); err != nil {
		if err == io.EOF {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("read tlog record at byte %d: %w", r.off, err)
	}
	var hdr, total int
	switch b[8] {
	case mavlink.MagicV1:
		hdr = 6
	case mavlink.MagicV2:
		hdr = 10
	default:
		return Record{}, fmt.Errorf("read tlog record at byte %d: magic %#02x: %w", r.off, b[8], ErrCorrupt)
	}
	if _, err := io.ReadFull(r.r, b[9:8+hdr]); err != nil {
		return Record{}, fmt.Errorf("read tlog record at byte %d: %w", r.off, noEOF(err))
	}
	total = hdr + int(b[9]) + 2
	if hdr == 10 && b[10]&mavlink.IncompatSigned != 0 {
		total += mavlink.SignatureLen
	}
	if _, err := io.ReadFull(r.r, b[8+hdr:8+total]); err != nil {
		return Record{}, fmt.Errorf("read tlog record at byte %d: %w", r.off, noEOF(err))
	}
	r.off += int64(8 + total)
	us := binary.BigEndian.Uint64(b[:8])
	return Record{Time: time.UnixMicro(int64(us)).UTC(), Frame: b[8 : 8+total]}, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
