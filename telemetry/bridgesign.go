package telemetry

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Signed bridge frames. With command signing on (Options.SigningKey), a
// frame published on `mavlink/in` must come in an envelope signed with the
// same key, the way commands do (signing.go):
//
//	{"frame":{"ts":"2026-12-05T19:00:00.000Z","mavlink":"<base64 of the raw frame>"},
//	 "sig":"<hex HMAC-SHA256 over the exact bytes of the frame value>"}
//
// The MAC covers the bytes of the "frame" value exactly as sent. "ts" is
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

// frameEnvelope is the wire form of a signed bridge frame.
type frameEnvelope struct {
	Frame json.RawMessage `json:"frame"`
	Sig   string          `json:"sig"`
}

type signedFrame struct {
	TS      string `json:"ts"`
	MAVLink string `json:"mavlink"`
}

// SignFrame wraps a raw MAVLink frame in the signed bridge envelope with an
// HMAC-SHA256 under key, stamped ts. It is what a client of the raw bridge
// (or the bench) publishes on `mavlink/in` when signing is on.
func SignFrame(key, frame []byte, ts time.Time) ([]byte, error) {
	if !validFrame(frame) {
		return nil, errors.New("sign bridge frame: not a MAVLink frame")
	}
	inner, err := json.Marshal(signedFrame{TS: timestamp(ts), MAVLink: base64.StdEncoding.EncodeToString(frame)})
	if err != nil {
		return nil, fmt.Errorf("sign bridge frame: %w", err)
	}
	return json.Marshal(frameEnvelope{Frame: inner, Sig: hex.EncodeToString(mac(key, inner))})
}

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
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var env frameEnvelope
	if err := dec.Decode(&env); err != nil || len(env.Frame) == 0 || env.Sig == "" {
		return nil, errors.New(`signing is on: want {"frame":{"ts":...,"mavlink":"<base64>"},"sig":"<hex hmac-sha256>"}`)
	}
	sig, err := hex.DecodeString(env.Sig)
	if err != nil || !hmac.Equal(sig, mac(o.s.key, env.Frame)) {
		return nil, errors.New("bad signature")
	}
	var in signedFrame
	dec = json.NewDecoder(bytes.NewReader(env.Frame))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	ts, err := time.Parse(time.RFC3339Nano, in.TS)
	if err != nil {
		return nil, fmt.Errorf("ts: %q is not an RFC 3339 time", in.TS)
	}
	if err := o.s.checkTS(ts); err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(in.MAVLink)
	if err != nil || !validFrame(raw) {
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
