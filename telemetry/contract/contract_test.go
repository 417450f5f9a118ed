package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestFormatTime(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 5, 20, 0, 0, 0, berlin), "2026-12-05T19:00:00.000Z"},
		{time.Date(2026, 12, 5, 19, 0, 0, 123456789, time.UTC), "2026-12-05T19:00:00.123Z"},
		{time.Date(2026, 12, 5, 19, 0, 0, 100_000_000, time.UTC), "2026-12-05T19:00:00.100Z"},
	}
	for _, tt := range tests {
		if got := FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %s, want %s", tt.in, got, tt.want)
		}
		b, err := json.Marshal(Time{tt.in})
		if err != nil || string(b) != `"`+tt.want+`"` {
			t.Errorf("Marshal(Time{%v}) = %s, %v; want %q", tt.in, b, err, tt.want)
		}
	}
	if b, _ := json.Marshal(Time{}); string(b) != "null" {
		t.Errorf("Marshal(zero Time) = %s, want null", b)
	}
}

func TestTimeUnmarshal(t *testing.T) {
	var v Time
	if err := json.Unmarshal([]byte(`"2026-12-05T20:00:00.5+01:00"`), &v); err != nil || !v.Equal(time.Date(2026, 12, 5, 19, 0, 0, 5e8, time.UTC)) {
		t.Errorf("Unmarshal = %v, %v", v, err)
	}
	for _, bad := range []string{`"tomorrow"`, `5`, `"2026-12-05"`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, want refusal", bad)
		}
	}
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || !v.IsZero() {
		t.Errorf("Unmarshal(null) = %v, %v; want zero", v, err)
	}
}

func FuzzTimeUnmarshal(f *testing.F) {
	f.Add([]byte(`"2026-12-05T19:00:00.000Z"`))
	f.Add([]byte(`"2026-12-05T19:00:00+14:00"`))
	f.Add([]byte(`null`))
	f.Add([]byte(`"x`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Time
		if v.UnmarshalJSON(b) != nil || v.IsZero() {
			return
		}
		// What reads back writes in the one layout and reads again to the
		// same instant, cut to the millisecond.
		out, err := v.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var again Time
		if err := again.UnmarshalJSON(out); err != nil || !again.Equal(v.Truncate(time.Millisecond)) {
			t.Fatalf("%s -> %s -> %v, %v; want %v", b, out, again, err, v.Truncate(time.Millisecond))
		}
	})
}

func TestSignOpenCommand(t *testing.T) {
	key := []byte("k")
	cmd := []byte(`{"id":"a","ts":"2026-12-05T19:00:00.000Z"}`)
	env, err := Sign(key, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenCommand(key, env); err != nil || !bytes.Equal(got, cmd) {
		t.Fatalf("OpenCommand(Sign(cmd)) = %s, %v; want %s", got, err, cmd)
	}
	if _, err := OpenCommand([]byte("other"), env); !errors.Is(err, ErrBadSignature) {
		t.Errorf("OpenCommand with another key = %v, want ErrBadSignature", err)
	}
	if _, err := OpenCommand(key, cmd); err == nil || errors.Is(err, ErrBadSignature) {
		t.Errorf("OpenCommand(plain command) = %v, want 'not an envelope'", err)
	}
	if _, err := Sign(key, []byte(`[1]`)); err == nil {
		t.Error("Sign(array) = nil error, want refusal")
	}
}

func TestSignOpenFrame(t *testing.T) {
	key := []byte("k")
	frame := []byte{0xFD, 9, 0, 0, 0, 1, 1, 0, 0, 0}
	at := time.Date(2026, 12, 5, 19, 0, 0, 250e6, time.UTC)
	env, err := SignFrame(key, frame, at)
	if err != nil {
		t.Fatal(err)
	}
	ts, got, sig, err := OpenFrame(key, env)
	if err != nil || !bytes.Equal(got, frame) || !ts.Equal(at) || len(sig) != 32 {
		t.Fatalf("OpenFrame(SignFrame()) = %v, %x, %d-byte sig, %v", ts, got, len(sig), err)
	}
	if _, _, _, err := OpenFrame([]byte("other"), env); !errors.Is(err, ErrBadSignature) {
		t.Errorf("OpenFrame with another key = %v, want ErrBadSignature", err)
	}
	if _, err := SignFrame(key, nil, at); err == nil {
		t.Error("SignFrame(empty) = nil error, want refusal")
	}
}

// FuzzOpen: whatever arrives, an envelope opens only to the bytes its MAC
// covers, and nothing panics.
func FuzzOpen(f *testing.F) {
	key := []byte("fuzz-key")
	good, _ := Sign(key, []byte(`{"id":"a"}`))
	frame, _ := SignFrame(key, []byte{0xFE, 1, 2, 3, 4, 5, 6, 7}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f.Add(good)
	f.Add(frame)
	f.Add([]byte(`{"cmd":{"id":"a"},"sig":"00"}`))
	f.Add([]byte(`{"frame":{"ts":"x","mavlink":"!"},"sig":"00"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if cmd, err := OpenCommand(key, payload); err == nil {
			if cmd == nil {
				t.Fatalf("opened %s to nothing", payload)
			}
			var env SignedCommand
			if json.Unmarshal(payload, &env) != nil || !bytes.Equal(env.Cmd, cmd) {
				t.Fatalf("OpenCommand(%s) = %s, not its cmd value", payload, cmd)
			}
		}
		if _, raw, sig, err := OpenFrame(key, payload); err == nil && (raw == nil || len(sig) != 32) {
			t.Fatalf("OpenFrame(%s) accepted with frame %x sig %x", payload, raw, sig)
		}
	})
}

func TestCommandsAndCodesListed(t *testing.T) {
	seen := map[Command]bool{}
	for _, c := range Commands() {
		if seen[c] || c == "" {
			t.Errorf("command %q listed twice or empty", c)
		}
		seen[c] = true
	}
	if len(seen) != 19 {
		t.Errorf("%d commands, want the 19 of contract 1.1", len(seen))
	}
	if got := ReplyTopic("dock/d1/", CmdDispatch); got != "dock/d1/cmd/dispatch/reply" {
		t.Errorf("ReplyTopic = %s", got)
	}
	if len(Codes()) != 10 {
		t.Errorf("%d codes, want 10", len(Codes()))
	}
}

// TestMarshalMilliseconds: every time under a time key, at any depth, is
// written with exactly milliseconds; strings under other keys stay as
// they are, even when they look like times.
func TestMarshalMilliseconds(t *testing.T) {
	at := time.Date(2026, 12, 5, 19, 0, 0, 123456789, time.UTC)
	v := map[string]any{
		"updated_at": at,
		"phases":     []map[string]any{{"at": at.Add(time.Second)}, {"at": at.Truncate(time.Second)}},
		"until":      at,
		"ref":        "2026-12-05T19:00:00.123456789Z",
		"note":       `say "at": here`,
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"note":"say \"at\": here","phases":[{"at":"2026-12-05T19:00:01.123Z"},{"at":"2026-12-05T19:00:00.000Z"}],` +
		`"ref":"2026-12-05T19:00:00.123456789Z","until":"2026-12-05T19:00:00.123Z","updated_at":"2026-12-05T19:00:00.123Z"}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
}
