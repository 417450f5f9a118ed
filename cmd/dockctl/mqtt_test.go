package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry"
	"github.com/jonboulle/clockwork"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a polling
// reader.
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

// waitFor polls cond until it holds or 10 s pass (real IO: a broker).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// testState is a telemetry.StateSource holding one dock.State.
type testState struct {
	mu sync.Mutex
	s  dock.State
}

func (f *testState) Subscribe() (<-chan dock.State, func()) { return make(chan dock.State), func() {} }

func (f *testState) Snapshot() dock.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s
}

// testCommander answers like a dock: dispatch north of 80° is blocked by
// wind, lid needs maintenance mode, everything else succeeds. It records
// every request it executed.
type testCommander struct {
	mu     sync.Mutex
	reqs   []dock.Request
	events dock.EventSink // set before the service runs
}

// progress emits a command.progress event for req as the dock would.
func (c *testCommander) progress(req dock.Request, status dock.ProgressStatus, step string, pct int) {
	_ = c.events.Emit(dock.Event{Type: dock.EventCommandProgress, Time: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC),
		Fields: map[string]any{"id": req.ID, "status": string(status), "step": step, "percent": pct}})
}

func (c *testCommander) Do(_ context.Context, req dock.Request) (any, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	switch req.Name {
	case dock.CmdDispatch:
		a := req.Args.(*dock.DispatchArgs)
		if a.Lat > 80 {
			return nil, &dock.GateError{Gates: []dock.Gate{{Name: "wind", Unit: "mps", Value: 14.2, Limit: 12}}}
		}
		three := 3
		return dock.DispatchResult{SortieID: "s-20261205-1900", ETAS: 74, DistanceM: 1830, CircleMin: &three}, nil
	case dock.CmdLid:
		return nil, dock.ErrNotMaintenance
	case dock.CmdArms: // a long job that ends well
		c.progress(req, dock.ProgressInProgress, "arms_release", 0)
		c.progress(req, dock.ProgressInProgress, "arms_release", 50)
		c.progress(req, dock.ProgressOK, "arms_release", 100)
	case dock.CmdCharger: // a long job that times out
		c.progress(req, dock.ProgressInProgress, "charger_on", 0)
		c.progress(req, dock.ProgressTimeout, "charger_on", 0)
	}
	return map[string]any{}, nil
}

func (c *testCommander) requests() []dock.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]dock.Request(nil), c.reqs...)
}

// rig is an embedded mochi-mqtt broker with a real telemetry.Service of
// dock d1 on it, as the agent runs it.
type rig struct {
	url   string
	svc   *telemetry.Service
	cmdr  *testCommander
	state *testState
}

func startBroker(t *testing.T) string {
	t.Helper()
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := srv.AddListener(l); err != nil {
		t.Fatalf("mochi listen: %v", err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return "tcp://" + l.Address()
}

// newRig starts the rig; tweak, when not nil, edits the initial state.
func newRig(t *testing.T, signingKey []byte, tweak func(*dock.State)) *rig {
	t.Helper()
	r := &rig{url: startBroker(t), cmdr: &testCommander{}, state: &testState{s: dock.State{
		Lid: dock.LidClosed, Arms: dock.ArmsClamped, Charger: true, Power: true, Mode: dock.ModeAuto,
		Weather: dock.Weather{WindMPS: 4.2, GustMPS: 6.1, TempC: 7.5, At: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)},
		Vehicle: dock.VehicleSummary{Link: true, Landed: true, Docked: true, BatteryPct: 96},
		Circles: dock.Circles{RadiiM: [3]float64{900, 2700, 4500}}, ClockSynced: true,
	}}}
	if tweak != nil {
		tweak(&r.state.s)
	}
	svc, err := telemetry.NewService(telemetry.Options{
		Prefix: "dock/d1/", BrokerURLs: []string{r.url}, ClientID: "dock-agent-d1", StateDir: t.TempDir(),
		Version: "1.2.3", SigningKey: signingKey, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Clock: clockwork.NewRealClock(),
	}, r.cmdr, r.state, nil)
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	r.svc = svc
	r.cmdr.events = svc.Events()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = svc.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("telemetry Run() = %v", runErr)
		}
		svc.Close()
	})
	waitFor(t, "the agent's first state", func() bool { return svc.Health().StatePublished > 0 })
	return r
}

// dockctl runs the CLI in the test goroutine with the given arguments.
func dockctl(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	t.Logf("dockctl %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// background runs the CLI in a goroutine; wait returns its exit code.
func background(t *testing.T, args ...string) (out, errb *syncBuffer, wait func() int) {
	t.Helper()
	out, errb = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(args, strings.NewReader(""), out, errb) }()
	return out, errb, func() int {
		t.Helper()
		select {
		case code := <-done:
			t.Logf("dockctl %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
			return code
		case <-time.After(15 * time.Second):
			t.Fatalf("dockctl %s did not exit\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errb.String())
			return -1
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
