package telemetry

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"
)

// restartGracefully stops mosquitto with SIGTERM, which writes its
// persistence database (stop's SIGKILL would lose what the broker holds),
// and starts it again on the same port and database.
func (b *mosquittoBroker) restartGracefully() {
	b.t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.t.Fatalf("stop mosquitto: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // bounds a wait on a real process, not a synchronisation
		b.t.Fatal("mosquitto did not exit within 10 s of SIGTERM")
	}
	b.cmd = nil
	b.start()
}

// retainedOn connects a fresh client, subscribes to topic and returns the
// payload of the retained message the broker sends for it ("" if none
// comes within 5 s).
func retainedOn(t *testing.T, url, topic string) string {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("retained-check-%d", time.Now().UnixNano())).
		SetAutoReconnect(false).SetConnectRetry(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("retained check: connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	var mu sync.Mutex
	var got string
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		if m.Retained() {
			mu.Lock()
			got = string(m.Payload())
			mu.Unlock()
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("retained check: subscribe %s: %v", topic, tok.Error())
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		g := got
		mu.Unlock()
		if g != "" {
			return g
		}
		time.Sleep(5 * time.Millisecond) // polling interval of a condition wait, not synchronisation
	}
	return ""
}

// startServiceAt is startService on a fake clock. Its shutdown waits on
// a clockwork fake-clock context whose Err (clockwork v0.5.0) blocks until
// the context is done, i.e. until FlushTimeout has passed on that clock;
// so stop moves the clock on in the background while the service stops.
func startServiceAt(t *testing.T, url, dir string, cmdr *fakeDock, clk *clockwork.FakeClock) *runningService {
	t.Helper()
	s := startService(t, url, dir, cmdr, nil, func(o *Options) { o.Clock = clk })
	stop := s.stop
	s.stop = func() {
		stopped := make(chan struct{})
		var ticker sync.WaitGroup
		ticker.Go(func() {
			for {
				select {
				case <-stopped:
					return
				case <-time.After(10 * time.Millisecond): // real-time pacing of the fake clock during shutdown only
					clk.Advance(100 * time.Millisecond)
				}
			}
		})
		stop()
		close(stopped)
		ticker.Wait()
	}
	t.Cleanup(s.stop) // before startService's own cleanup, which then does nothing
	return s
}

// TestRetainedDispatchAfterRestartsAndDedupeWindow is issue 21's stale
// alarm: a dispatch published retained runs once; then the broker
// (mosquitto with persistence, so the retained message survives) restarts
// under the running agent, and the agent restarts with a purged session on
// a clock past the dedupe window and its skew margin, so its dedupe record
// of the id is gone. Each later delivery of the retained dispatch is
// answered stale and none is executed. The same id sent live afterwards
// is executed, which shows the dedupe record really was gone: only the
// retain rule stopped the retained copy.
func TestRetainedDispatchAfterRestartsAndDedupeWindow(t *testing.T) {
	b := startMosquittoPersistent(t)
	// The agent reaches the broker through a proxy held down while the
	// broker restarts, so the command centre's new watcher is subscribed
	// before the agent's resubscription brings the retained message back.
	p := startProxy(t, b.url()[len("tcp://"):])
	dir := t.TempDir()
	cmdr := &fakeDock{}
	const topic, replies = "dock/d1/cmd/dispatch", "dock/d1/cmd/dispatch/reply"
	const dispatch = `{"id":"r1","lat":53.55,"lon":9.99,"priority":"alarm"}`

	clockA := clockwork.NewFakeClockAt(testStart)
	a := startServiceAt(t, p.url(), dir, cmdr, clockA)
	c := newCC(t, b.url())
	if tok := c.w.client.Publish(topic, 1, true, []byte(dispatch)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish retained dispatch: %v", tok.Error())
	}
	waitFor(t, "the live delivery answered ok", 15*time.Second, func() bool { return repliesWith(c.w, replies, "r1", "") == 1 })
	if n := dispatchCount(cmdr); n != 1 {
		t.Fatalf("dispatches executed after the live delivery = %d, want 1", n)
	}

	// 1. The broker restarts under the running agent.
	p.setDown(true)
	b.restartGracefully()
	p.kill()
	if got := retainedOn(t, b.url(), topic); got != dispatch {
		t.Fatalf("retained message on %s after the broker restart = %q, want the dispatch (mosquitto persistence)", topic, got)
	}
	// Not newCC: the status may read offline (the broker's shutdown sent
	// the agent's will) until the agent is back.
	c = cc{t, newWatcher(t, b.url(), "dock/d1/#", nil)}
	p.setDown(false)
	waitFor(t, "a stale reply after the broker restart", 30*time.Second, func() bool { return repliesWith(c.w, replies, "r1", contract.CodeStale) == 1 })
	if n := dispatchCount(cmdr); n != 1 {
		t.Fatalf("dispatches executed after the broker restart = %d, want 1", n)
	}

	// 2. The agent restarts with a purged session, the dedupe window past.
	a.stop()
	purgeSession(t, b.url())
	clockB := clockwork.NewFakeClockAt(testStart.Add(DefaultDedupeWindow + maxClockSkew + time.Minute))
	startServiceAt(t, b.url(), dir, cmdr, clockB)
	waitFor(t, "a stale reply after the agent restart", 30*time.Second, func() bool { return repliesWith(c.w, replies, "r1", contract.CodeStale) == 2 })
	if n := dispatchCount(cmdr); n != 1 {
		t.Fatalf("dispatches executed after the agent restart past the dedupe window = %d, want 1", n)
	}

	// Control: live, the same id runs again, so no dedupe record held it.
	c.w.send(topic, []byte(dispatch))
	// This watcher came after the first ok: it hears only the new one.
	waitFor(t, "the live resend answered ok", 15*time.Second, func() bool { return repliesWith(c.w, replies, "r1", "") == 1 })
	if n := dispatchCount(cmdr); n != 2 {
		t.Fatalf("dispatches executed after a live resend past the dedupe window = %d, want 2 (the dedupe record should be gone)", n)
	}
}
