package dockpage

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/dockagent/dock-agent/dock"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeState is a StateSource whose state the test sets.
type fakeState struct {
	mu   sync.Mutex
	s    dock.State
	subs map[chan dock.State]struct{}
}

func newFakeState(s dock.State) *fakeState {
	return &fakeState{s: s, subs: map[chan dock.State]struct{}{}}
}

func (f *fakeState) Subscribe() (<-chan dock.State, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan dock.State, 1)
	f.subs[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, ch)
			close(ch)
			f.mu.Unlock()
		})
	}
}

func (f *fakeState) Snapshot() dock.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s
}

// set changes the state and tells the subscribers, as the controller
// does (latest value wins for a slow one).
func (f *fakeState) set(mod func(*dock.State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mod(&f.s)
	for ch := range f.subs {
		select {
		case <-ch:
		default:
		}
		ch <- f.s
	}
}

func (f *fakeState) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// sink stores events or refuses them.
type sink struct {
	mu     sync.Mutex
	events []dock.Event
	err    error
}

func (s *sink) Emit(e dock.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.events = append(s.events, e)
	return nil
}

var t0 = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)

func idleState() dock.State {
	return dock.State{Lid: dock.LidClosed, Arms: dock.ArmsClamped, Power: true, Mode: dock.ModeAuto,
		Faults: []dock.Fault{}, Vehicle: dock.VehicleSummary{Link: true, Landed: true, Docked: true, BatteryPct: 96},
		Weather: dock.Weather{WindMPS: 3, At: t0}, Circles: dock.Circles{RadiiM: [3]float64{900, 2700, 4500}},
		ClockSynced: true, UpdatedAt: t0}
}

func vehicleOnPad() dock.VehicleState {
	return dock.VehicleState{Link: true, Landed: dock.LandedOnGround, Mode: "LOITER", Lat: 53.5511, Lon: 9.9937,
		AltM: 30, BatteryPct: 96, GPSFix: 3, Sats: 17, HDOP: 0.7}
}

// rig is a page served by a real HTTP server.
type rig struct {
	t     *testing.T
	clock *clockwork.FakeClock
	state *fakeState
	page  *Page
	srv   *httptest.Server
	sink  *sink
	veh   func() dock.VehicleState
	vmu   sync.Mutex
	v     dock.VehicleState
}

func newRig(t *testing.T, mod func(*Options)) *rig {
	t.Helper()
	r := &rig{t: t, clock: clockwork.NewFakeClockAt(t0), state: newFakeState(idleState()), sink: &sink{}, v: vehicleOnPad()}
	o := Options{
		DockID: "d-7",
		Map: Map{Dock: Point{Lat: 53.5511, Lon: 9.9937}, GeofenceRadiusM: 5000,
			Routes: []Route{{Name: "old-town", Points: []Point{{53.553, 9.99}, {53.555, 9.995}}}}},
		Clock: r.clock, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	if mod != nil {
		mod(&o)
	}
	p, err := NewPage(o, r.state, func() dock.VehicleState {
		r.vmu.Lock()
		defer r.vmu.Unlock()
		return r.v
	})
	if err != nil {
		t.Fatalf("NewPage = %v", err)
	}
	r.page = p
	r.srv = httptest.NewServer(p.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

// run runs the page until the test ends, and waits until Run has
// subscribed and parked on its ticker.
func (r *rig) run() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(r.t.Context())
	done := make(chan error, 1)
	go func() { done <- r.page.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Run = %v, want nil", err)
		}
	})
	waitFor(r.t, "Run subscribed", func() bool { return r.state.subscribers() == 1 })
}

func (r *rig) get(path string) (*http.Response, string) {
	r.t.Helper()
	res, err := http.Get(r.srv.URL + path)
	if err != nil {
		r.t.Fatalf("GET %s = %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatalf("GET %s: read body: %v", path, err)
	}
	return res, string(b)
}

// waitFor polls cond under a deadline; the things waited for happen on
// other goroutines and sockets, which no fake clock drives.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(time.Millisecond) // polling interval of a condition on other goroutines
	}
}

// sse is one server-sent event.
type sse struct {
	name string
	data string
}

// stream is an open /page/stream.
type stream struct {
	t      *testing.T
	res    *http.Response
	msgs   chan sse
	done   chan error
	cancel context.CancelFunc
}

