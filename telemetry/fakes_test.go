package telemetry

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// pubMsg is one message a fake broker was given.
type pubMsg struct {
	topic    string
	qos      byte
	retained bool
	payload  string
}

// fakeBroker implements broker in memory for unit tests of the loops.
type fakeBroker struct {
	mu        sync.Mutex
	connected bool
	connects  uint64
	changed   chan struct{}
	msgs      []pubMsg
	fail      int // the next fail publishes return an error
	slow      int // the next slow publishes are acked after one ack timeout
	published chan struct{}
}

func newFakeBroker(connected bool) *fakeBroker {
	n := uint64(0)
	if connected {
		n = 1
	}
	return &fakeBroker{connected: connected, connects: n, changed: make(chan struct{}), published: make(chan struct{}, 1024)}
}

func (f *fakeBroker) isConnected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

func (f *fakeBroker) connectCount() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects
}

func (f *fakeBroker) watch() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeBroker) setConnected(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = up
	if up {
		f.connects++
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeBroker) publish(topic string, qos byte, retained bool, payload []byte) tokenWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if f.fail > 0 {
		f.fail--
		err = errAckTimeout
	} else if f.slow > 0 {
		f.slow--
		f.msgs = append(f.msgs, pubMsg{topic, qos, retained, string(payload)})
		f.published <- struct{}{}
		waited := false
		return func(context.Context, time.Duration) error {
			if !waited {
				waited = true
				return errAckTimeout
			}
			return nil
		}
	} else {
		f.msgs = append(f.msgs, pubMsg{topic, qos, retained, string(payload)})
	}
	f.published <- struct{}{}
	return func(context.Context, time.Duration) error { return err }
}

func (f *fakeBroker) messages(topic string) []pubMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []pubMsg
	for _, m := range f.msgs {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// fakeState is a StateSource with a settable state.
type fakeState struct {
	mu    sync.Mutex
	state dock.State
	subs  []chan dock.State
}

func (f *fakeState) Subscribe() (<-chan dock.State, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan dock.State, 1)
	f.subs = append(f.subs, ch)
	return ch, func() {}
}

func (f *fakeState) Snapshot() dock.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeState) set(s dock.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = s
	for _, ch := range f.subs {
		select {
		case ch <- s:
		default:
		}
	}
}

// request is one call the fake dock got: the command it stands for, the
// request id (when the method takes one) and the argument it was given.
type request struct {
	Name contract.Command
	ID   string
	Arg  any
}

// fakeDock implements Sorties and Maintenance: it records calls and
// answers with do, or with a default: the dispatch and patrol results
// below, {"command":<name>} for the views, success for the rest.
type fakeDock struct {
	mu    sync.Mutex
	calls []request
	do    func(ctx context.Context, req request) (any, error)
}

var (
	fakeDispatchResult = dock.DispatchResult{SortieID: "d-1", ETAS: 42, DistanceM: 800, CircleMin: new(1)}
	fakePatrolResult   = dock.PatrolResult{SortieID: "p-1", ETAS: 20}
)

func (f *fakeDock) dock() Dock { return Dock{Sorties: f, Maintenance: f} }

func (f *fakeDock) call(ctx context.Context, name contract.Command, id string, arg any) (any, error) {
	f.mu.Lock()
	r := request{Name: name, ID: id, Arg: arg}
	f.calls = append(f.calls, r)
	do := f.do
	f.mu.Unlock()
	if do != nil {
		return do(ctx, r)
	}
	return nil, nil
}

func (f *fakeDock) view(ctx context.Context, name contract.Command, arg any) (any, error) {
	res, err := f.call(ctx, name, "", arg)
	if res == nil && err == nil {
		res = map[string]any{"command": string(name)}
	}
	return res, err
}

func (f *fakeDock) Dispatch(ctx context.Context, id string, a dock.DispatchRequest) (dock.DispatchResult, error) {
	res, err := f.call(ctx, contract.CmdDispatch, id, a)
	if res == nil && err == nil {
		return fakeDispatchResult, nil
	}
	r, _ := res.(dock.DispatchResult)
	return r, err
}

func (f *fakeDock) Patrol(ctx context.Context, id, route string, dry bool) (dock.PatrolResult, error) {
	res, err := f.call(ctx, contract.CmdPatrol, id, contract.PatrolArgs{Route: route, DryRun: dry})
	if res == nil && err == nil {
		return fakePatrolResult, nil
	}
	r, _ := res.(dock.PatrolResult)
	return r, err
}

