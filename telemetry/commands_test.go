package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/google/go-cmp/cmp"
)

// reply is a decoded `cmd/<name>/reply`.
type reply struct {
	ID     *string         `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    contract.Code   `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

// cc is a command centre: it sends commands and waits for replies by id.
type cc struct {
	t *testing.T
	w *watcher
}

func (c cc) call(name, payload string) reply {
	c.t.Helper()
	var id string
	var env struct {
		ID  string          `json:"id"`
		Cmd json.RawMessage `json:"cmd"`
	}
	if json.Unmarshal([]byte(payload), &env) == nil {
		id = env.ID
		if env.Cmd != nil {
			id = peekID(env.Cmd)
		}
	}
	topic := "dock/d1/cmd/" + name + "/reply"
	before := len(c.w.messages(topic))
	c.w.send("dock/d1/cmd/"+name, []byte(payload))
	var got reply
	waitFor(c.t, "reply to "+name+" "+id, 15*time.Second, func() bool {
		for _, m := range c.w.messages(topic)[before:] {
			var r reply
			if err := json.Unmarshal([]byte(m.payload), &r); err != nil {
				c.t.Fatalf("reply %s does not decode: %v", m.payload, err)
			}
			if (r.ID == nil && id == "") || (r.ID != nil && *r.ID == id) || (id == "" && r.ID != nil) {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// newCC connects a command centre and waits until the agent announced
// itself, which it does after subscribing to its commands.
func newCC(t *testing.T, url string) cc {
	t.Helper()
	w := newWatcher(t, url, "dock/d1/#", nil)
	w.waitMsg("dock/d1/status", isOnline(true))
	return cc{t, w}
}

// TestCommandsHappyPath sends every command once; each reaches the
// dock decoded and its result comes back.
func TestCommandsHappyPath(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b testBroker) {
		cmdr := &fakeDock{}
		startService(t, b.url(), t.TempDir(), cmdr, nil, nil)
		c := newCC(t, b.url())
		cmds := []struct{ name, payload string }{
			{"dispatch", `{"id":"1","lat":53.55,"lon":9.99,"priority":"alarm","ref":"INC-7"}`},
			{"patrol", `{"id":"2","route":"old-town"}`},
			{"recall", `{"id":"3","reason":"rain"}`},
			{"abort", `{"id":"4"}`},
			{"battery", `{"id":"5","mode":"ready"}`},
			{"route.put", `{"id":"6","name":"market","waypoints":[{"lat":53.5,"lon":9.9,"alt_m":40}]}`},
			{"route.delete", `{"id":"7","name":"market"}`},
			{"route.list", `{"id":"8"}`},
			{"schedule.put", `{"id":"9","entries":[]}`},
			{"schedule.list", `{"id":"10"}`},
			{"lid", `{"id":"11","action":"open"}`},
			{"arms", `{"id":"12","action":"release"}`},
			{"charger", `{"id":"13","action":"on"}`},
			{"mode", `{"id":"14","mode":"maintenance"}`},
			{"reset", `{"id":"15"}`},
			{"status", `{"id":"16"}`},
		}
		// Results: the contract's types for dispatch and patrol, the
		// engine's views as they are, {} for the rest.
		results := map[string]string{
			"dispatch": `{"sortie_id":"d-1","eta_s":42,"distance_m":800,"circle_min":1}`,
			"patrol":   `{"sortie_id":"p-1","eta_s":20}`,
		}
		for _, v := range []string{"route.put", "route.list", "schedule.put", "schedule.list", "status"} {
			results[v] = fmt.Sprintf(`{"command":%q}`, v)
		}
		for _, cmd := range cmds {
			r := c.call(cmd.name, cmd.payload)
			want, ok := results[cmd.name]
			if !ok {
				want = `{}`
			}
			if !r.OK || string(r.Result) != want {
				t.Errorf("%s reply = ok %v result %s error %+v, want ok with %s", cmd.name, r.OK, r.Result, r.Error, want)
			}
		}
		reqs := cmdr.requests()
		if len(reqs) != len(cmds) {
			t.Fatalf("dock got %d requests, want %d", len(reqs), len(cmds))
		}
		want := request{contract.CmdDispatch, "1", dock.DispatchRequest{Lat: 53.55, Lon: 9.99, Priority: dock.PriorityAlarm, Ref: "INC-7"}}
		if diff := cmp.Diff(want, reqs[0]); diff != "" {
			t.Errorf("dispatch call (-want +got):\n%s", diff)
		}
	})
}

// TestCommandErrors: each error code, with nothing executed for the
// refusals, and a command.rejected event for each.
func TestCommandErrors(t *testing.T) {
	b := startMochi(t, nil)
	cmdr := &fakeDock{do: func(_ context.Context, req request) (any, error) {
		switch req.Name {
		case contract.CmdPatrol:
			return nil, dock.Errorf(dock.ErrInvalidArgument, "route %q: unknown route", req.Arg.(contract.PatrolArgs).Route)
		case contract.CmdDispatch:
			return nil, &dock.GateError{Gates: []dock.Gate{{Name: "wind", Unit: "mps", Value: 14.2, Limit: 12}}}
		case contract.CmdLid:
			return nil, dock.ErrNotMaintenance
		case contract.CmdReset:
			return nil, fmt.Errorf("boom")
		}
		return nil, nil
	}}
	s := startService(t, b.url(), t.TempDir(), cmdr, nil, nil)
	c := newCC(t, b.url())
	w := c.w
	now := time.Now().UTC()
	old := now.Add(-25 * time.Hour).Format(time.RFC3339Nano)    // beyond the default 24 h dedupe window
	ahead := now.Add(time.Hour).Format(time.RFC3339Nano)        // beyond the 5 min clock skew
	tooLate := now.Add(25 * time.Hour).Format(time.RFC3339Nano) // beyond the dedupe window
	tests := []struct {
		name, cmd, payload string
		code               contract.Code
		msg                string
		executed           bool
	}{
		{"ts older than the dedupe window", "status", `{"id":"a1","ts":"` + old + `"}`, contract.CodeStale, "older than the dedupe window", false},
		{"ts ahead", "status", `{"id":"a2","ts":"` + ahead + `"}`, contract.CodeInvalidArgument, "ahead of the agent's clock", false},
		{"expires beyond the dedupe window", "status", `{"id":"a3","expires":"` + tooLate + `"}`, contract.CodeOutOfRange, "more than the dedupe window", false},
		{"malformed", "status", `{"id":`, contract.CodeBadRequest, "not a JSON object", false},
		{"missing id", "status", `{}`, contract.CodeBadRequest, "id: missing", false},
		{"unknown command", "fly", `{"id":"e1"}`, contract.CodeUnknownCommand, `unknown command "fly"`, false},
		{"unknown field", "dispatch", `{"id":"e2","lat":1,"lon":2,"spd":1}`, contract.CodeInvalidArgument, "spd: unknown field", false},
		{"wrong type", "dispatch", `{"id":"e3","lat":"x","lon":2}`, contract.CodeInvalidArgument, "lat: want number, got string", false},
		{"out of range", "dispatch", `{"id":"e4","lat":91,"lon":2}`, contract.CodeOutOfRange, "lat: 91 outside", false},
		{"expired", "status", `{"id":"e5","expires":"2020-01-01T00:00:00Z"}`, contract.CodeExpired, "expired at 2020-01-01T00:00:00.000Z", false},
		{"unknown route (dock)", "patrol", `{"id":"e6","route":"nowhere"}`, contract.CodeInvalidArgument, `route "nowhere": unknown route`, true},
		{"gates (dock)", "dispatch", `{"id":"e7","lat":1,"lon":2}`, contract.CodePreconditionFailed, "preflight blocked: wind", true},
		{"maintenance only (dock)", "lid", `{"id":"e8","action":"open"}`, contract.CodePreconditionFailed, "maintenance mode only", true},
		{"internal (dock)", "reset", `{"id":"e9"}`, contract.CodeInternal, "boom", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(cmdr.requests())
			r := c.call(tt.cmd, tt.payload)
			if r.OK || r.Error == nil || r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.msg) {
				t.Fatalf("%s %s reply = %+v %+v, want code %s with %q", tt.cmd, tt.payload, r, r.Error, tt.code, tt.msg)
			}
			if got := len(cmdr.requests()) - n; got != map[bool]int{true: 1, false: 0}[tt.executed] {
				t.Errorf("dock called %d times, want executed=%v", got, tt.executed)
			}
		})
	}
	gate := c.call("dispatch", `{"id":"e7","lat":1,"lon":2}`) // repeated: stored reply
	if string(gate.Error.Details) != `[{"gate":"wind","limit_mps":12,"value_mps":14.2}]` {
		t.Errorf("gate details = %s", gate.Error.Details)
	}
	waitFor(t, "command.rejected events", 15*time.Second, func() bool {
		n := 0
		for _, m := range w.messages("dock/d1/events") {
			if strings.Contains(m.payload, `"type":"command.rejected"`) {
				n++
			}
		}
		return n == 10
	})
	if h := s.Health(); h.CommandsRejected != 10 || h.CommandsAccepted != 4 {
		t.Errorf("Health() rejected %d accepted %d, want 10 4", h.CommandsRejected, h.CommandsAccepted)
	}
}

// TestRepeatedID: a re-delivered id is answered with the first reply and
// executed once, also while it is still executing and after a restart.
func TestRepeatedID(t *testing.T) {
	b := startMochi(t, nil)
	dir := t.TempDir()
	release := make(chan struct{})
	var once sync.Once
	cmdr := &fakeDock{do: func(ctx context.Context, req request) (any, error) {
		if req.ID == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return map[string]any{"sortie_id": "s-" + req.ID}, nil
	}}
	s := startService(t, b.url(), dir, cmdr, nil, nil)
	c := newCC(t, b.url())
	w := c.w
	first := c.call("patrol", `{"id":"p1","route":"a"}`)
	again := c.call("patrol", `{"id":"p1","route":"a"}`)
	if !first.OK || string(first.Result) != string(again.Result) {
		t.Errorf("repeated reply = %s, want the first %s", again.Result, first.Result)
	}
	// Still executing: the repeat gets no second reply; one reply when done.
	w.send("dock/d1/cmd/patrol", []byte(`{"id":"slow","route":"a"}`))
	waitFor(t, "slow command executing", 15*time.Second, func() bool { return len(cmdr.requests()) == 2 })
	w.send("dock/d1/cmd/patrol", []byte(`{"id":"slow","route":"a"}`))
	waitFor(t, "repeat seen", 15*time.Second, func() bool { return s.Health().CommandsDuplicate == 2 })
	once.Do(func() { close(release) })
	c.call("status", `{"id":"after"}`) // replies are in order: slow's reply is in by now
	slow := 0
	for _, m := range w.messages("dock/d1/cmd/patrol/reply") {
		if strings.Contains(m.payload, `"id":"slow"`) {
			slow++
		}
	}
	if slow != 1 {
		t.Errorf("replies to the slow id = %d, want 1", slow)
	}
	s.stop()

	s2 := startService(t, b.url(), dir, cmdr, nil, nil)
	c = newCC(t, b.url())
	after := c.call("patrol", `{"id":"p1","route":"a"}`)
	if string(after.Result) != string(first.Result) {
		t.Errorf("reply after restart = %s, want %s", after.Result, first.Result)
	}
	if n := len(cmdr.requests()); n != 3 {
		t.Errorf("dock called %d times, want 3 (p1, slow, after)", n)
	}
	_ = s2
}

// TestInterruptedCommand: an id that started executing when the agent died
// is never executed again.
func TestInterruptedCommand(t *testing.T) {
	b := startMochi(t, nil)
	dir := t.TempDir()
	o := Options{Prefix: "dock/d1/", BrokerURLs: []string{b.url()}, ClientID: "x", StateDir: dir}
	ob, err := OpenOutbox(o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(o, ob, (&fakeDock{}).dock(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.dd.store("lid-1", dedupeRecord{At: time.Now()}); err != nil { // marked started, then kill -9
		t.Fatal(err)
	}
	ob.Close()
	cmdr := &fakeDock{}
	startService(t, b.url(), dir, cmdr, nil, nil)
	c := newCC(t, b.url())
	r := c.call("lid", `{"id":"lid-1","action":"open"}`)
	if r.OK || r.Error.Code != contract.CodeInternal || !strings.Contains(r.Error.Message, "interrupted") {
		t.Errorf("reply = %+v, want internal: interrupted", r.Error)
	}
	if n := len(cmdr.requests()); n != 0 {
		t.Errorf("dock called %d times, want 0", n)
	}
}

// TestBusy: with the worker occupied and the queue full, a command gets
// busy and may be sent again with the same id.
func TestBusy(t *testing.T) {
	b := startMochi(t, nil)
	release := make(chan struct{})
	cmdr := &fakeDock{do: func(ctx context.Context, req request) (any, error) {
		if req.ID == "block" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil, nil
	}}
	s := startService(t, b.url(), t.TempDir(), cmdr, nil, func(o *Options) { o.QueueSize = 1 })
	c := newCC(t, b.url())
	c.w.send("dock/d1/cmd/lid", []byte(`{"id":"block","action":"open"}`))
	waitFor(t, "worker busy", 15*time.Second, func() bool { return len(cmdr.requests()) == 1 })
	c.w.send("dock/d1/cmd/status", []byte(`{"id":"queued"}`))
	waitFor(t, "queue full", 15*time.Second, func() bool { return len(s.intake.queue) == 1 })
	r := c.call("status", `{"id":"x"}`)
	if r.OK || r.Error.Code != contract.CodeBusy {
		t.Fatalf("reply with a full queue = %+v, want busy", r.Error)
	}
	close(release)
	waitFor(t, "queue drained", 15*time.Second, func() bool { return len(cmdr.requests()) == 2 })
	if r := c.call("status", `{"id":"x"}`); !r.OK {
		t.Errorf("retry of a busy id = %+v, want ok", r.Error)
	}
}

// TestSignedCommands: with a key, only correctly signed fresh commands run.
func TestSignedCommands(t *testing.T) {
	b := startMochi(t, nil)
	key := []byte("shared-secret")
	cmdr := &fakeDock{}
	startService(t, b.url(), t.TempDir(), cmdr, nil, func(o *Options) { o.SigningKey = key })
	c := newCC(t, b.url())
	now := time.Now().UTC().Format(time.RFC3339Nano)
	old := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	sign := func(k []byte, cmd string) string {
		b, err := contract.Sign(k, []byte(cmd))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, payload string
		code          contract.Code
	}{
		{"unsigned", `{"id":"s1"}`, contract.CodeUnauthorized},
		{"wrong key", sign([]byte("other"), `{"id":"s2","ts":"`+now+`"}`), contract.CodeUnauthorized},
		{"tampered", strings.Replace(sign(key, `{"id":"s3","ts":"`+now+`"}`), `"s3"`, `"s4"`, 1), contract.CodeUnauthorized},
		{"no ts", sign(key, `{"id":"s5"}`), contract.CodeUnauthorized},
		{"stale ts", sign(key, `{"id":"s6","ts":"`+old+`"}`), contract.CodeUnauthorized},
		{"good", sign(key, `{"id":"s7","ts":"`+now+`"}`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call("status", tt.payload)
			if tt.code == "" {
				if !r.OK {
					t.Errorf("reply = %+v, want ok", r.Error)
				}
				return
			}
			if r.OK || r.Error.Code != tt.code {
				t.Errorf("reply = %+v, want %s", r.Error, tt.code)
			}
		})
	}
	if n := len(cmdr.requests()); n != 1 {
		t.Errorf("dock called %d times, want 1", n)
	}
}
