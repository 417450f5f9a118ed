package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzFormatMessage: any message a broker delivers (another client may
// publish anything on a dock's topics) is rendered without panicking, on
// one line.
func FuzzFormatMessage(f *testing.F) {
	seeds := []struct{ topic, payload string }{
		{"dock/d1/status", `{"online":true,"version":"1.4.0","started_at":"2026-12-05T18:59:58.120Z"}`},
		{"dock/d1/status", `{"online":false}`},
		{"dock/d1/state", `{"lid":"closed","arms":"clamped","charger":true,"estop":false,"power":true,"fault":"","mode":"auto",
 "weather":{"wind_mps":4.2,"gust_mps":6.1,"rain":false,"temp_c":7.5,"stale":false},
 "vehicle":{"link":true,"armed":false,"landed":true,"docked":true,"battery_pct":96},"sortie":{"id":"s-1","kind":"patrol","phase":"airborne"},
 "circles":{"radii_m":[900,2700,4500]},"clock_synced":false,"updated_at":"2026-12-05T19:00:00.250Z"}`},
		{"dock/d1/telemetry", `{"ts":"2026-12-05T19:00:00.500Z","lat":53.5511,"lon":9.9937,"battery":{"pct":null},"gps":{"fix":3}}`},
		{"dock/d1/events", `{"seq":1042,"ts":"2026-12-05T19:00:03.112Z","type":"sortie.phase","sortie_id":"s-1","phase":"airborne"}`},
		{"dock/d1/events", `{"seq":1,"type":"preflight.blocked","gates":[{"gate":"wind","value_mps":14.2,"limit_mps":12}],"message":"preflight blocked: wind"}`},
		{"dock/d1/state", `{"weather":7,"vehicle":[],"circles":{"radii_m":["a"]},"sortie":"x"}`},
		{"", "not json"},
		{"/", `[]`},
		{"dock/d1/events", `{"ts":"yesterday","seq":"x"}`},
		{"dock/d1/events", `{"seq":2,"type":"fault","fault":"x\n19:00:00.000 d1 event #3 fault.cleared\u001b[2J"}`},
		{"dock/d1\n/state", `{"lid":"open\r"}`},
	}
	for _, s := range seeds {
		f.Add(s.topic, []byte(s.payload))
	}
	now := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		out := formatMessage(message{topic: topic, payload: payload}, now)
		if strings.ContainsFunc(out, unicode.IsControl) {
			t.Errorf("formatMessage(%q, %q) spans lines: %q", topic, payload, out)
		}
	})
}

// FuzzReply: replies and progress events from the broker decode without
// panicking, and only an event of our id counts as our progress.
func FuzzReply(f *testing.F) {
	for _, s := range []string{
		`{"id":"c-1","ok":true,"result":{}}`,
		`{"id":null,"ok":false,"error":{"code":"bad_request","message":"x"}}`,
		`{"seq":3,"ts":"2026-12-05T19:00:00Z","type":"command.progress","id":"c-1","status":"ok","step":"lid_open","percent":100}`,
		`{"type":"command.progress","id":7}`,
		`garbage`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if p, ok := progressOf(payload, "c-1"); ok && p.ID != "c-1" {
			t.Errorf("progressOf(%q) took id %q as c-1", payload, p.ID)
		}
		var buf bytes.Buffer
		printSorties(&buf, []map[string]any{{"sortie_id": string(payload), "reasons": []any{string(payload)}}})
		if lines := strings.Count(buf.String(), "\n"); lines != 2 {
			t.Errorf("printSorties with sortie_id %q printed %d lines, want a header and one row", payload, lines)
		}
	})
}
