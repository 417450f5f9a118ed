package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// serve runs a Server for m on a free port and returns its base URL; the
// server is stopped (and Run's result checked) at cleanup.
func serve(t *testing.T, m *Metrics, health func() error) string {
	t.Helper()
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0", Health: health, Logger: testLogger(t)}, m)
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	return runServer(t, s)
}

// runServer runs s and returns its base URL; it is stopped (and Run's
// result checked) at cleanup.
func runServer(t *testing.T, s *Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = s.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("Run() = %v, want nil after cancel", runErr)
		}
	})
	return "http://" + s.Addr().String()
}

// get fetches url over real HTTP and returns status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// sample returns the value text of the exposition line "series value", or
// "" when the series is absent.
func sample(body, series string) string {
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func TestScrape(t *testing.T) {
	var link atomic.Value
	link.Store(LinkStats{Up: true, LossPct: 2.5, BadCRC: 7})
	state := dock.State{
		Weather: dock.Weather{WindMPS: 4.2, GustMPS: 6.1, TempC: -3.5, Rain: true, At: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)},
		EStop:   true, Fault: "lid: motion timed out after 20s",
		Vehicle: dock.VehicleSummary{Link: true, BatteryPct: 87},
	}
	m, err := New(Options{
		Version: "1.4.0",
		Link:    func() LinkStats { return link.Load().(LinkStats) },
		MQTT: func() MQTTStats {
			return MQTTStats{Connected: true, ConnectionLosses: 3, OutboxDepth: 42, EventsPublished: 1000, EventsDropped: 10, CommandsRejected: 5}
		},
		State:   func() dock.State { return state },
		Runtime: true,
	})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	for range 3 {
		m.FrameIn("HEARTBEAT")
	}
	m.FrameIn("GLOBAL_POSITION_INT")
	m.FrameOut("COMMAND_LONG")
	m.Command("dispatch", "")
	m.Command("dispatch", contract.CodePreconditionFailed)
	m.Command("dispatch", contract.CodePreconditionFailed)
	m.Sortie("complete")
	m.LaunchLatency(12400 * time.Millisecond)
	m.LaunchLatency(9 * time.Second)
	m.ETAError(0.12)
	m.Motion("lid", "ok")
	m.Motion("lid", "timeout")
	m.Fault("fault")
	m.InboundRefused("gcs:qgc", "interlock")
	m.InboundRefused("gcs:qgc", "interlock")
	m.InboundRefused("mqtt", "not_allowed")
	url := serve(t, m, nil)

	code, body := get(t, url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200\n%s", code, body)
	}
	want := map[string]string{
		`dock_agent_build_info{version="1.4.0"}`:                                        "1",
		`dock_agent_mavlink_frames_received_total{message="HEARTBEAT"}`:                 "3",
		`dock_agent_mavlink_frames_received_total{message="GLOBAL_POSITION_INT"}`:       "1",
		`dock_agent_mavlink_frames_sent_total{message="COMMAND_LONG"}`:                  "1",
		`dock_agent_mavlink_bad_crc_total`:                                              "7",
		`dock_agent_mavlink_link_loss_ratio`:                                            "0.025",
		`dock_agent_vehicle_link_up`:                                                    "1",
		`dock_agent_mqtt_connected`:                                                     "1",
		`dock_agent_mqtt_connection_losses_total`:                                       "3",
		`dock_agent_outbox_depth`:                                                       "42",
		`dock_agent_events_published_total`:                                             "1000",
		`dock_agent_events_dropped_total`:                                               "10",
		`dock_agent_commands_rejected_total`:                                            "5",
		`dock_agent_commands_total{command="dispatch",result="ok"}`:                     "1",
		`dock_agent_commands_total{command="dispatch",result="precondition_failed"}`:    "2",
		`dock_agent_sorties_total{outcome="complete"}`:                                  "1",
		`dock_agent_launch_latency_seconds_count`:                                       "2",
		`dock_agent_launch_latency_seconds_sum`:                                         "21.4",
		`dock_agent_launch_latency_seconds_bucket{le="10"}`:                             "1",
		`dock_agent_launch_latency_seconds_bucket{le="12"}`:                             "1",
		`dock_agent_launch_latency_seconds_bucket{le="13"}`:                             "2",
		`dock_agent_sortie_eta_error_ratio_bucket{le="0.05"}`:                           "0",
		`dock_agent_sortie_eta_error_ratio_bucket{le="0.15"}`:                           "1",
		`dock_agent_actuator_motions_total{actuator="lid",result="ok"}`:                 "1",
		`dock_agent_actuator_motions_total{actuator="lid",result="timeout"}`:            "1",
		`dock_agent_faults_total{kind="fault"}`:                                         "1",
		`dock_agent_mavlink_inbound_refused_total{reason="interlock",source="gcs:qgc"}`: "2",
		`dock_agent_mavlink_inbound_refused_total{reason="not_allowed",source="mqtt"}`:  "1",
		`dock_agent_weather_wind_meters_per_second`:                                     "4.2",
		`dock_agent_weather_gust_meters_per_second`:                                     "6.1",
		`dock_agent_weather_temp_celsius`:                                               "-3.5",
		`dock_agent_weather_rain`:                                                       "1",
		`dock_agent_weather_stale`:                                                      "0",
		`dock_agent_estop`:                                                              "1",
		`dock_agent_fault`:                                                              "1",
		`dock_agent_vehicle_battery_ratio`:                                              "0.87",
		`dock_agent_dock_ready`:                                                         "0",
		`dock_agent_dock_ready_blocked{check="estop"}`:                                  "1",
		`dock_agent_dock_ready_blocked{check="estop_latched"}`:                          "0",
		`dock_agent_dock_ready_blocked{check="fault"}`:                                  "1",
		`dock_agent_dock_ready_blocked{check="mains"}`:                                  "1",
		`dock_agent_dock_ready_blocked{check="vehicle_link"}`:                           "0",
	}
	for series, v := range want {
		if got := sample(body, series); got != v {
			t.Errorf("scrape: %s = %q, want %q", series, got, v)
		}
	}
	if sample(body, "go_goroutines") == "" {
		t.Errorf("scrape: go_goroutines missing with Runtime on")
	}

	// Pull-style values are read at every scrape.
	link.Store(LinkStats{Up: false, LossPct: 100, BadCRC: 9})
	_, body = get(t, url+"/metrics")
	for series, v := range map[string]string{"dock_agent_vehicle_link_up": "0", "dock_agent_mavlink_link_loss_ratio": "1", "dock_agent_mavlink_bad_crc_total": "9"} {
		if got := sample(body, series); got != v {
			t.Errorf("second scrape: %s = %q, want %q", series, got, v)
		}
	}
}

