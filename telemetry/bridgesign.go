package telemetry

import (
	"errors"
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
)

// Signed bridge frames. With command signing on (Options.SigningKey), a
// frame published on `mavlink/in` must come in an envelope signed with the
// same key, the way commands do (contract.SignFrame, contract.OpenFrame).
// "ts" is
// the signing time, within ±SigningWindow of the agent's clock; the MAC of
// every envelope accepted within the last two windows is remembered and a
// repeat refused, so a recorded ARM cannot be replayed. An unsigned,
// malformed, mis-signed, stale or repeated envelope never reaches the
// vehicle; it is counted (Options.BridgeRefused) and not answered.

// maxEnvelopeBytes bounds a signed envelope: base64 of a 280-byte frame is
// 376 bytes, plus the timestamp, the MAC and the JSON.
const maxEnvelopeBytes = 1024

// maxRecentMACs bounds the replay memory; beyond it envelopes are refused
// until old ones age out (at 100 frames a second over a 2-minute double
// window that is 12000).
const maxRecentMACs = 20000

// frameOpener checks signed bridge envelopes. It is used by the bridge's
// one goroutine only.
type frameOpener struct {
	s      *signer
	recent map[[32]byte]time.Time // MACs accepted, by arrival
}

func newFrameOpener(s *signer) *frameOpener {
	return &frameOpener{s: s, recent: map[[32]byte]time.Time{}}
}

// open returns the raw frame inside a valid, fresh, first-seen envelope, or
// an error saying what is wrong with it.
func (o *frameOpener) open(payload []byte) ([]byte, error) {
	if len(payload) > maxEnvelopeBytes {
		return nil, fmt.Errorf("envelope of %d bytes is over %d", len(payload), maxEnvelopeBytes)
	}
	ts, raw, sig, err := contract.OpenFrame(o.s.key, payload)
	if err != nil {
		return nil, err
	}
	if err := o.s.checkTS(ts); err != nil {
		return nil, err
	}
	if !validFrame(raw) {
		return nil, errors.New("mavlink: not the base64 of one MAVLink frame")
	}
	now := o.s.clock.Now()
	for k, at := range o.recent {
		if now.Sub(at) > 2*o.s.window {
			delete(o.recent, k)
		}
	}
	var key [32]byte
	copy(key[:], sig)
	if _, seen := o.recent[key]; seen {
		return nil, errors.New("replayed envelope (its signature was seen within the window)")
	}
	if len(o.recent) >= maxRecentMACs {
		return nil, fmt.Errorf("over %d signed frames within the window: refused until older ones age out", maxRecentMACs)
	}
	o.recent[key] = now
	return raw, nil
}