func (r *rig) open() *stream {
	r.t.Helper()
	ctx, cancel := context.WithCancel(r.t.Context())
	req, err := http.NewRequestWithContext(ctx, "GET", r.srv.URL+"/page/stream", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		r.t.Fatalf("GET /page/stream = %v", err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		res.Body.Close()
		r.t.Fatalf("GET /page/stream = %s, want 200", res.Status)
	}
	s := &stream{t: r.t, res: res, msgs: make(chan sse, 100), done: make(chan error, 1), cancel: cancel}
	go func() { s.done <- readSSE(res.Body, s.msgs) }()
	r.t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	s.res.Body.Close()
	<-s.done
}

// readSSE parses the text/event-stream format until the body ends.
func readSSE(body io.Reader, out chan<- sse) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cur sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" || cur.data != "" {
				out <- cur
			}
			cur = sse{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data += strings.TrimPrefix(line, "data: ")
		}
	}
	close(out)
	return sc.Err()
}

// next returns the next message, which must be called name.
func (s *stream) next(name string, v any) {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			s.t.Fatalf("stream ended, want a %q message", name)
		}
		if m.name != name {
			s.t.Fatalf("stream message %q (%s), want %q", m.name, m.data, name)
		}
		if err := json.Unmarshal([]byte(m.data), v); err != nil {
			s.t.Fatalf("%q message %s: %v", name, m.data, err)
		}
	case <-time.After(5 * time.Second):
		s.t.Fatalf("no %q message within 5s", name)
	}
}

// ended waits for the stream to end.
func (s *stream) ended() bool {
	select {
	case _, ok := <-s.msgs:
		for ok {
			_, ok = <-s.msgs
		}
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

type initMsg struct {
	DockID  string            `json:"dock_id"`
	Map     Map               `json:"map"`
	State   stateMsg          `json:"state"`
	Vehicle vehicleMsg        `json:"vehicle"`
	Events  []json.RawMessage `json:"events"`
}

func TestIndexShowsDockIDWithNothingFromOutside(t *testing.T) {
	r := newRig(t, nil)
	res, body := r.get("/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %s %s, want 200 text/html", res.Status, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<title>Dock d-7</title>`, `<span id="dock-id">d-7</span>`, `src="/page/page.js"`, `href="/page/page.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / has no %s", want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET / Content-Security-Policy = %q, want everything but this server refused", csp)
	}
	// Works offline: nothing the page, its script or its style names may be
	// fetched from another host (the SVG namespace is a name, not a fetch).
	for _, path := range []string{"/", "/page/page.js", "/page/page.css"} {
		res, body := r.get(path)
		if res.StatusCode != 200 {
			t.Errorf("GET %s = %s, want 200", path, res.Status)
		}
		rest := strings.ReplaceAll(body, `"http://www.w3.org/2000/svg"`, "")
		for _, bad := range []string{"http://", "https://", "//fonts.", "@import", "url("} {
			if strings.Contains(rest, bad) {
				t.Errorf("GET %s contains %q: the page must load nothing from outside", path, bad)
			}
		}
	}
	if res, _ := r.get("/nothing"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing = %s, want 404", res.Status)
	}
}

func TestIndexEscapesDockID(t *testing.T) {
	r := newRig(t, func(o *Options) { o.DockID = `<b>"x"` })
	_, body := r.get("/")
	if strings.Contains(body, `<b>"x"`) || !strings.Contains(body, `&lt;b&gt;&#34;x&#34;`) {
		t.Errorf("GET / shows the dock id unescaped:\n%s", body)
	}
}

func TestNewPageNeedsDockIDAndSources(t *testing.T) {
	st := newFakeState(idleState())
	veh := func() dock.VehicleState { return dock.VehicleState{} }
	if _, err := NewPage(Options{}, st, veh); err == nil || !strings.Contains(err.Error(), "no dock id") {
		t.Errorf("NewPage(no id) = %v, want an error naming the dock id", err)
	}
	if _, err := NewPage(Options{DockID: "d"}, nil, veh); err == nil {
		t.Errorf("NewPage(no state) = nil error, want one")
	}
}

func TestViewJSONHasEverything(t *testing.T) {
	r := newRig(t, nil)
	r.state.set(func(s *dock.State) {
		s.EStopLatched = true
		s.Sortie = &dock.SortieRef{ID: "s-1", Kind: dock.KindDispatch, Phase: dock.PhaseAirborne,
			Target: &dock.SortieTarget{Lat: 53.56, Lon: 10.0, AltM: 60}}
	})
	events := r.page.EventSink(r.sink)
	if err := events.Emit(dock.Event{Type: dock.EventEStop, Time: t0, Fields: map[string]any{"pressed": true, "latched": true}}); err != nil {
		t.Fatalf("Emit = %v", err)
	}
	res, body := r.get("/page/view.json")
	if res.StatusCode != 200 {
		t.Fatalf("GET /page/view.json = %s", res.Status)
	}
	var v initMsg
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("view.json %s: %v", body, err)
	}
	if v.DockID != "d-7" || v.Map.GeofenceRadiusM != 5000 || len(v.Map.Routes) != 1 || v.Map.Routes[0].Name != "old-town" {
		t.Errorf("view dock %q map %+v, want d-7 with the geofence and route old-town", v.DockID, v.Map)
	}
	if v.State.Ready || len(v.State.Blocking) == 0 || v.State.Blocking[0].Check != "estop_latched" {
		t.Errorf("view readiness = %v %+v, want not ready, blocked by estop_latched", v.State.Ready, v.State.Blocking)
	}
	if tg := v.State.Dock.Sortie.Target; tg == nil || tg.Lat != 53.56 {
		t.Errorf("view sortie target = %+v, want 53.56, 10.0", tg)
	}
	if v.Vehicle.Lat != 53.5511 || v.Vehicle.Landed != "on_ground" || v.Vehicle.BatteryPct == nil || *v.Vehicle.BatteryPct != 96 {
		t.Errorf("view vehicle = %+v, want the vehicle on the pad at 96 %%", v.Vehicle)
	}
	if len(v.Events) != 1 || !strings.Contains(string(v.Events[0]), `"type":"estop"`) || !strings.Contains(string(v.Events[0]), `"ts":"2026-12-05T19:00:00.000Z"`) {
		t.Errorf("view events = %s, want the estop event with its ts", v.Events)
	}
}

func TestEventsKeepTheLast50AndOnlyStoredOnes(t *testing.T) {
	r := newRig(t, nil)
	events := r.page.EventSink(r.sink)
	for i := range 60 {
		if err := events.Emit(dock.Event{Type: dock.EventCommandProgress, Time: t0, Fields: map[string]any{"n": i}}); err != nil {
			t.Fatalf("Emit = %v", err)
		}
	}
	r.sink.err = errors.New("outbox full")
	if err := events.Emit(dock.Event{Type: dock.EventFault, Time: t0, Fields: map[string]any{"n": 99}}); err == nil {
		t.Fatalf("Emit with a failing outbox = nil, want its error")
	}
	_, body := r.get("/page/view.json")
	var v initMsg
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Events) != MaxEvents {
		t.Fatalf("view has %d events, want %d", len(v.Events), MaxEvents)
	}
	var first, last struct{ N int }
	_ = json.Unmarshal(v.Events[0], &first)
	_ = json.Unmarshal(v.Events[MaxEvents-1], &last)
	if first.N != 10 || last.N != 59 {
		t.Errorf("view events n = %d..%d, want 10..59 (the newest 50; the one the outbox refused not shown)", first.N, last.N)
	}
}

