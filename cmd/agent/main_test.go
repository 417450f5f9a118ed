package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/agentproc"
	"github.com/dockagent/dock-agent/testbench/broker"
)

// TestMain doubles as the agent: with DOCK_AGENT_CHILD=1 the test binary
// is dock-agent, so the tests run the real main as its own process.
func TestMain(m *testing.M) {
	if os.Getenv("DOCK_AGENT_CHILD") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-check", "-config", "../../config/examples/dock.yaml"}, &out, &errOut); code != 0 {
		t.Fatalf("-check on the example = %d, want 0; stderr:\n%s", code, errOut.String())
	}
	for _, want := range []string{"valid", "route:", "schedule:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-check summary lacks %q:\n%s", want, out.String())
		}
	}

	// Three mistakes: all three named, with their key paths and lines.
	good := config.BenchExample()
	bad := strings.Replace(string(good), "  lid_timeout: 25s", "  lid_timeout: 25 seconds", 1)
	bad = strings.Replace(bad, "  lat: 24.3504", "  lat: 124.3504", 1)
	bad = strings.Replace(bad, "state_dir:", "colour: blue\nstate_dir:", 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"-check", "-config", path}, &out, &errOut); code != 1 {
		t.Fatalf("-check on a broken config = %d, want 1", code)
	}
	for _, want := range []string{
		path + ":9: position.lat: 124.3504 is out of range",
		path + ":13: colour: unknown key",
		`actuators.lid_timeout: "25 seconds" is not a duration`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("-check errors lack %q:\n%s", want, errOut.String())
		}
	}
}

// TestCheckCron: -check judges cron with the scheduler's parser, so a
// day name the scheduler refuses (SUNDAY, not SUN) fails the check with its
// line instead of passing it and failing the agent at start-up.
func TestCheckCron(t *testing.T) {
	good := string(config.BenchExample())
	if !strings.Contains(good, `cron: "0 * * * *"`) {
		t.Fatal("the bench example has no cron schedule to change")
	}
	for _, tc := range []struct {
		cron     string
		wantCode int
		want     string
	}{
		{"0 12 * * MON-FRI,SUN", 0, "valid"},
		{"0 12 * * MON-FRI,SUNDAY", 1, `.cron: parse "0 12 * * MON-FRI,SUNDAY": failed to parse int from SUNDAY`},
		{"@every 1h", 1, `.cron: "@every 1h": use every for fixed intervals`},
	} {
		t.Run(tc.cron, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.yaml")
			doc := strings.Replace(good, `cron: "0 * * * *"`, `cron: "`+tc.cron+`"`, 1)
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := run([]string{"-check", "-config", path}, &out, &errOut)
			if code != tc.wantCode || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Errorf("-check with cron %q = %d, want %d and %q; stdout:\n%s\nstderr:\n%s", tc.cron, code, tc.wantCode, tc.want, out.String(), errOut.String())
			}
			if tc.wantCode == 1 && !strings.Contains(errOut.String(), path+":") {
				t.Errorf("-check error lacks the file and line:\n%s", errOut.String())
			}
		})
	}
}

func TestVersionAndBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "dock-agent dev") {
		t.Errorf("-version = %d %q", code, out.String())
	}
	if code := run([]string{"-nope"}, &out, &errOut); code != 2 {
		t.Errorf("unknown flag = %d, want 2", code)
	}
	// Asked for help: usage on stdout (the man page is made from it), exit 0.
	out.Reset()
	if code := run([]string{"-h"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "usage: dock-agent") || !strings.Contains(out.String(), "examples:\n  dock-agent -check") {
		t.Errorf("-h = %d, stdout %q; want 0 and usage with examples", code, out.String())
	}
	if code := run([]string{"-config", "/nonexistent/agent.yaml"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "/nonexistent/agent.yaml") {
		t.Errorf("missing config = %d, stderr %q", code, errOut.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the child's output copier.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog polls the agent's log for want until ctx ends.
func waitLog(ctx context.Context, t *testing.T, log *syncBuffer, want string) {
	t.Helper()
	for !strings.Contains(log.String(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("agent log never said %q; log:\n%s", want, log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestUnreachableBrokerMissingDevice starts the agent with no broker and no
// serial devices: it must log what is missing, report READY anyway, keep
// retrying (the broker it finds when one appears), and stop cleanly on
// SIGTERM within 5 s.
func TestUnreachableBrokerMissingDevice(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens here now

	cfg, err := config.Parse(config.BenchExample(), "bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.MQTT.Brokers = []string{"tcp://" + addr}
	cfg.Vehicle.URL = filepath.Join(dir, "no-radio")
	for name, b := range cfg.Buses {
		b.Device = filepath.Join(dir, "no-"+name)
		cfg.Buses[name] = b
	}
	cfgPath := filepath.Join(dir, "agent.yaml")
	if err := config.WriteFile(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}

	var log syncBuffer
	a, err := agentproc.New(agentproc.Options{
		Args: []string{"-config", cfgPath}, Env: []string{"DOCK_AGENT_CHILD=1"},
		Dir: dir, Stdout: &log, Stderr: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	seen, err := a.Notify().WaitFor(ctx, "READY=1")
	if err != nil {
		t.Fatalf("no READY=1: %v; log:\n%s", err, log.String())
	}
	if len(seen) == 0 || seen[0] != "STATUS=starting" {
		t.Errorf("notifications before READY = %q, want STATUS=starting first", seen)
	}
	for _, want := range []string{
		"serial device failed",
		filepath.Join(dir, "no-io"),
		"dock hardware not readable at start",
		"mqtt broker not reachable at start",
	} {
		waitLog(ctx, t, &log, want)
	}
	status := waitStatus(ctx, t, a, "FAULT")
	if !strings.Contains(status, "not answering") || !strings.Contains(status, "broker DOWN") {
		t.Errorf("STATUS line = %q, want the I/O module fault and the broker down", status)
	}

	// The broker appears: the agent, still retrying, connects and announces.
	b := broker.New(addr, nil)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	online := subscribeOnce(ctx, t, b.URL(), "dock/bench-1/status")
	select {
	case msg := <-online:
		if !strings.Contains(msg, `"online":true`) {
			t.Errorf("status = %s, want online", msg)
		}
	case <-ctx.Done():
		t.Fatalf("agent never connected to the broker that appeared; log:\n%s", log.String())
	}

	start := time.Now()
	termCtx, cancelTerm := context.WithTimeout(ctx, 5*time.Second)
	defer cancelTerm()
	if err := a.Signal(termCtx, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v (after %v); log:\n%s", err, time.Since(start), log.String())
	}
	t.Logf("shutdown took %v", time.Since(start))
	for _, want := range []string{"shutting down", "dock agent stopped"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log.String(), "panic") || strings.Contains(log.String(), "DATA RACE") {
		t.Errorf("agent log shows a panic or race:\n%s", log.String())
	}
}

// waitStatus waits for a STATUS= notification containing want.
func waitStatus(ctx context.Context, t *testing.T, a *agentproc.Agent, want string) string {
	t.Helper()
	for {
		select {
		case m := <-a.Notify().C():
			if s, ok := strings.CutPrefix(m, "STATUS="); ok && strings.Contains(s, want) {
				return s
			}
		case <-ctx.Done():
			t.Fatalf("no STATUS line with %q", want)
			return ""
		}
	}
}

// subscribeOnce returns the first message on topic.
func subscribeOnce(ctx context.Context, t *testing.T, url, topic string) <-chan string {
	t.Helper()
	got := make(chan string, 1)
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("test-%d", time.Now().UnixNano()))
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect test client: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		if strings.Contains(string(m.Payload()), `"online":true`) {
			select {
			case got <- string(m.Payload()):
			default:
			}
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	_ = ctx
	return got
}
