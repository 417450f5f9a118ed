package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent()
	m.Run()
}

// TestIdleDockWithinBudget: the real agent on the bench, idle for ten
// simulated minutes, sends a state a minute (not one a second) and its
// projected day stays inside the 20 MB budget. The figure is printed, the
// budget is what is asserted.
func TestIdleDockWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bench")
	}
	rep, err := measure(t.Context(), 30, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range rep.topics {
		t.Logf("%-10s %5d messages %8d bytes in %s", u.topic, u.msgs, u.bytes, rep.window)
		if u.topic == "state" && u.msgs > 15 {
			t.Errorf("%d state messages in 10 idle minutes, want a keep-alive a minute and little else", u.msgs)
		}
	}
	if mb := rep.perDay(rep.totalBytes()) / 1e6; mb > 20 {
		t.Errorf("idle dock projects %.1f MB a day, budget 20", mb)
	}
}

func TestWireBytes(t *testing.T) {
	// 1 fixed header + 1 length + 2+21 topic + 2 id + 100 payload + 4 PUBACK.
	if got := wireBytes("dock/bench-01/circles", 100, 1); got != 132-1 {
		t.Errorf("wireBytes QoS 1 = %d, want 131", got)
	}
	// A remaining length of 128 or more takes a second byte; no PUBACK at QoS 0.
	if got := wireBytes("t", 200, 0); got != 1+2+3+200 {
		t.Errorf("wireBytes QoS 0 = %d, want 206", got)
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-minutes") {
		t.Errorf("run(-nope) = %d, %q; want 2 and the usage", code, errb.String())
	}
}
