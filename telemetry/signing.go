package telemetry

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/jonboulle/clockwork"
)

// Command signing (optional; on when Options.SigningKey is set), for
// deployments where the broker's ACLs are not enough. The envelope is
//
//	{"cmd":{"id":"c-17","ts":"2026-12-05T19:00:00.000Z","lat":53.55,...},
//	 "sig":"<hex HMAC-SHA256 over the exact bytes of the cmd value>"}
//
// The MAC covers the bytes of the "cmd" value exactly as sent (no
// canonicalisation: the sender signs the bytes it then embeds). The command
// must carry "ts", its signing time, within ±SigningWindow of the agent's
// clock. Replay protection: a replayed envelope either falls outside the
// window or carries an id the dedupe store remembers (its window is at least
// twice the signing window), which is answered with the first reply and never
// executed again. Anything unsigned, malformed or with a wrong MAC gets
// `unauthorized`, and its id is not remembered (so an attacker cannot poison
// ids).
type signer struct {
	key    []byte
	window time.Duration
	clock  clockwork.Clock
}

// signedEnvelope is the wire form of a signed command.
type signedEnvelope struct {
	Cmd json.RawMessage `json:"cmd"`
	Sig string          `json:"sig"`
}

// Sign wraps cmd, a command JSON object that carries "id" and "ts", in the
// signing envelope with an HMAC-SHA256 under key. It is what a command
// centre (or the bench) sends when signing is on.
func Sign(key, cmd []byte) ([]byte, error) {
	if !json.Valid(cmd) || len(bytes.TrimSpace(cmd)) == 0 || bytes.TrimSpace(cmd)[0] != '{' {
		return nil, fmt.Errorf("sign command: not a JSON object")
	}
	return json.Marshal(signedEnvelope{Cmd: cmd, Sig: hex.EncodeToString(mac(key, cmd))})
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// open checks the envelope's MAC and returns the inner command bytes, or an
// unauthorized *dock.Error.
func (s *signer) open(payload []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var env signedEnvelope
	if err := dec.Decode(&env); err != nil || len(env.Cmd) == 0 || env.Sig == "" {
		return nil, dock.Errorf(dock.CodeUnauthorized, "signing is on: want {\"cmd\":{...},\"sig\":\"<hex hmac-sha256>\"}")
	}
	sig, err := hex.DecodeString(env.Sig)
	if err != nil || !hmac.Equal(sig, mac(s.key, env.Cmd)) {
		return nil, dock.Errorf(dock.CodeUnauthorized, "bad signature")
	}
	return env.Cmd, nil
}

// checkTS refuses a signed command whose ts is missing or outside the window.
func (s *signer) checkTS(ts time.Time) error {
	if ts.IsZero() {
		return dock.Errorf(dock.CodeUnauthorized, "ts: required in signed commands")
	}
	if d := s.clock.Since(ts); d > s.window || d < -s.window {
		return dock.Errorf(dock.CodeUnauthorized, "ts: %s is %s from the agent's clock, outside ±%s", timestamp(ts), d.Round(time.Millisecond), s.window)
	}
	return nil
}

// claimedID is the id an unverified payload claims: the id of a plain
// command or of the cmd inside an envelope; "" when none.
func claimedID(payload []byte) string {
	if id := peekID(payload); id != "" {
		return id
	}
	var env struct {
		Cmd json.RawMessage `json:"cmd"`
	}
	if json.Unmarshal(payload, &env) != nil {
		return ""
	}
	return peekID(env.Cmd)
}
