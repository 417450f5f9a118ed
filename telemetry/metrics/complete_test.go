package metrics

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/fault"
)

// TestLabelledCountersAtZero: every known series of the labelled counters
// is scraped at 0 before anything happened, so rate() and increase()
// alerts see the first event.
func TestLabelledCountersAtZero(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	_, body := get(t, serve(t, m, nil)+"/metrics")
	var want []string
	for _, c := range commandNames() {
		for _, r := range commandResults() {
			want = append(want, `dock_agent_commands_total{command="`+string(c)+`",result="`+r+`"}`)
		}
	}
	for _, o := range []string{"complete", "not_reached", "late", "landed_away", "aborted", "failed", "dry_run_ok"} {
		want = append(want, `dock_agent_sorties_total{outcome="`+o+`"}`)
	}
	for _, a := range []string{"lid", "arms"} {
		for _, r := range []string{"ok", "failed", "canceled", "timeout"} {
			want = append(want, `dock_agent_actuator_motions_total{actuator="`+a+`",result="`+r+`"}`)
		}
	}
	want = append(want, `dock_agent_faults_total{kind="fault"}`, `dock_agent_faults_total{kind="estop"}`)
	for _, c := range fault.Codes() {
		want = append(want, `dock_agent_faults_by_code_total{code="`+string(c)+`"}`)
	}
	if len(want) != 19*11+7+8+2+14 {
		t.Fatalf("want %d series, the lists changed: 19 commands x 11 results + 7 outcomes + 8 motions + 2 fault kinds + 14 fault codes", len(want))
	}
	for _, series := range want {
		if got := sample(body, series); got != "0" {
			t.Errorf("at start-up: %s = %q, want 0", series, got)
		}
	}
}

// TestLabelListsMatchDock: the zero series name every command, error code
// and sortie outcome the dock defines, read from the source so that a new
// constant fails here until it is added to labels.go.
func TestLabelListsMatchDock(t *testing.T) {
	consts := func(file string, keep func(name, typ string) bool) []string {
		t.Helper()
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typ := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typ = id.Name
				}
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING || !keep(n.Name, typ) {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					vals = append(vals, v)
				}
			}
		}
		slices.Sort(vals)
		return vals
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

	var names []string
	for _, c := range commandNames() {
		names = append(names, string(c))
	}
	if diff := cmp.Diff(consts("../contract/command.go", func(_, typ string) bool { return typ == "Command" }), sorted(names)); diff != "" {
		t.Errorf("commandNames() against contract.Cmd* (-contract +labels.go):\n%s", diff)
	}
	codes := append(consts("../contract/reply.go", func(_, typ string) bool { return typ == "Code" }), "ok")
	if diff := cmp.Diff(sorted(codes), sorted(commandResults())); diff != "" {
		t.Errorf("commandResults() against ok + contract.Code* (-contract +labels.go):\n%s", diff)
	}
	if diff := cmp.Diff(consts("../../dock/fault/fault.go", func(_, typ string) bool { return typ == "Code" }), sorted(faultCodes())); diff != "" {
		t.Errorf("faultCodes() against the fault.Code constants (-dock/fault +labels.go):\n%s", diff)
	}
	outcomes := consts("../../dock/sortie/record.go", func(name, _ string) bool { return strings.HasPrefix(name, "Outcome") })
	if diff := cmp.Diff(outcomes, sorted(sortieOutcomes())); diff != "" {
		t.Errorf("sortieOutcomes() against sortie.Outcome* (-dock/sortie +labels.go):\n%s", diff)
	}
}

