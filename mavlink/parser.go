package mavlink

import (
	"encoding/binary"
	"errors"
	"io"
)

// ErrNeedMore is returned by Parser.Next when buf ends inside what may be a
// frame and atEOF is false: keep buf[n:] and call again with more bytes.
var ErrNeedMore = errors.New("mavlink: need more bytes")

// Stats counts what a Parser saw. Counters only grow.
type Stats struct {
	Frames       uint64 // frames returned (incl. unknown ones)
	BadCRC       uint64 // candidates whose checksum failed (damage or false starts)
	BadSignature uint64 // signed frames the Verifier rejected
	Unknown      uint64 // frames of ids outside the table returned as raw frames
	Rejected     uint64 // checksum-valid frames discarded: unknown incompat flags, bad length
	BytesSkipped uint64 // bytes not part of any returned frame
}

// ParserOptions configures a Parser. The zero value accepts signed frames
// without checking their signatures (Frame.Signed tells the caller).
type ParserOptions struct {
	// Verifier, if not nil, checks every signed frame; rejected ones are
	// counted in Stats.BadSignature and returned as *FrameError. Unsigned
	// frames are passed on: accepting them is the caller's policy.
	Verifier *Verifier
}

// Parser finds MAVLink frames in byte slices, validating each against the
// dialect table (CRC_EXTRA, length limits). After a false start or a damaged
// frame it resumes at the byte after the false magic, so a damaged frame
// costs only itself. A Parser is not safe for concurrent use; it keeps only
// counters between calls.
type Parser struct {
	opts  ParserOptions
	stats Stats
}

// NewParser returns a Parser.
func NewParser(opts ParserOptions) *Parser { return &Parser{opts: opts} }

// Stats returns the counters so far.
func (p *Parser) Stats() Stats { return p.stats }

type scanResult uint8

const (
	scanFrame scanResult = iota
	scanNeedMore
	scanFalseStart
	scanBadCRC
	scanRejected
)

// Next returns the next frame in buf. It skips bytes that start no valid
// frame and returns n, the number of bytes of buf consumed, with:
//   - nil: f holds the frame, f.Raw is buf[n-len(f.Raw):n];
//   - *FrameError: a damaged or rejected frame was counted and skipped;
//     call again with buf[n:];
//   - ErrNeedMore (atEOF false): buf[n:] may start a frame, read more;
//   - io.EOF (atEOF true): buf holds no further frame.
//
// Set atEOF when no more bytes will follow buf (a UDP datagram, the end of a
// file): a frame cut short is then skipped rather than waited for, and a
// frame of an unknown id is accepted at the end of buf. Next does not
// allocate; f aliases buf.
func (p *Parser) Next(buf []byte, atEOF bool, f *Frame) (n int, err error) {
	i := 0
	for {
		j := i
		for j < len(buf) && buf[j]-MagicV2 > 1 {
			j++
		}
		p.stats.BytesSkipped += uint64(j - i)
		i = j
		if i == len(buf) {
			if atEOF {
				return i, io.EOF
			}
			return i, ErrNeedMore
		}
		res, size := p.parseAt(buf[i:], atEOF, f)
		switch res {
		case scanFrame:
			p.stats.Frames++
			if f.Info == nil {
				p.stats.Unknown++
			}
			if f.Signed() && p.opts.Verifier != nil {
				if err := p.opts.Verifier.Verify(f); err != nil {
					p.stats.Frames--
					p.stats.BadSignature++
					p.stats.BytesSkipped += uint64(size)
					return i + size, &FrameError{MsgID: f.MsgID, SysID: f.SysID, CompID: f.CompID, Err: err}
				}
			}
			return i + size, nil
		case scanNeedMore:
			return i, ErrNeedMore
		case scanFalseStart:
			p.stats.BytesSkipped++
			i++
		case scanBadCRC:
			p.stats.BadCRC++
			p.stats.BytesSkipped++
			return i + 1, &FrameError{MsgID: f.MsgID, SysID: f.SysID, CompID: f.CompID, Err: ErrBadCRC}
		case scanRejected:
			p.stats.Rejected++
			p.stats.BytesSkipped += uint64(size)
			err := ErrBadLength
			if f.Version == 2 && f.IncompatFlags&^IncompatSigned != 0 {
				err = ErrIncompatFlags
			}
			return i + size, &FrameError{MsgID: f.MsgID, SysID: f.SysID, CompID: f.CompID, Err: err}
		}
	}
}

