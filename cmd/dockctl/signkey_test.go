package main

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/telemetry/contract"
)

// TestSendSignedKeyForms: dockctl reads -sign-key with the agent's decoder
// (config.DecodeKey), so a binary key whose first byte is 0x0c signs with
// all its bytes (issue 21: a trimming reader dropped it and the agent
// refused), and a hex file signs with the decoded bytes.
func TestSendSignedKeyForms(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(0x90 + i)
	}
	key[0], key[31] = 0x0c, '\n'
	r := newRig(t, key, nil)
	for i, tc := range []struct{ name, content string }{
		{"binary, first byte 0x0c", string(key)},
		{"hex", hex.EncodeToString(key) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyFile := writeFile(t, "command.key", tc.content)
			code, out, errb := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "d1", "-sign-key", keyFile, "mode", "mode=maintenance")
			if code != 0 || !strings.Contains(out, `"ok": true`) {
				t.Fatalf("signed send with a %s key file = %d %q %q, want 0 and ok", tc.name, code, out, errb)
			}
			if reqs := r.cmdr.requests(); len(reqs) != i+1 || reqs[i].Name != contract.CmdMode {
				t.Fatalf("executed %v, want %d mode commands", reqs, i+1)
			}
		})
	}

	short := writeFile(t, "short.key", "0011223344\n")
	code, _, errb := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "d1", "-sign-key", short, "mode", "mode=auto")
	if code != 1 || !strings.Contains(errb, "read as hex, holds 5 bytes; an HMAC key needs at least 16") {
		t.Errorf("send with a 5-byte key = %d %q, want 1 and the key's form and length", code, errb)
	}
}