func TestModbusAndForwardCounters(t *testing.T) {
	m, err := New(Options{
		Modbus: func() []ModbusStats {
			return []ModbusStats{
				{Bus: "rs485", Unit: 1, Requests: 120, Retries: 4, Timeouts: 3, CRCErrors: 1},
				{Bus: "rs485", Unit: 2, Requests: 60, Exceptions: 2},
				{Bus: "weather", Unit: 1, Requests: 10, PortErrors: 1, Frames: 5},
			}
		},
		Forward: func() []ForwardStats {
			return []ForwardStats{{Endpoint: "udp://10.0.0.5:14550", FramesOut: 900, FramesIn: 40, BytesOut: 27000, BytesIn: 1200, Filtered: 3, WriteErrors: 2, Clients: 1}}
		},
	})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	_, body := get(t, serve(t, m, nil)+"/metrics")
	for series, v := range map[string]string{
		`dock_agent_modbus_requests_total{bus="rs485",unit="1"}`:                            "120",
		`dock_agent_modbus_retries_total{bus="rs485",unit="1"}`:                             "4",
		`dock_agent_modbus_timeouts_total{bus="rs485",unit="1"}`:                            "3",
		`dock_agent_modbus_crc_errors_total{bus="rs485",unit="1"}`:                          "1",
		`dock_agent_modbus_exceptions_total{bus="rs485",unit="1"}`:                          "0",
		`dock_agent_modbus_exceptions_total{bus="rs485",unit="2"}`:                          "2",
		`dock_agent_modbus_frame_errors_total{bus="weather",unit="1"}`:                      "5",
		`dock_agent_modbus_port_errors_total{bus="weather",unit="1"}`:                       "1",
		`dock_agent_mavlink_forward_frames_sent_total{endpoint="udp://10.0.0.5:14550"}`:     "900",
		`dock_agent_mavlink_forward_frames_received_total{endpoint="udp://10.0.0.5:14550"}`: "40",
		`dock_agent_mavlink_forward_sent_bytes_total{endpoint="udp://10.0.0.5:14550"}`:      "27000",
		`dock_agent_mavlink_forward_received_bytes_total{endpoint="udp://10.0.0.5:14550"}`:  "1200",
		`dock_agent_mavlink_forward_filtered_total{endpoint="udp://10.0.0.5:14550"}`:        "3",
		`dock_agent_mavlink_forward_write_errors_total{endpoint="udp://10.0.0.5:14550"}`:    "2",
		`dock_agent_mavlink_forward_clients{endpoint="udp://10.0.0.5:14550"}`:               "1",
	} {
		if got := sample(body, series); got != v {
			t.Errorf("%s = %q, want %q", series, got, v)
		}
	}
}

// readyState is a dock that could launch now.
func readyState() dock.State {
	return dock.State{Power: true, Mode: dock.ModeAuto, Vehicle: dock.VehicleSummary{Link: true, Landed: true}}
}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name   string
		change func(*dock.State)
		want   []string
	}{
		{"ready", func(*dock.State) {}, nil},
		{"busy flying is still ready", func(s *dock.State) { s.Sortie = &dock.SortieRef{ID: "s-1"} }, nil},
		{"e-stop pressed and latched", func(s *dock.State) { s.EStop, s.EStopLatched = true, true }, []string{"estop", "estop_latched"}},
		{"fault", func(s *dock.State) { s.Fault = "lid: open timeout after 20s" }, []string{"fault"}},
		{"mains lost", func(s *dock.State) { s.Power = false }, []string{"mains"}},
		{"maintenance", func(s *dock.State) { s.Mode = dock.ModeMaintenance }, []string{"mode"}},
		{"state not read", func(s *dock.State) { *s = dock.State{} }, []string{"mains", "mode", "vehicle_link"}},
		{"vehicle silent", func(s *dock.State) { s.Vehicle.Link = false }, []string{"vehicle_link"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := readyState()
			tt.change(&s)
			var got []string
			for _, b := range Readiness(s) {
				if b.Detail == "" {
					t.Errorf("blocker %s has no detail", b.Check)
				}
				got = append(got, b.Check)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Readiness(%+v) checks (-want +got):\n%s", s, diff)
			}
		})
	}
}

