package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/google/go-cmp/cmp"
)

func TestSend(t *testing.T) {
	r := newRig(t, nil, nil)
	broker := []string{"-config", "", "-broker", r.url, "-dock", "d1"}

	t.Run("ok", func(t *testing.T) {
		// Flags may follow the command name.
		code, out, _ := dockctl(t, "", append([]string{"send", "dispatch", "lat=53.5511", "lon=9.9937", "priority=alarm", "ref=INC-2026-4411", "dry_run=true"}, broker...)...)
		if code != 0 {
			t.Fatalf("dockctl send dispatch = %d, want 0", code)
		}
		var rep struct {
			ID     string                  `json:"id"`
			OK     bool                    `json:"ok"`
			Result contract.DispatchResult `json:"result"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("reply %q: %v", out, err)
		}
		if !rep.OK || rep.Result.SortieID != "s-20261205-1900" || !strings.HasPrefix(rep.ID, "dockctl-") {
			t.Errorf("reply = %+v, want ok with sortie s-20261205-1900 and a dockctl- id", rep)
		}
		reqs := r.cmdr.requests()
		last := reqs[len(reqs)-1]
		want := dock.DispatchRequest{Lat: 53.5511, Lon: 9.9937, Priority: dock.PriorityAlarm, Ref: "INC-2026-4411", DryRun: true}
		if diff := cmp.Diff(want, last.Arg); diff != "" || last.ID != rep.ID {
			t.Errorf("executed %s %v (-want +got):\n%s", last.ID, last.Name, diff)
		}
	})

	t.Run("error reply", func(t *testing.T) {
		code, out, errb := dockctl(t, "", append([]string{"send"}, append(broker, "dispatch", "lat=85", "lon=9")...)...)
		if code != 1 {
			t.Errorf("dockctl send (gate blocks) = %d, want 1", code)
		}
		if !strings.Contains(out, `"gate": "wind"`) || !strings.Contains(errb, "dispatch refused: precondition_failed: preflight blocked: wind 14.2 mps over limit 12") {
			t.Errorf("stdout %q / stderr %q: want the reply with the wind gate and the refusal", out, errb)
		}
	})

	t.Run("refused before execution", func(t *testing.T) {
		n := len(r.cmdr.requests())
		code, _, errb := dockctl(t, "", append([]string{"send"}, append(broker, "dispatch", "lat=1", "lon=2", "colour=red")...)...)
		if code != 1 || !strings.Contains(errb, "invalid_argument") {
			t.Errorf("dockctl send with an unknown field = %d %q, want 1 and invalid_argument", code, errb)
		}
		if got := len(r.cmdr.requests()); got != n {
			t.Errorf("commander ran %d commands, want none", got-n)
		}
	})

	t.Run("json file", func(t *testing.T) {
		file := writeFile(t, "route.json", `{"name":"oldtown","waypoints":[{"lat":52.523,"lon":13.41,"alt_m":60}]}`)
		code, _, _ := dockctl(t, "", append([]string{"send"}, append(broker, "-json", file, "route.put")...)...)
		if code != 0 {
			t.Fatalf("dockctl send -json = %d, want 0", code)
		}
		reqs := r.cmdr.requests()
		a, ok := reqs[len(reqs)-1].Arg.(contract.RoutePutArgs)
		if !ok || a.Name != "oldtown" || len(a.Waypoints) == 0 {
			t.Errorf("executed args %#v, want route.put oldtown with waypoints", reqs[len(reqs)-1].Arg)
		}
	})

	t.Run("repeated id", func(t *testing.T) {
		n := len(r.cmdr.requests())
		args := append([]string{"send"}, append(broker, "-id", "c-17", "recall", "reason=rain")...)
		_, first, _ := dockctl(t, "", args...)
		code, second, _ := dockctl(t, "", args...)
		if code != 0 || first != second {
			t.Errorf("repeat of c-17 = %d %q, want 0 and the first reply %q", code, second, first)
		}
		if got := len(r.cmdr.requests()) - n; got != 1 {
			t.Errorf("commander ran c-17 %d times, want once", got)
		}
	})

	t.Run("follow", func(t *testing.T) {
		code, out, _ := dockctl(t, "", append([]string{"send"}, append(broker, "-follow", "10s", "arms", "action=release")...)...)
		if code != 0 {
			t.Errorf("dockctl send -follow arms = %d, want 0 after status ok", code)
		}
		for _, w := range []string{"in_progress  50% arms_release", "ok          100% arms_release"} {
			if !strings.Contains(out, w) {
				t.Errorf("follow output lacks %q", w)
			}
		}
		code, out, errb := dockctl(t, "", append([]string{"send"}, append(broker, "-follow", "10s", "patrol", "route=square")...)...)
		if code != 1 || !strings.Contains(out, "timeout") || !strings.Contains(errb, "ended timeout") {
			t.Errorf("dockctl send -follow patrol = %d %q %q, want 1 after status timeout", code, out, errb)
		}
		// A job whose end never comes: bounded by -follow.
		code, _, errb = dockctl(t, "", append([]string{"send"}, append(broker, "-follow", "300ms", "reset")...)...)
		if code != 1 || !strings.Contains(errb, "still running after 300ms") {
			t.Errorf("dockctl send -follow reset = %d %q, want 1 when no final status comes", code, errb)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		code, _, errb := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "nobody", "-timeout", "1s", "reset")
		if code != 1 || !strings.Contains(errb, "no reply to reset") {
			t.Errorf("dockctl send to a dock without agent = %d %q, want 1 and no reply", code, errb)
		}
	})

	t.Run("usage", func(t *testing.T) {
		if code, _, _ := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "d1"); code != 2 {
			t.Errorf("dockctl send without NAME = %d, want 2", code)
		}
		if code, _, _ := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "d1", "reset", "novalue"); code != 2 {
			t.Errorf("dockctl send with a bare word = %d, want 2", code)
		}
		if code, _, errb := dockctl(t, "", "send", "-config", "", "-broker", r.url, "reset"); code != 1 || !strings.Contains(errb, "no dock") {
			t.Errorf("dockctl send without a dock = %d %q, want 1 and no dock", code, errb)
		}
	})
}

// TestSendSigned: with signing on, dockctl signs with the key file; without
// the key the agent refuses the command.
func TestSendSigned(t *testing.T) {
	key := "a-shared-key-that-is-not-hex-0123" // a passphrase: used as it is
	r := newRig(t, []byte(key), nil)
	keyFile := writeFile(t, "command.key", key+"\n")
	code, out, _ := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "d1", "-sign-key", keyFile, "mode", "mode=maintenance")
	if code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Errorf("signed send = %d %q, want 0 and ok", code, out)
	}
	reqs := r.cmdr.requests()
	if len(reqs) != 1 || reqs[0].Name != contract.CmdMode {
		t.Fatalf("executed %v, want one mode command", reqs)
	}
	code, _, errb := dockctl(t, "", "send", "-config", "", "-broker", r.url, "-dock", "d1", "mode", "mode=auto")
	if code != 1 || !strings.Contains(errb, "unauthorized") {
		t.Errorf("unsigned send = %d %q, want 1 and unauthorized", code, errb)
	}
}

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"53.55", 53.55}, {"true", true}, {"INC-7", "INC-7"}, {`"123"`, "123"}, {"", ""},
		{`[1,2]`, []any{1.0, 2.0}}, {"null", nil}, {"old town", "old town"},
	} {
		if got := parseValue(tc.in); !cmp.Equal(got, tc.want) {
			t.Errorf("parseValue(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}
