package mavlink

import (
	"crypto/sha256"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// signingEpoch is 2015-01-01 00:00:00 UTC, the origin of signing timestamps.
const signingEpoch = 1420070400

// SigningTimestamp converts t to a MAVLink signing timestamp: 10 µs units
// since 2015-01-01 00:00:00 UTC (PROTOCOL.md §4). Times before that are 0.
func SigningTimestamp(t time.Time) uint64 {
	d := t.Sub(time.Unix(signingEpoch, 0))
	if d < 0 {
		return 0
	}
	return uint64(d / (10 * time.Microsecond))
}

// DefaultSigningWindow is how far behind local time the first timestamp of a
// new stream may be (6,000,000 units, PROTOCOL.md §4).
const DefaultSigningWindow = time.Minute

// SignerOptions configures a Signer.
type SignerOptions struct {
	Key    [32]byte // the shared secret key
	LinkID uint8    // the link id carried in every signature
	// Clock gives local time; nil means the real clock.
	Clock clockwork.Clock
	// Last is the last timestamp used (persist it, PROTOCOL.md §4): every
	// new one is greater than it, even if the clock is behind.
	Last uint64
}

// Signer signs outgoing MAVLink 2 frames. Timestamps follow the clock and
// are strictly increasing across all frames it signs (so per (system,
// component, link) too), even for bursts faster than one per 10 µs. A
// Signer is safe for concurrent use.
type Signer struct {
	mu    sync.Mutex
	key   [32]byte
	link  uint8
	clock clockwork.Clock
	last  uint64
	buf   [32 + MaxFrameLen]byte
}

// NewSigner returns a Signer.
func NewSigner(opts SignerOptions) *Signer {
	s := &Signer{key: opts.Key, link: opts.LinkID, clock: opts.Clock, last: opts.Last}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	copy(s.buf[:32], s.key[:])
	return s
}

// Last returns the last timestamp used, for persisting it.
func (s *Signer) Last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Observe raises the next timestamp above ts, the timestamp of a correctly
// signed incoming frame (PROTOCOL.md §4).
func (s *Signer) Observe(ts uint64) {
	s.mu.Lock()
	s.last = max(s.last, ts)
	s.mu.Unlock()
}

// appendSignature appends link id, timestamp and signature to the frame
// dst[start:], whose incompat flags already have IncompatSigned.
func (s *Signer) appendSignature(dst []byte, start int, _, _ uint8) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := SigningTimestamp(s.clock.Now())
	if ts <= s.last {
		ts = s.last + 1
	}
	s.last = ts
	dst = append(dst, s.link, byte(ts), byte(ts>>8), byte(ts>>16), byte(ts>>24), byte(ts>>32), byte(ts>>40))
	n := copy(s.buf[32:], dst[start:])
	sum := sha256.Sum256(s.buf[:32+n])
	return append(dst, sum[:6]...)
}

// VerifierOptions configures a Verifier.
type VerifierOptions struct {
	Key [32]byte
	// Clock gives local time; nil means the real clock.
	Clock clockwork.Clock
	// Window is how far behind local time a new stream's first timestamp
	// may be; 0 means DefaultSigningWindow.
	Window time.Duration
}

// Verifier checks signed MAVLink 2 frames: the signature over key, header,
// payload, checksum, link id and timestamp; per (system, component, link)
// stream a timestamp strictly newer than the last accepted one (replay
// protection, as pymavlink rejects <=); and for a new stream a timestamp no
// more than Window behind local time. Safe for concurrent use.
type Verifier struct {
	mu      sync.Mutex
	clock   clockwork.Clock
	window  uint64
	streams map[uint32]uint64
	buf     [32 + MaxFrameLen]byte
}

// NewVerifier returns a Verifier.
func NewVerifier(opts VerifierOptions) *Verifier {
	v := &Verifier{clock: opts.Clock, streams: make(map[uint32]uint64)}
	if v.clock == nil {
		v.clock = clockwork.NewRealClock()
	}
	w := opts.Window
	if w <= 0 {
		w = DefaultSigningWindow
	}
	v.window = uint64(w / (10 * time.Microsecond))
	copy(v.buf[:32], opts.Key[:])
	return v
}

// Verify checks the signed frame f and records its timestamp for its
// stream. It returns nil or ErrUnsigned, ErrBadSignature, ErrReplay or
// ErrStaleTimestamp.
func (v *Verifier) Verify(f *Frame) error {
	if !f.Signed() || len(f.Raw) < minFrameLenV2+SignatureLen {
		return ErrUnsigned
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	n := copy(v.buf[32:], f.Raw[:len(f.Raw)-6])
	sum := sha256.Sum256(v.buf[:32+n])
	if subtle.ConstantTimeCompare(sum[:6], f.Raw[len(f.Raw)-6:]) != 1 {
		return ErrBadSignature
	}
	key := uint32(f.SysID)<<16 | uint32(f.CompID)<<8 | uint32(f.LinkID)
	if last, ok := v.streams[key]; ok {
		if f.Timestamp <= last {
			return ErrReplay
		}
	} else if now := SigningTimestamp(v.clock.Now()); f.Timestamp+v.window < now {
		return ErrStaleTimestamp
	}
	v.streams[key] = f.Timestamp
	return nil
}