func TestStreamSendsInitThenChanges(t *testing.T) {
	r := newRig(t, nil)
	events := r.page.EventSink(r.sink)
	if err := events.Emit(dock.Event{Type: dock.EventSelfTest, Time: t0, Fields: map[string]any{"ok": true}}); err != nil {
		t.Fatal(err)
	}
	r.run()
	s := r.open()
	var in initMsg
	s.next("init", &in)
	if in.DockID != "d-7" || in.State.Dock.Lid != dock.LidClosed || !in.State.Ready || len(in.Events) != 1 {
		t.Fatalf("init = dock %q lid %q ready %v %d events, want d-7, closed, ready, the selftest event", in.DockID, in.State.Dock.Lid, in.State.Ready, len(in.Events))
	}

	r.state.set(func(s *dock.State) { s.Lid = dock.LidOpening })
	var st stateMsg
	s.next("state", &st)
	if st.Dock.Lid != dock.LidOpening {
		t.Errorf("state message lid = %q, want opening", st.Dock.Lid)
	}

	if err := events.Emit(dock.Event{Type: dock.EventFault, Time: t0.Add(time.Second),
		Fields: map[string]any{"code": "lid.timeout", "message": "lid: open timeout after 25s"}}); err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	s.next("event", &ev)
	if ev["type"] != "fault" || ev["code"] != "lid.timeout" || ev["ts"] != "2026-12-05T19:00:01.000Z" {
		t.Errorf("event message = %v, want the lid.timeout fault", ev)
	}

	// The vehicle goes out on Run's ticker: Run's and the stream's
	// keepalive tickers are the two waiters.
	if err := r.clock.BlockUntilContext(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	r.vmu.Lock()
	r.v.Lat, r.v.Armed = 53.56, true
	r.vmu.Unlock()
	r.clock.Advance(time.Second)
	var vm vehicleMsg
	s.next("vehicle", &vm)
	if vm.Lat != 53.56 || !vm.Armed || vm.TS != "2026-12-05T19:00:01.000Z" {
		t.Errorf("vehicle message = %+v, want lat 53.56 armed at 19:00:01", vm)
	}
}

func TestStreamSurvivesTheServersWriteTimeout(t *testing.T) {
	r := newRig(t, nil)
	r.run()
	// The metrics server's WriteTimeout (10 s there) ends any response that
	// outlives it unless the stream lifts it.
	srv := httptest.NewUnstartedServer(r.page.Handler())
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	r.srv = srv
	s := r.open()
	var in initMsg
	s.next("init", &in)
	time.Sleep(300 * time.Millisecond) // real time must pass the server's WriteTimeout: that is what is tested
	r.state.set(func(s *dock.State) { s.Lid = dock.LidOpen })
	var st stateMsg
	s.next("state", &st)
	if st.Dock.Lid != dock.LidOpen {
		t.Errorf("state after the write timeout: lid %q, want open", st.Dock.Lid)
	}
}

func TestSlowClientIsDroppedWithoutBlocking(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ClientQueue = 4 })
	r.run()
	// A client that sends its request and never reads: once the socket
	// buffers are full the page's write blocks, its queue fills, and the
	// page must drop it rather than hold up the events.
	conn, err := net.Dial("tcp", r.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if _, err := fmt.Fprintf(conn, "GET /page/stream HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stalled client joined", func() bool { return r.page.Clients() == 1 })
	healthy := r.open()
	var in initMsg
	healthy.next("init", &in)

	events := r.page.EventSink(r.sink)
	big := strings.Repeat("x", 256<<10)
	for i := 0; r.page.Dropped() == 0; i++ {
		if i == 400 {
			t.Fatalf("100 MB of events sent and the stalled client still not dropped")
		}
		start := time.Now()
		if err := events.Emit(dock.Event{Type: dock.EventCommandProgress, Time: t0, Fields: map[string]any{"pad": big}}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Emit took %v with a stalled page open, want no wait", d)
		}
		// The healthy page reads on; draining it here keeps it from
		// falling behind as well.
		var ev map[string]any
		healthy.next("event", &ev)
	}
	waitFor(t, "the stalled stream ended", func() bool { return r.page.Clients() == 1 })
	if r.page.Dropped() != 1 {
		t.Errorf("Dropped() = %d, want 1", r.page.Dropped())
	}
	r.state.set(func(s *dock.State) { s.Lid = dock.LidOpening })
	var st stateMsg
	healthy.next("state", &st)
	if st.Dock.Lid != dock.LidOpening {
		t.Errorf("healthy page after the drop: lid %q, want opening", st.Dock.Lid)
	}
}

