// Package campaign holds the end-to-end fault and bad-input campaigns: the
// real agent as its own process on the bench, reached only over MQTT and
// its serial lines.
package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent()
	os.Exit(m.Run())
}

// settled is the part of the state a refused command must not change.
func settled(st map[string]any) string {
	return fmt.Sprintf("lid=%v arms=%v mode=%v fault=%v estop_latched=%v charger=%v sortie=%v",
		st["lid"], st["arms"], st["mode"], st["fault"], st["estop_latched"], st["charger"], st["sortie"])
}

// TestBadCommandsRefused sends every kind of bad command to the running
// agent: each is answered with the named error, nothing changes, the agent
// keeps running and answers a good command afterwards.
func TestBadCommandsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	w, obs := benchWorld(ctx, t, world.Options{BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: t.TempDir()})
	if err := obs.Wait(ctx, func() bool { return obs.State() != nil }); err != nil {
		t.Fatal(err)
	}
	before := settled(obs.State())
	pid := w.Agent.PID()

	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	big := `{"id":"big","route":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name, cmd, payload, code, msg string
	}{
		{"malformed json", "dispatch", `{"id":"m1","lat":`, "bad_request", "not a JSON object"},
		{"not an object", "patrol", `[1,2,3]`, "bad_request", "not a JSON object"},
		{"oversized", "patrol", big, "bad_request", "65536"},
		{"missing id", "mode", `{"mode":"maintenance"}`, "bad_request", "id"},
		{"id wrong type", "mode", `{"id":7,"mode":"maintenance"}`, "bad_request", "id"},
		{"unknown command", "launch_missiles", `{"id":"u1"}`, "unknown_command", "launch_missiles"},
		{"unknown field", "reset", `{"id":"f1","force":true}`, "invalid_argument", "force"},
		{"wrong type", "dispatch", `{"id":"t1","lat":"north","lon":102.5}`, "invalid_argument", "lat"},
		{"missing required", "dispatch", `{"id":"r1","lon":102.5}`, "invalid_argument", "lat"},
		{"lat out of range", "dispatch", `{"id":"o1","lat":91,"lon":102.5}`, "out_of_range", "lat"},
		{"alt out of range", "dispatch", `{"id":"o2","lat":24.35,"lon":102.54,"alt_m":9000}`, "out_of_range", "alt_m"},
		{"bad enum", "mode", `{"id":"e1","mode":"turbo"}`, "invalid_argument", "turbo"},
		{"bad action", "lid", `{"id":"a1","action":"wiggle"}`, "invalid_argument", "wiggle"},
		{"expired", "mode", `{"id":"x1","mode":"maintenance","expires":"` + past + `"}`, "expired", ""},
		{"bad expires", "mode", `{"id":"x2","mode":"maintenance","expires":"tomorrow"}`, "invalid_argument", "expires"},
		{"bad route name", "route.delete", `{"id":"n1","name":"../../etc/passwd"}`, "invalid_argument", "name"},
		{"nul bytes", "patrol", "{\"id\":\"z1\",\"route\":\"a\x00b\"}", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := obs.SendRawAny(ctx, tc.cmd, []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.Error == nil {
				t.Fatalf("reply ok to a bad %s: %s", tc.cmd, rep.Result)
			}
			if tc.code != "" && rep.Error.Code != tc.code {
				t.Errorf("code %q (%s), want %q", rep.Error.Code, rep.Error.Message, tc.code)
			}
			if !strings.Contains(rep.Error.Message, tc.msg) {
				t.Errorf("message %q does not name %q", rep.Error.Message, tc.msg)
			}
			if rep.Error.Message == "" {
				t.Errorf("empty error message")
			}
		})
	}

	// Replayed id: answered again from the dedupe store, executed once.
	first, err := obs.SendRawAny(ctx, "mode", []byte(`{"id":"replay-1","mode":"maintenance"}`))
	if err != nil || !first.OK {
		t.Fatalf("mode maintenance: %+v %v", first, err)
	}
	if err := obs.Wait(ctx, func() bool { return obs.State()["mode"] == "maintenance" }); err != nil {
		t.Fatal(err)
	}
	if r, _ := obs.Send(ctx, "mode", map[string]any{"mode": "auto"}); !r.OK {
		t.Fatalf("mode auto: %+v", r)
	}
	if err := obs.Wait(ctx, func() bool { return obs.State()["mode"] == "auto" }); err != nil {
		t.Fatal(err)
	}
	again, err := obs.SendRawAny(ctx, "mode", []byte(`{"id":"replay-1","mode":"maintenance"}`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("replayed id answered %s, first answer %s", b, a)
	}
	// Give a wrongly re-executed command time to show in the state.
	if r, err := obs.Send(ctx, "status", nil); err != nil || !r.OK {
		t.Fatalf("status after the campaign: %+v %v", r, err)
	}
	if got := obs.State()["mode"]; got != "auto" {
		t.Errorf("mode %v after a replayed id: the command ran twice", got)
	}

	if after := settled(obs.State()); after != before {
		t.Errorf("state changed by refused commands:\n before %s\n after  %s", before, after)
	}
	if w.Agent.PID() != pid {
		t.Errorf("agent pid %d -> %d: it crashed", pid, w.Agent.PID())
	}
	rejected := 0
	for _, ev := range obs.Events() {
		if ev.Type == "command.rejected" {
			rejected++
		}
	}
	if rejected < len(cases)-1 {
		t.Errorf("%d command.rejected events for %d bad commands", rejected, len(cases))
	}
	if v := w.Witness().Violations(); len(v) > 0 {
		t.Errorf("invariants violated: %v", v)
	}
}