// parseAt parses the frame starting with a magic byte at b[0].
func (p *Parser) parseAt(b []byte, atEOF bool, f *Frame) (scanResult, int) {
	short := scanNeedMore
	if atEOF {
		short = scanFalseStart
	}
	if b[0] == MagicV1 {
		if len(b) < headerLenV1 {
			return short, 0
		}
		plen := int(b[1])
		total := headerLenV1 + plen + checksumLength
		if len(b) < total {
			return short, 0
		}
		mi := LookupMessage(uint32(b[5]))
		if mi == nil {
			// MAVLink 1 framing is never unambiguous enough to forward blind.
			return scanFalseStart, 0
		}
		*f = Frame{
			Version: 1, Seq: b[2], SysID: b[3], CompID: b[4], MsgID: uint32(b[5]),
			Payload:  b[headerLenV1 : headerLenV1+plen : headerLenV1+plen],
			Checksum: binary.LittleEndian.Uint16(b[headerLenV1+plen:]),
			Raw:      b[:total:total],
			Info:     mi,
		}
		crc := crcAccumulate(crcInit, b[1:headerLenV1+plen])
		if crcByte(crc, mi.CRCExtra) != f.Checksum {
			return scanBadCRC, 0
		}
		if plen > mi.MaxLen {
			return scanRejected, total
		}
		return scanFrame, total
	}
	if len(b) < headerLenV2 {
		return short, 0
	}
	plen := int(b[1])
	total := headerLenV2 + plen + checksumLength
	if b[2]&IncompatSigned != 0 {
		total += SignatureLen
	}
	if len(b) < total {
		return short, 0
	}
	msgID := uint32(b[7]) | uint32(b[8])<<8 | uint32(b[9])<<16
	mi := LookupMessage(msgID)
	*f = Frame{
		Version: 2, IncompatFlags: b[2], CompatFlags: b[3], Seq: b[4], SysID: b[5], CompID: b[6],
		MsgID:    msgID,
		Payload:  b[headerLenV2 : headerLenV2+plen : headerLenV2+plen],
		Checksum: binary.LittleEndian.Uint16(b[headerLenV2+plen:]),
		Raw:      b[:total:total],
		Info:     mi,
	}
	if f.IncompatFlags&IncompatSigned != 0 {
		s := b[headerLenV2+plen+checksumLength:]
		f.LinkID = s[0]
		f.Timestamp = uint64(s[1]) | uint64(s[2])<<8 | uint64(s[3])<<16 | uint64(s[4])<<24 | uint64(s[5])<<32 | uint64(s[6])<<40
		copy(f.Signature[:], s[7:13])
	}
	if mi == nil {
		// An id outside the table: its checksum cannot be checked, so take
		// it only when the framing is unambiguous (known flags, and the next
		// frame's magic where it should be, or the end of the data).
		if f.IncompatFlags&^IncompatSigned != 0 {
			return scanFalseStart, 0
		}
		switch {
		case len(b) > total:
			if b[total]-MagicV2 > 1 {
				return scanFalseStart, 0
			}
		case !atEOF:
			return scanNeedMore, 0
		}
		return scanFrame, total
	}
	crc := crcAccumulate(crcInit, b[1:headerLenV2+plen])
	if crcByte(crc, mi.CRCExtra) != f.Checksum {
		return scanBadCRC, 0
	}
	if f.IncompatFlags&^IncompatSigned != 0 || plen > mi.MaxLen {
		return scanRejected, total
	}
	return scanFrame, total
}

// Reader reads MAVLink frames from an io.Reader (a serial port, a UDP
// socket, a file) through a Parser. Not safe for concurrent use.
type Reader struct {
	r          io.Reader
	p          *Parser
	buf        []byte
	start, end int
	eof        bool
	err        error
}

// readBufLen holds a whole 64 KiB datagram plus a partial frame kept from
// the previous read.
const readBufLen = 1<<16 + 2*MaxFrameLen

// NewReader returns a Reader of r using parser p (a new zero-option Parser
// if p is nil).
func NewReader(r io.Reader, p *Parser) *Reader {
	if p == nil {
		p = NewParser(ParserOptions{})
	}
	return &Reader{r: r, p: p, buf: make([]byte, readBufLen)}
}

// Parser returns the Reader's parser, for its Stats.
func (r *Reader) Parser() *Parser { return r.p }

// ReadFrame reads the next frame into f; f's slices alias the Reader's
// buffer and stay valid until the next call. It returns nil, a *FrameError
// for a damaged or rejected frame (the link is fine: call again), io.EOF at
// the end of the stream, or the underlying reader's error (wrapped), which
// means the link itself failed. A Read returning 0, nil (a serial read
// timeout) is retried.
func (r *Reader) ReadFrame(f *Frame) error {
	for {
		if r.start < r.end || r.eof {
			n, err := r.p.Next(r.buf[r.start:r.end], r.eof, f)
			r.start += n
			switch {
			case err == nil:
				return nil
			case err == io.EOF:
				return r.err
			case err != ErrNeedMore:
				return err
			}
		}
		if r.eof {
			return r.err
		}
		if r.start > 0 {
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
		}
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.eof = true
			r.err = err
			if err != io.EOF {
				r.err = &ReadError{Err: err}
			}
		}
	}
}

// ReadError is the error of the underlying reader: the link is down or
// closed, unlike a *FrameError.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read mavlink stream: " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }
