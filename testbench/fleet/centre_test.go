package fleet

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSplitTopic(t *testing.T) {
	for _, tc := range []struct {
		topic, dock, kind string
		ok                bool
	}{
		{"dock/fleet-01/state", "fleet-01", "state", true},
		{"dock/fleet-01/events", "fleet-01", "events", true},
		{"dock/fleet-01/cmd/quote/reply", "fleet-01", "reply", true},
		{"dock/fleet-01/cmd/quote", "", "", false},
		{"dock/fleet-01/circles", "", "", false},
		{"other/fleet-01/state", "", "", false},
		{"dock/fleet-01/cmd/quote/reply/x", "", "", false},
	} {
		d, k, ok := splitTopic(tc.topic)
		if d != tc.dock || k != tc.kind || ok != tc.ok {
			t.Errorf("splitTopic(%q) = %q, %q, %v; want %q, %q, %v", tc.topic, d, k, ok, tc.dock, tc.kind, tc.ok)
		}
	}
}

func TestDecodeReadiness(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ready    bool
		gates    int
		err      string
	}{
		{"ready", `{"lid":"closed","readiness":{"ready":true,"gates":[]}}`, true, 0, ""},
		{"blocked", `{"readiness":{"ready":false,"gates":[{"gate":"wind","value_mps":13.1,"limit_mps":12},{"gate":"busy","note":"sortie"}]}}`, false, 2, ""},
		{"no readiness", `{"lid":"closed"}`, false, 0, "no readiness"},
		{"ready with gates", `{"readiness":{"ready":true,"gates":[{"gate":"wind"}]}}`, false, 0, "ready with 1 gates"},
		{"not json", `{"readiness":`, false, 0, "unexpected end"},
		{"wrong type", `{"readiness":{"ready":"yes"}}`, false, 0, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeReadiness([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("DecodeReadiness(%s) = %v, want an error with %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || r.Ready != tc.ready || len(r.Gates) != tc.gates {
				t.Fatalf("DecodeReadiness(%s) = %+v, %v; want ready %v with %d gates", tc.in, r, err, tc.ready, tc.gates)
			}
		})
	}
}

func TestDecodeEventAndReply(t *testing.T) {
	ev, err := DecodeEvent([]byte(`{"seq":1042,"ts":"2026-12-05T19:00:03.112Z","type":"sortie.phase","sortie_id":"d-1","phase":"on_station"}`))
	if err != nil || ev != (Event{Seq: 1042, Type: "sortie.phase", SortieID: "d-1", Phase: "on_station"}) {
		t.Fatalf("DecodeEvent() = %+v, %v", ev, err)
	}
	if _, err := DecodeEvent([]byte(`{"seq":1}`)); err == nil || !strings.Contains(err.Error(), "no type") {
		t.Fatalf("DecodeEvent(no type) = %v, want an error naming the missing type", err)
	}
	r, err := DecodeReply([]byte(`{"id":"cc-1","ok":false,"error":{"code":"out_of_range","message":"quote: 9000 m from the dock is outside the 5-minute circle"}}`))
	if err != nil || r.ID != "cc-1" || r.OK || r.Error.Code != "out_of_range" {
		t.Fatalf("DecodeReply(refusal) = %+v, %v", r, err)
	}
	if got := r.Error.Error(); got != "out_of_range: quote: 9000 m from the dock is outside the 5-minute circle" {
		t.Fatalf("ReplyError.Error() = %q", got)
	}
	if _, err := DecodeReply([]byte(`{"id":"cc-2","ok":false}`)); err == nil {
		t.Fatal("DecodeReply(not ok, no error) = nil, want an error")
	}
}

// FuzzDecoders feeds the centre's decoders of the docks' messages (outside
// input to the centre): they never panic, and what they accept is
// consistent.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{
		`{"readiness":{"ready":true,"gates":[]}}`,
		`{"readiness":{"ready":false,"gates":[{"gate":"busy","note":"x"}]}}`,
		`{"seq":1,"type":"sortie.phase","sortie_id":"d-1","phase":"on_station"}`,
		`{"id":"cc-1","ok":true,"result":{"eta_s":94}}`,
		`{"id":null,"ok":false,"error":{"code":"bad_request","message":"x"}}`,
		`[]`, `null`, ``, `{"readiness":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if r, err := DecodeReadiness(in); err == nil && r.Ready && len(r.Gates) > 0 {
			t.Errorf("DecodeReadiness(%q) accepted ready with gates", in)
		}
		if ev, err := DecodeEvent(in); err == nil && ev.Type == "" {
			t.Errorf("DecodeEvent(%q) accepted an event without a type", in)
		}
		if r, err := DecodeReply(in); err == nil {
			if !r.OK && r.Error == nil {
				t.Errorf("DecodeReply(%q) accepted a refusal without an error", in)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("DecodeReply(%q) gave a reply that does not encode: %v", in, err)
			}
		}
	})
}
