package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry"
	"github.com/dockagent/dock-agent/telemetry/contract"
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

// testDock answers like a dock: dispatch north of 80° is blocked by wind,
// lid needs maintenance mode, arms and charger run long jobs that report
// progress, everything else succeeds. It records every call.
type testDock struct {
	mu     sync.Mutex
	reqs   []testRequest
	events dock.EventSink // set before the service runs
}

// testRequest is one call: the command it stands for, the request id
// where the method takes one, and its argument.
type testRequest struct {
	Name contract.Command
	ID   string
	Arg  any
}

func (c *testDock) record(name contract.Command, id string, arg any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, testRequest{name, id, arg})
}

// progress emits a command.progress event for the job id as the dock would.
func (c *testDock) progress(id string, status dock.ProgressStatus, step string, pct int) {
	_ = c.events.Emit(dock.Event{Type: dock.EventCommandProgress, Time: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC),
		Fields: map[string]any{"id": id, "status": string(status), "step": step, "percent": pct}})
}

func (c *testDock) Dispatch(_ context.Context, id string, a dock.DispatchRequest) (dock.DispatchResult, error) {
	c.record(contract.CmdDispatch, id, a)
	if a.Lat > 80 {
		return dock.DispatchResult{}, &dock.GateError{Gates: []dock.Gate{{Name: "wind", Unit: "mps", Value: 14.2, Limit: 12}}}
	}
	three := 3
	return dock.DispatchResult{SortieID: "s-20261205-1900", ETAS: 74, DistanceM: 1830, CircleMin: &three}, nil
}

// Patrol is a long job that times out.
func (c *testDock) Patrol(_ context.Context, id, route string, dry bool) (dock.PatrolResult, error) {
	c.record(contract.CmdPatrol, id, contract.PatrolArgs{Route: route, DryRun: dry})
	c.progress(id, dock.ProgressInProgress, "launch", 0)
	c.progress(id, dock.ProgressTimeout, "launch", 0)
	return dock.PatrolResult{SortieID: "p-1"}, nil
}

func (c *testDock) Recall(_ context.Context, reason string) error {
	c.record(contract.CmdRecall, "", reason)
	return nil
}

func (c *testDock) Abort(context.Context) error { c.record(contract.CmdAbort, "", nil); return nil }

func (c *testDock) SetBattery(_ context.Context, mode string) error {
	c.record(contract.CmdBattery, "", mode)
	return nil
}

func (c *testDock) PutRoute(_ context.Context, name string, wps, plan json.RawMessage) (any, error) {
	c.record(contract.CmdRoutePut, "", contract.RoutePutArgs{Name: name, Waypoints: wps, Plan: plan})
	return map[string]any{}, nil
}

func (c *testDock) DeleteRoute(_ context.Context, name string) error {
	c.record(contract.CmdRouteDelete, "", name)
	return nil
}

func (c *testDock) Routes(context.Context) (any, error) {
	c.record(contract.CmdRouteList, "", nil)
	return map[string]any{"routes": []any{}}, nil
}

func (c *testDock) PutSchedule(_ context.Context, entries json.RawMessage) (any, error) {
	c.record(contract.CmdSchedulePut, "", entries)
	return map[string]any{}, nil
}

func (c *testDock) Schedules(context.Context) (any, error) {
	c.record(contract.CmdScheduleList, "", nil)
	return map[string]any{}, nil
}

func (c *testDock) Status(context.Context) (any, error) {
	c.record(contract.CmdStatus, "", nil)
	return map[string]any{}, nil
}

func (c *testDock) Quote(_ context.Context, lat, lon float64, altM *float64) (dock.QuoteResult, error) {
	c.record(contract.CmdQuote, "", contract.QuoteArgs{Lat: lat, Lon: lon, AltM: altM})
	return dock.QuoteResult{ETAS: 61, DistanceM: 880, CircleMin: new(3), Ready: true}, nil
}

func (c *testDock) Retarget(_ context.Context, id string, lat, lon float64, altM *float64) (dock.RetargetResult, error) {
	c.record(contract.CmdRetarget, "", contract.RetargetArgs{SortieID: id, Lat: lat, Lon: lon, AltM: altM})
	return dock.RetargetResult{SortieID: "d-1", Phase: dock.PhaseAirborne, ETAS: 48}, nil
}

func (c *testDock) Alert(_ context.Context, ref string, lat, lon *float64, window time.Duration) (dock.AlertResult, error) {
	c.record(contract.CmdAlert, "", contract.AlertArgs{Ref: ref, Lat: lat, Lon: lon})
	return dock.AlertResult{Until: time.Now().Add(90 * time.Second), Window: 90 * time.Second}, nil
}

func (c *testDock) ManualLid(_ context.Context, id string, a dock.LidAction) error {
	c.record(contract.CmdLid, id, a)
	return dock.ErrNotMaintenance
}

// ManualArms is a long job that ends well.
func (c *testDock) ManualArms(_ context.Context, id string, a dock.ArmsAction) error {
	c.record(contract.CmdArms, id, a)
	c.progress(id, dock.ProgressInProgress, "arms_release", 0)
	c.progress(id, dock.ProgressInProgress, "arms_release", 50)
	c.progress(id, dock.ProgressOK, "arms_release", 100)
	return nil
}

func (c *testDock) ManualCharger(_ context.Context, on bool) error {
	c.record(contract.CmdCharger, "", on)
	return nil
}

func (c *testDock) SetMode(_ context.Context, mode dock.Mode) error {
	c.record(contract.CmdMode, "", mode)
	return nil
}

func (c *testDock) Reset(context.Context) error { c.record(contract.CmdReset, "", nil); return nil }

func (c *testDock) requests() []testRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]testRequest(nil), c.reqs...)
}

// rig is an embedded mochi-mqtt broker with a real telemetry.Service of
// dock d1 on it, as the agent runs it.
type rig struct {
	url    string
	svc    *telemetry.Service
	outbox *telemetry.Outbox // the dock's event sink
	cmdr   *testDock
	state  *testState
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
	r := &rig{url: startBroker(t), cmdr: &testDock{}, state: &testState{s: dock.State{
		Lid: dock.LidClosed, Arms: dock.ArmsClamped, Charger: true, Power: true, Mode: dock.ModeAuto,
		Weather: dock.Weather{WindMPS: 4.2, GustMPS: 6.1, TempC: 7.5, At: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)},
		Vehicle: dock.VehicleSummary{Link: true, Landed: true, Docked: true, BatteryPct: 96},
		Circles: dock.Circles{RadiiM: [3]float64{900, 2700, 4500}}, ClockSynced: true,
	}}}
	if tweak != nil {
		tweak(&r.state.s)
	}
	o := telemetry.Options{
		Prefix: "dock/d1/", BrokerURLs: []string{r.url}, ClientID: "dock-agent-d1", StateDir: t.TempDir(),
		Version: "1.2.3", SigningKey: signingKey, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Clock: clockwork.NewRealClock(),
	}
	outbox, err := telemetry.OpenOutbox(o)
	if err != nil {
		t.Fatalf("OpenOutbox() = %v", err)
	}
	r.cmdr.events, r.outbox = outbox, outbox
	svc, err := telemetry.NewService(o, outbox, telemetry.Dock{Sorties: r.cmdr, Maintenance: r.cmdr}, r.state, nil)
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	r.svc = svc
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
		outbox.Close()
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
