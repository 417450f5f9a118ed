package telemetry

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// repliesWith counts the replies on topic with id and error code code ("" for ok).
func repliesWith(w *watcher, topic, id string, code contract.Code) int {
	n := 0
	for _, m := range w.messages(topic) {
		var r reply
		if json.Unmarshal([]byte(m.payload), &r) != nil || r.ID == nil || *r.ID != id {
			continue
		}
		if (code == "" && r.OK) || (r.Error != nil && r.Error.Code == code) {
			n++
		}
	}
	return n
}

// purgeSession connects once with the agent's client id and a clean
// session, so the broker forgets the agent's persistent session and
// subscriptions (as an operator's broker maintenance would).
func purgeSession(t *testing.T, url string) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("dock-agent-d1").SetCleanSession(true).
		SetAutoReconnect(false).SetConnectRetry(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("purge session: connect: %v", tok.Error())
	}
	c.Disconnect(50)
}

func dispatchCount(c *fakeDock) int {
	n := 0
	for _, r := range c.requests() {
		if r.Name == contract.CmdDispatch {
			n++
		}
	}
	return n
}

// TestRetainedCommandNeverExecuted: a dispatch published retained runs
// once (its live delivery carries no retain flag), and a later delivery of
// the retained message (the agent restarted with a purged session, on
// mochi and on a persistent mosquitto) is answered stale with its id and
// never executed again.
func TestRetainedCommandNeverExecuted(t *testing.T) {
	for _, name := range []string{"mochi", "mosquitto"} {
		t.Run(name, func(t *testing.T) {
			var b testBroker
			if name == "mochi" {
				b = startMochi(t, nil)
			} else {
				if _, err := exec.LookPath("mosquitto"); err != nil {
					t.Skip("mosquitto not installed")
				}
				b = startMosquittoPersistent(t)
			}
			dir := t.TempDir()
			cmdr := &fakeDock{}
			s := startService(t, b.url(), dir, cmdr, nil, nil)
			c := newCC(t, b.url())
			const topic, replies = "dock/d1/cmd/dispatch", "dock/d1/cmd/dispatch/reply"
			if tok := c.w.client.Publish(topic, 1, true, []byte(`{"id":"r1","lat":53.55,"lon":9.99,"priority":"alarm"}`)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("publish retained dispatch: %v", tok.Error())
			}
			waitFor(t, "the live delivery answered ok", 15*time.Second, func() bool { return repliesWith(c.w, replies, "r1", "") == 1 })
			if n := dispatchCount(cmdr); n != 1 {
				t.Fatalf("dispatches executed after the live delivery = %d, want 1", n)
			}
			stale := 0
			expectStale := func(what string) {
				t.Helper()
				stale++
				waitFor(t, "a stale reply after "+what, 15*time.Second, func() bool { return repliesWith(c.w, replies, "r1", contract.CodeStale) >= stale })
				if n := dispatchCount(cmdr); n != 1 {
					t.Fatalf("dispatches executed after %s = %d, want 1", what, n)
				}
			}
			s.stop()
			purgeSession(t, b.url())
			startService(t, b.url(), dir, cmdr, nil, nil)
			expectStale("an agent restart with a purged session")
		})
	}
}

// TestBurstAllAnswered sends 1000 status commands at once through a real
// broker: every one is answered (ok or busy), none is lost.
func TestBurstAllAnswered(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b testBroker) {
		s := startService(t, b.url(), t.TempDir(), &fakeDock{}, nil, nil)
		c := newCC(t, b.url())
		const n = 1000
		start := time.Now()
		toks := make([]mqtt.Token, n)
		for i := range n {
			toks[i] = c.w.client.Publish("dock/d1/cmd/status", 1, false, fmt.Appendf(nil, `{"id":"b%d"}`, i))
		}
		for i, tok := range toks {
			if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
				t.Fatalf("publish command %d: %v", i, tok.Error())
			}
		}
		answered := map[string]contract.Code{}
		waitFor(t, fmt.Sprintf("%d replies", n), 60*time.Second, func() bool {
			for _, m := range c.w.messages("dock/d1/cmd/status/reply") {
				var r reply
				if json.Unmarshal([]byte(m.payload), &r) != nil || r.ID == nil {
					continue
				}
				if r.OK {
					answered[*r.ID] = "ok"
				} else if r.Error != nil {
					answered[*r.ID] = r.Error.Code
				}
			}
			return len(answered) == n
		})
		codes := map[contract.Code]int{}
		for _, code := range answered {
			codes[code]++
		}
		t.Logf("%d commands answered in %s: %v", n, time.Since(start).Round(time.Millisecond), codes)
		for code := range codes {
			if code != "ok" && code != contract.CodeBusy {
				t.Errorf("replies with code %s: %d, want only ok and busy", code, codes[code])
			}
		}
		if h := s.Health(); h.RepliesLost != 0 {
			t.Errorf("Health().RepliesLost = %d, want 0", h.RepliesLost)
		}
	})
}

// TestMalformedTopicAnswered: a message on a command topic with no name or
// with more levels is answered on cmd/_error/reply with its id; a message
// on a reply topic is not answered (that would loop).
func TestMalformedTopicAnswered(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b testBroker) {
		cmdr := &fakeDock{}
		startService(t, b.url(), t.TempDir(), cmdr, nil, nil)
		c := newCC(t, b.url())
		const errTopic = "dock/d1/cmd/_error/reply"
		for i, topic := range []string{"dock/d1/cmd/", "dock/d1/cmd/lid/open", "dock/d1/cmd/a/b/c"} {
			id := fmt.Sprintf("m%d", i)
			c.w.send(topic, fmt.Appendf(nil, `{"id":%q,"action":"open"}`, id))
			waitFor(t, "an error reply for "+topic, 15*time.Second, func() bool { return repliesWith(c.w, errTopic, id, contract.CodeBadRequest) == 1 })
		}
		c.w.send("dock/d1/cmd/status/reply", []byte(`{"id":"loop"}`))
		r := c.call("status", `{"id":"after"}`) // replies are in order: the reply to "loop" would be here by now
		if !r.OK {
			t.Fatalf("status after the malformed topics = %+v, want ok", r.Error)
		}
		for _, m := range c.w.messages(errTopic) {
			if strings.Contains(m.payload, `"loop"`) {
				t.Errorf("a message on a reply topic was answered: %s", m.payload)
			}
		}
		// The watcher hears its own "loop" on status/reply once; an answer
		// would be a second one.
		n := 0
		for _, m := range c.w.messages("dock/d1/cmd/status/reply") {
			if strings.Contains(m.payload, `"loop"`) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d messages with id loop on status/reply, want only the one sent", n)
		}
		if n := len(cmdr.requests()); n != 1 {
			t.Errorf("dock called %d times, want 1 (only the status)", n)
		}
	})
}