func (f *fakeDock) Recall(ctx context.Context, reason string) error {
	_, err := f.call(ctx, contract.CmdRecall, "", reason)
	return err
}

func (f *fakeDock) Abort(ctx context.Context) error {
	_, err := f.call(ctx, contract.CmdAbort, "", nil)
	return err
}

func (f *fakeDock) SetBattery(ctx context.Context, mode string) error {
	_, err := f.call(ctx, contract.CmdBattery, "", mode)
	return err
}

func (f *fakeDock) PutRoute(ctx context.Context, name string, wps, plan json.RawMessage) (any, error) {
	return f.view(ctx, contract.CmdRoutePut, contract.RoutePutArgs{Name: name, Waypoints: wps, Plan: plan})
}

func (f *fakeDock) DeleteRoute(ctx context.Context, name string) error {
	_, err := f.call(ctx, contract.CmdRouteDelete, "", name)
	return err
}

func (f *fakeDock) Routes(ctx context.Context) (any, error) {
	return f.view(ctx, contract.CmdRouteList, nil)
}

func (f *fakeDock) PutSchedule(ctx context.Context, entries json.RawMessage) (any, error) {
	return f.view(ctx, contract.CmdSchedulePut, entries)
}

func (f *fakeDock) Schedules(ctx context.Context) (any, error) {
	return f.view(ctx, contract.CmdScheduleList, nil)
}

func (f *fakeDock) Quote(ctx context.Context, lat, lon float64, altM *float64) (dock.QuoteResult, error) {
	res, err := f.call(ctx, contract.CmdQuote, "", contract.QuoteArgs{Lat: lat, Lon: lon, AltM: altM})
	if res == nil && err == nil {
		return dock.QuoteResult{ETAS: 61, DistanceM: 880, CircleMin: new(3), Ready: true}, nil
	}
	r, _ := res.(dock.QuoteResult)
	return r, err
}

func (f *fakeDock) Retarget(ctx context.Context, id string, lat, lon float64, altM *float64) (dock.RetargetResult, error) {
	res, err := f.call(ctx, contract.CmdRetarget, "", contract.RetargetArgs{SortieID: id, Lat: lat, Lon: lon, AltM: altM})
	if res == nil && err == nil {
		return dock.RetargetResult{SortieID: "d-1", Phase: dock.PhaseAirborne, ETAS: 48, DistanceM: 610, PromisedETAS: 95}, nil
	}
	r, _ := res.(dock.RetargetResult)
	return r, err
}

func (f *fakeDock) Alert(ctx context.Context, ref string, lat, lon *float64, window time.Duration) (dock.AlertResult, error) {
	res, err := f.call(ctx, contract.CmdAlert, "", contract.AlertArgs{Ref: ref, Lat: lat, Lon: lon})
	if res == nil && err == nil {
		return dock.AlertResult{Until: time.Date(2026, 12, 5, 19, 1, 30, 0, time.UTC), Window: window}, nil
	}
	r, _ := res.(dock.AlertResult)
	return r, err
}

func (f *fakeDock) Status(ctx context.Context) (any, error) {
	return f.view(ctx, contract.CmdStatus, nil)
}

func (f *fakeDock) ManualLid(ctx context.Context, id string, a dock.LidAction) error {
	_, err := f.call(ctx, contract.CmdLid, id, a)
	return err
}

func (f *fakeDock) ManualArms(ctx context.Context, id string, a dock.ArmsAction) error {
	_, err := f.call(ctx, contract.CmdArms, id, a)
	return err
}

func (f *fakeDock) ManualCharger(ctx context.Context, on bool) error {
	_, err := f.call(ctx, contract.CmdCharger, "", on)
	return err
}

func (f *fakeDock) SetMode(ctx context.Context, mode dock.Mode) error {
	_, err := f.call(ctx, contract.CmdMode, "", mode)
	return err
}

func (f *fakeDock) Reset(ctx context.Context) error {
	_, err := f.call(ctx, contract.CmdReset, "", nil)
	return err
}

func (f *fakeDock) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.calls...)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond until it holds or the deadline passes (real IO only).
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval of a condition wait, not synchronisation
	}
}