func TestReadyzAndGauge(t *testing.T) {
	var state atomic.Pointer[dock.State]
	rs := readyState()
	state.Store(&rs)
	var healthy atomic.Bool
	healthy.Store(true)
	read := func() dock.State { return *state.Load() }
	m, err := New(Options{State: read})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0", Logger: testLogger(t),
		Health: func() error {
			if healthy.Load() {
				return nil
			}
			return errString("dock controller loop not running")
		},
		Ready: func() []Blocker { return Readiness(read()) },
	}, m)
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	url := runServer(t, s)

	readyz := func() (int, readiness) {
		t.Helper()
		code, body := get(t, url+"/readyz")
		var r readiness
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("GET /readyz body %q: %v", body, err)
		}
		return code, r
	}
	if code, r := readyz(); code != http.StatusOK || !r.Ready || r.Blocking == nil || len(r.Blocking) != 0 {
		t.Errorf("ready dock: GET /readyz = %d %+v, want 200 ready with an empty list", code, r)
	}
	if _, body := get(t, url+"/metrics"); sample(body, "dock_agent_dock_ready") != "1" {
		t.Errorf("ready dock: dock_agent_dock_ready = %q, want 1", sample(body, "dock_agent_dock_ready"))
	}

	blocked := readyState()
	blocked.Power = false
	blocked.Fault = "inputs: I/O module unit 1 not answering"
	state.Store(&blocked)
	healthy.Store(false)
	code, r := readyz()
	want := readiness{Ready: false, Blocking: []Blocker{
		{"health", "dock controller loop not running"},
		{"fault", "inputs: I/O module unit 1 not answering"},
		{"mains", "mains power lost"},
	}}
	if code != http.StatusServiceUnavailable {
		t.Errorf("blocked dock: GET /readyz = %d, want 503", code)
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("blocked dock: /readyz body (-want +got):\n%s", diff)
	}
	_, body := get(t, url+"/metrics")
	for series, v := range map[string]string{
		"dock_agent_dock_ready":                               "0",
		`dock_agent_dock_ready_blocked{check="fault"}`:        "1",
		`dock_agent_dock_ready_blocked{check="mains"}`:        "1",
		`dock_agent_dock_ready_blocked{check="estop"}`:        "0",
		`dock_agent_dock_ready_blocked{check="mode"}`:         "0",
		`dock_agent_dock_ready_blocked{check="vehicle_link"}`: "0",
	} {
		if got := sample(body, series); got != v {
			t.Errorf("blocked dock: %s = %q, want %q", series, got, v)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// fullMetrics has every source set, as the agent wires it.
func fullMetrics(t *testing.T) *Metrics {
	t.Helper()
	m, err := New(Options{
		Version: "1.4.0",
		Link:    func() LinkStats { return LinkStats{Up: true, LossPct: 2.5, BadCRC: 7} },
		MQTT:    func() MQTTStats { return MQTTStats{Connected: true, OutboxDepth: 3} },
		State: func() dock.State {
			s := readyState()
			s.Weather = dock.Weather{WindMPS: 4.2, GustMPS: 6.1, TempC: -3.5, At: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)}
			s.Vehicle.BatteryPct = 87
			return s
		},
		Modbus:  func() []ModbusStats { return []ModbusStats{{Bus: "rs485", Unit: 1, Requests: 5}} },
		Forward: func() []ForwardStats { return []ForwardStats{{Endpoint: "udp://10.0.0.5:14550"}} },
		Runtime: true,
	})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	m.FrameIn("HEARTBEAT")
	m.LaunchLatency(12 * time.Second)
	m.ETAError(0.1)
	return m
}

// TestLint runs the checks of `promtool check metrics` (client_golang's
// promlint, ported in lint_test.go) on every metric the agent exports, as
// a real /metrics scrape has them: names, units, help, counters ending
// _total.
func TestLint(t *testing.T) {
	_, body := get(t, serve(t, fullMetrics(t), nil)+"/metrics")
	fams, err := parseExposition(body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, p := range lint(fams) {
		t.Errorf("promlint: %s", p)
	}
}

// TestPromtool runs `promtool check metrics` on a real /metrics scrape
// when promtool is installed (Debian's package prometheus).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt install prometheus): `promtool check metrics` not run; TestLint runs the same linter in-process")
	}
	_, body := get(t, serve(t, fullMetrics(t), nil)+"/metrics")
	cmd := exec.CommandContext(t.Context(), promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// TestDocsNameEveryMetric: docs/operations.md lists every metric this
// package exports, so a new one cannot go undocumented.
func TestDocsNameEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := fullMetrics(t).Registry().Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	for _, mf := range mfs {
		name, ours := strings.CutPrefix(mf.Name, "dock_agent_")
		if ours && !bytes.Contains(doc, []byte("`"+name+"`")) {
			t.Errorf("docs/operations.md does not name %s", mf.Name)
		}
	}
}

// readyzJQ is the docs' filter for /readyz; the doc must hold it verbatim.
const readyzJQ = `.blocking[] | "\(.check): \(.detail)"`

func TestDocsReadyzFilter(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("jq -r '"+readyzJQ+"'")) {
		t.Errorf("docs/operations.md lacks jq -r '%s'", readyzJQ)
	}
	jq, err := exec.LookPath("/usr/bin/jq")
	if err != nil {
		t.Skip("jq not installed (apt install jq): the docs' /readyz filter is not run")
	}
	m, err := New(Options{})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0", Logger: testLogger(t),
		Ready: func() []Blocker {
			return Readiness(dock.State{Mode: dock.ModeMaintenance, Vehicle: dock.VehicleSummary{Link: true}})
		}}, m)
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	_, body := get(t, runServer(t, s)+"/readyz")
	cmd := exec.CommandContext(t.Context(), jq, "-r", readyzJQ)
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq -r '%s' on %s: %v", readyzJQ, body, err)
	}
	if want := "mains: mains power lost\nmode: mode is maintenance, not auto\n"; string(out) != want {
		t.Errorf("jq -r '%s' on %s printed %q, want %q", readyzJQ, body, out, want)
	}
}