// TestStaleWeatherAbsent: a stale reading is absent, never zero wind.
func TestStaleWeatherAbsent(t *testing.T) {
	m, err := New(Options{State: func() dock.State {
		return dock.State{Weather: dock.Weather{WindMPS: 0, Stale: true, At: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)}}
	}})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	_, body := get(t, serve(t, m, nil)+"/metrics")
	for _, series := range []string{"dock_agent_weather_wind_meters_per_second", "dock_agent_weather_gust_meters_per_second", "dock_agent_weather_temp_celsius", "dock_agent_vehicle_battery_ratio"} {
		if got := sample(body, series); got != "" {
			t.Errorf("stale weather: %s = %q, want absent", series, got)
		}
	}
	if got := sample(body, "dock_agent_weather_stale"); got != "1" {
		t.Errorf("dock_agent_weather_stale = %q, want 1", got)
	}
	// Sources left nil leave their metrics out.
	if got := sample(body, "dock_agent_mqtt_connected"); got != "" {
		t.Errorf("dock_agent_mqtt_connected = %q without an MQTT source, want absent", got)
	}
}

func TestHealthz(t *testing.T) {
	var unhealthy atomic.Pointer[error]
	health := func() error {
		if p := unhealthy.Load(); p != nil {
			return *p
		}
		return nil
	}
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	url := serve(t, m, health)
	if code, body := get(t, url+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("healthy: GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}
	reason := errors.New("controller loop silent for 12s")
	unhealthy.Store(&reason)
	if code, body := get(t, url+"/healthz"); code != http.StatusServiceUnavailable || body != "controller loop silent for 12s\n" {
		t.Errorf("unhealthy: GET /healthz = %d %q, want 503 with the reason", code, body)
	}
	unhealthy.Store(nil)
	if code, _ := get(t, url+"/healthz"); code != http.StatusOK {
		t.Errorf("recovered: GET /healthz = %d, want 200", code)
	}
	if code, _ := get(t, url+"/nothing"); code != http.StatusNotFound {
		t.Errorf("GET /nothing = %d, want 404", code)
	}
}

// TestRunShutdown: cancelling Run closes the port and returns nil.
func TestRunShutdown(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0", Logger: testLogger(t)}, m)
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	addr := s.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if code, _ := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz = %d, want 200", code)
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() after cancel = %v, want nil", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("dial %s after Run returned: connected, want refused", addr)
	}
}

// TestPageBesideMetrics: with a Page handler the server hands it every
// path but its own three; without one those paths are 404.
func TestPageBesideMetrics(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "page %s", r.URL.Path) })
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0", Logger: testLogger(t), Page: page}, m)
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	base := runServer(t, s)
	for path, want := range map[string]string{"/": "page /", "/page/stream": "page /page/stream", "/healthz": "ok\n"} {
		if code, body := get(t, base+path); code != http.StatusOK || body != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, code, body, want)
		}
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "dock_agent_") {
		t.Errorf("GET /metrics with a page = %d, want 200 with the metrics", code)
	}
	if code, _ := get(t, serve(t, m, nil)+"/"); code != http.StatusNotFound {
		t.Errorf("GET / without a page = %d, want 404", code)
	}
}

