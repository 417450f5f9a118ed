package telemetry

import (
	"bytes"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
)

func TestSignOpen(t *testing.T) {
	clock := clockwork.NewFakeClockAt(testStart)
	s := &signer{key: []byte("k"), window: 5 * time.Minute, clock: clock}
	cmd := []byte(`{"id":"a","ts":"2026-12-05T19:00:00.000Z"}`)
	env, err := contract.Sign([]byte("k"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(env)
	if err != nil || !bytes.Equal(got, cmd) {
		t.Fatalf("open(Sign(cmd)) = %s, %v; want %s", got, err, cmd)
	}
	tests := []struct {
		name    string
		payload string
	}{
		{"plain command", string(cmd)},
		{"extra key", `{"cmd":{"id":"a"},"sig":"00","x":1}`},
		{"bad hex", `{"cmd":{"id":"a"},"sig":"zz"}`},
		{"wrong mac", `{"cmd":{"id":"a"},"sig":"0011"}`},
		{"no sig", `{"cmd":{"id":"a"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.open([]byte(tt.payload)); codeOf(err) != contract.CodeUnauthorized {
				t.Errorf("open(%s) = %v, want unauthorized", tt.payload, err)
			}
		})
	}
	for _, d := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		if err := s.checkTS(testStart.Add(d)); codeOf(err) != contract.CodeUnauthorized {
			t.Errorf("checkTS(now%+v) = %v, want unauthorized", d, err)
		}
	}
	if err := s.checkTS(testStart.Add(4 * time.Minute)); err != nil {
		t.Errorf("checkTS(now+4m) = %v, want nil", err)
	}
	if _, err := contract.Sign([]byte("k"), []byte(`[1]`)); err == nil {
		t.Error("Sign(array) = nil error, want refusal")
	}
}

func FuzzSignedOpen(f *testing.F) {
	key := []byte("fuzz-key")
	good, _ := contract.Sign(key, []byte(`{"id":"a","ts":"2026-12-05T19:00:00Z"}`))
	f.Add(good)
	f.Add([]byte(`{"cmd":{"id":"a"},"sig":"00"}`))
	f.Add([]byte(`{"id":"a"}`))
	s := &signer{key: key, window: time.Minute, clock: clockwork.NewFakeClockAt(testStart)}
	f.Fuzz(func(t *testing.T, payload []byte) {
		inner, err := s.open(payload)
		if err != nil {
			if codeOf(err) != contract.CodeUnauthorized {
				t.Fatalf("open() = %v, want unauthorized", err)
			}
			return
		}
		// Accepted: the MAC must match the inner bytes, so re-signing them
		// gives an envelope that opens to the same bytes.
		env, err := contract.Sign(key, inner)
		if err != nil {
			return // a MAC over a non-object was forged only if the fuzzer found the key
		}
		again, err := s.open(env)
		if err != nil || !bytes.Equal(again, inner) {
			t.Fatalf("re-signed envelope opens to %s, %v; want %s", again, err, inner)
		}
	})
}
