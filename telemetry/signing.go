package telemetry

import (
	"encoding/json"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
)

// Command signing (optional; on when Options.SigningKey is set), for
// deployments where the broker's ACLs are not enough. The envelope and its
// MAC are the contract's (contract.Sign, contract.OpenCommand). The command
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

// open checks the envelope's MAC and returns the inner command bytes, or an
// unauthorized *contract.Error.
func (s *signer) open(payload []byte) ([]byte, error) {
	cmd, err := contract.OpenCommand(s.key, payload)
	if err != nil {
		return nil, contract.Errorf(contract.CodeUnauthorized, "%s", err)
	}
	return cmd, nil
}

// checkTS refuses a signed command whose ts is missing or outside the window.
func (s *signer) checkTS(ts time.Time) error {
	if ts.IsZero() {
		return contract.Errorf(contract.CodeUnauthorized, "ts: required in signed commands")
	}
	if d := s.clock.Since(ts); d > s.window || d < -s.window {
		return contract.Errorf(contract.CodeUnauthorized, "ts: %s is %s from the agent's clock, outside ±%s", timestamp(ts), d.Round(time.Millisecond), s.window)
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