func TestListenTaken(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0"}, m)
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	defer s.Close()
	_, err = NewServer(ServerOptions{Listen: s.Addr().String()}, m)
	if err == nil || !strings.Contains(err.Error(), "listen for metrics on "+s.Addr().String()) {
		t.Errorf("NewServer() on a taken port = %v, want an error naming the address", err)
	}
	if _, err := NewServer(ServerOptions{}, m); err == nil {
		t.Errorf("NewServer() without Listen = nil error, want one")
	}
}

type recordingSink struct{ got []dock.Event }

func (r *recordingSink) Emit(e dock.Event) error {
	r.got = append(r.got, e)
	if e.Type == dock.EventStartup {
		return errors.New("disk full")
	}
	return nil
}

// TestWrappers: the event sink wrapper passes everything on and counts
// what the dock reports; Command counts an executed command (telemetry
// calls it once per command through Options.CommandDone).
func TestWrappers(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	next := &recordingSink{}
	sink := m.EventSink(next)
	events := []dock.Event{
		{Type: dock.EventSortieReport, Fields: map[string]any{"outcome": "complete", "launch_latency_s": 12.5}},
		{Type: dock.EventSortieReport, Fields: map[string]any{"outcome": "aborted"}},
		{Type: dock.EventFault, Fields: map[string]any{"fault": "lid: open timeout after 25s", "code": "lid.timeout"}},
		{Type: dock.EventFault, Fields: map[string]any{"fault": "lid: open timeout after 25s", "code": "lid.timeout", "count": 2}},
		{Type: dock.EventFault, Fields: map[string]any{"fault": "made up", "code": "lid.on_fire"}},
		{Type: dock.EventEStop, Fields: map[string]any{"pressed": true, "latched": true}},
		{Type: dock.EventEStop, Fields: map[string]any{"pressed": false, "latched": true}},
	}
	for _, e := range events {
		if err := sink.Emit(e); err != nil {
			t.Fatalf("Emit(%s) = %v", e.Type, err)
		}
	}
	if err := sink.Emit(dock.Event{Type: dock.EventStartup}); err == nil || err.Error() != "disk full" {
		t.Errorf("Emit() = %v, want the next sink's error", err)
	}
	if len(next.got) != len(events)+1 {
		t.Errorf("next sink got %d events, want %d", len(next.got), len(events)+1)
	}
	m.Command(contract.CmdLid, contract.CodePreconditionFailed)
	_, body := get(t, serve(t, m, nil)+"/metrics")
	for series, v := range map[string]string{
		`dock_agent_sorties_total{outcome="complete"}`:                          "1",
		`dock_agent_sorties_total{outcome="aborted"}`:                           "1",
		`dock_agent_launch_latency_seconds_count`:                               "1",
		`dock_agent_launch_latency_seconds_sum`:                                 "12.5",
		`dock_agent_faults_total{kind="fault"}`:                                 "3",
		`dock_agent_faults_total{kind="estop"}`:                                 "1",
		`dock_agent_faults_by_code_total{code="lid.timeout"}`:                   "2",
		`dock_agent_faults_by_code_total{code="arms.timeout"}`:                  "0",
		`dock_agent_faults_by_code_total{code="lid.on_fire"}`:                   "",
		`dock_agent_commands_total{command="lid",result="precondition_failed"}`: "1",
	} {
		if got := sample(body, series); got != v {
			t.Errorf("%s = %q, want %q", series, got, v)
		}
	}
}

// BenchmarkFrameIn: counting a frame on the per-frame path.
func BenchmarkFrameIn(b *testing.B) {
	m, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"HEARTBEAT", "GLOBAL_POSITION_INT", "ATTITUDE", "VFR_HUD", "SYS_STATUS", "GPS_RAW_INT"}
	for _, n := range names {
		m.FrameIn(n)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.FrameIn(names[i%len(names)])
		i++
	}
}

func TestFrameInAllocs(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	m.FrameIn("HEARTBEAT")
	if n := testing.AllocsPerRun(1000, func() { m.FrameIn("HEARTBEAT") }); n != 0 {
		t.Errorf("FrameIn() allocs = %v, want 0", n)
	}
}