func TestTooManyPages(t *testing.T) {
	r := newRig(t, func(o *Options) { o.MaxClients = 1 })
	r.open()
	res, body := r.get("/page/stream")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many dock pages open") || res.Header.Get("Retry-After") == "" {
		t.Errorf("second stream = %s %q Retry-After %q, want 503 naming the limit", res.Status, body, res.Header.Get("Retry-After"))
	}
}

func TestRunEndEndsStreams(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.page.Run(ctx) }()
	waitFor(t, "Run subscribed", func() bool { return r.state.subscribers() == 1 })
	s := r.open()
	var in initMsg
	s.next("init", &in)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if !s.ended() {
		t.Fatalf("stream still open 5s after Run ended")
	}
	if r.state.subscribers() != 0 {
		t.Errorf("state subscriptions after Run = %d, want 0", r.state.subscribers())
	}
	if res, _ := r.get("/page/stream"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("stream after Run = %s, want 503", res.Status)
	}
}

func TestKeepaliveOnAnIdleStream(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Keepalive = 15 * time.Second })
	// Read the raw bytes: the keepalive is a comment, which the parser skips.
	res, err := http.Get(r.srv.URL + "/page/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	readUntil := func(want string) {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended before %q: %v", want, err)
			}
			if strings.HasPrefix(line, want) {
				return
			}
		}
	}
	readUntil("event: init")
	if err := r.clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(15 * time.Second)
	readUntil(": keepalive")
}
