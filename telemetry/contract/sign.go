package contract

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Command signing (optional, docs/mqtt-api.md "Command signing"). A signed
// command is the envelope
//
//	{"cmd":{"id":"c-17","ts":"2026-12-05T19:00:00.000Z","lat":53.55,...},
//	 "sig":"<hex HMAC-SHA256 over the exact bytes of the cmd value>"}
//
// The MAC covers the bytes of the "cmd" value exactly as sent (no
// canonicalisation: the sender signs the bytes it then embeds). A signed
// raw MAVLink frame for `mavlink/in` is the envelope
//
//	{"frame":{"ts":"2026-12-05T19:00:00.000Z","mavlink":"<base64 of the raw frame>"},
//	 "sig":"<hex HMAC-SHA256 over the exact bytes of the frame value>"}
//
// The agent checks the MAC here and the ts window and replays itself.

// SignedCommand is the wire form of a signed command.
type SignedCommand struct {
	Cmd json.RawMessage `json:"cmd"`
	Sig string          `json:"sig"`
}

// SignedFrame is the wire form of a signed bridge frame.
type SignedFrame struct {
	Frame json.RawMessage `json:"frame"`
	Sig   string          `json:"sig"`
}

// FrameBody is the signed value of a SignedFrame.
type FrameBody struct {
	TS      string `json:"ts"`
	MAVLink string `json:"mavlink"` // base64 of the raw frame
}

// MAC is the HMAC-SHA256 of msg under key.
func MAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Sign wraps cmd, a command JSON object that carries "id" and "ts", in the
// signing envelope under key. It is what a command centre (or dockctl, or
// the bench) sends when signing is on.
func Sign(key, cmd []byte) ([]byte, error) {
	t := bytes.TrimSpace(cmd)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return nil, errors.New("sign command: not a JSON object")
	}
	return json.Marshal(SignedCommand{Cmd: cmd, Sig: hex.EncodeToString(MAC(key, cmd))})
}

// ErrBadSignature is returned by OpenCommand and OpenFrame when the MAC does
// not match the signed bytes under the key.
var ErrBadSignature = errors.New("bad signature")

// OpenCommand checks a signed command's MAC under key and returns the
// command bytes inside. It says what is wrong: not an envelope, or
// ErrBadSignature.
func OpenCommand(key, payload []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var env SignedCommand
	if err := dec.Decode(&env); err != nil || len(env.Cmd) == 0 || env.Sig == "" {
		return nil, errors.New(`signing is on: want {"cmd":{...},"sig":"<hex hmac-sha256>"}`)
	}
	if err := checkMAC(key, env.Cmd, env.Sig); err != nil {
		return nil, err
	}
	return env.Cmd, nil
}

// SignFrame wraps a raw MAVLink frame in the signed bridge envelope under
// key, stamped ts. It is what a client of the raw bridge (or the bench)
// publishes on `mavlink/in` when signing is on; the agent checks that the
// frame is one MAVLink frame.
func SignFrame(key, frame []byte, ts time.Time) ([]byte, error) {
	if len(frame) == 0 {
		return nil, errors.New("sign bridge frame: empty frame")
	}
	inner, err := json.Marshal(FrameBody{TS: FormatTime(ts), MAVLink: base64.StdEncoding.EncodeToString(frame)})
	if err != nil {
		return nil, fmt.Errorf("sign bridge frame: %w", err)
	}
	return json.Marshal(SignedFrame{Frame: inner, Sig: hex.EncodeToString(MAC(key, inner))})
}

// OpenFrame checks a signed bridge frame's MAC under key and returns its
// signing time, the raw frame and the MAC (the replay memory's key). It
// says what is wrong: not an envelope, ErrBadSignature, a bad ts, a frame
// that is not base64.
func OpenFrame(key, payload []byte) (ts time.Time, frame, sig []byte, err error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var env SignedFrame
	if err := dec.Decode(&env); err != nil || len(env.Frame) == 0 || env.Sig == "" {
		return ts, nil, nil, errors.New(`signing is on: want {"frame":{"ts":...,"mavlink":"<base64>"},"sig":"<hex hmac-sha256>"}`)
	}
	if err := checkMAC(key, env.Frame, env.Sig); err != nil {
		return ts, nil, nil, err
	}
	sig, _ = hex.DecodeString(env.Sig)
	var body FrameBody
	dec = json.NewDecoder(bytes.NewReader(env.Frame))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return ts, nil, nil, fmt.Errorf("frame: %w", err)
	}
	if ts, err = ParseTime(body.TS); err != nil {
		return ts, nil, nil, fmt.Errorf("ts: %w", err)
	}
	if frame, err = base64.StdEncoding.DecodeString(body.MAVLink); err != nil {
		return ts, nil, nil, errors.New("mavlink: not base64")
	}
	return ts, frame, sig, nil
}

func checkMAC(key, msg []byte, sigHex string) error {
	sig, err := hex.DecodeString(sigHex)
	if err != nil || !hmac.Equal(sig, MAC(key, msg)) {
		return ErrBadSignature
	}
	return nil
}
