package metrics

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockagent/dock-agent/dock"
)

// withoutFamilies drops the families named in drop (HELP, TYPE and
// samples) from an exposition.
func withoutFamilies(text string, drop ...string) string {
	var b strings.Builder
	keep := true
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, _, _ := strings.Cut(rest, " ")
			keep = !slices.Contains(drop, name)
		}
		if keep {
			b.WriteString(line)
		}
	}
	return b.String()
}

// zeroedFamilies are the counters with every known label value at 0: they
// follow the contract's lists (TestLabelledCountersAtZero checks them), so
// the goldens leave them out.
var zeroedFamilies = []string{"dock_agent_commands_total", "dock_agent_sorties_total", "dock_agent_actuator_motions_total",
	"dock_agent_faults_total", "dock_agent_faults_by_code_total"}

// oddMetrics has label values and numbers that need care: escapes, UTF-8,
// integers past 1e6, exponents, unsorted input.
func oddMetrics(t *testing.T) *Metrics {
	t.Helper()
	m, err := New(Options{Version: "v1 \"q\" \\ \n x",
		State: func() dock.State { return dock.State{Weather: dock.Weather{At: time.Unix(1, 0)}} },
		Modbus: func() []ModbusStats {
			return []ModbusStats{{Bus: "b\\\"\n", Unit: 3, Requests: 1000000, Retries: 123456789}, {Bus: "a", Unit: 10}, {Bus: "a", Unit: 9}}
		},
		Forward: func() []ForwardStats {
			return []ForwardStats{{Endpoint: "z"}, {Endpoint: "ä"}, {Endpoint: "A", BytesOut: 1 << 62}}
		},
		LaunchBuckets: []float64{0.5, 1e6, 1e21, 2e21},
	})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	m.LaunchLatency(1500 * time.Millisecond)
	m.LaunchLatency(1e7 * time.Second)
	m.ETAError(-0.2)
	m.ETAError(1e-7)
	for _, msg := range []string{"B", "A", "a", ""} {
		m.FrameIn(msg)
	}
	m.InboundRefused("x", "b")
	m.InboundRefused("x", "a")
	m.InboundRefused("w", "z")
	return m
}

// TestExpositionAsClientGolang: /metrics is byte for byte what
// client_golang v1.25's promhttp served for the same metrics (the
// testdata was scraped from it before issue 20 replaced it), but for the
// values of the go_* and process_* series, which differ per run, and the
// Go version of go_info (GOVERSION in the testdata).
func TestExpositionAsClientGolang(t *testing.T) {
	want, err := os.ReadFile("testdata/client_golang_odd.txt")
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, serve(t, oddMetrics(t), nil)+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	if diff := cmp.Diff(withoutFamilies(string(want), zeroedFamilies...), withoutFamilies(body, zeroedFamilies...)); diff != "" {
		t.Errorf("odd values: /metrics against client_golang's (-client_golang +now):\n%s", diff)
	}

	want, err = os.ReadFile("testdata/client_golang_full.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, body = get(t, serve(t, fullMetrics(t), nil)+"/metrics")
	var got strings.Builder
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "go_") || strings.HasPrefix(line, "process_") {
			i := strings.LastIndexByte(line, ' ')
			line = line[:i] + " VALUE\n"
		}
		line = strings.Replace(line, `go_info{version="`+runtime.Version()+`"}`, `go_info{version="GOVERSION"}`, 1)
		got.WriteString(line)
	}
	if diff := cmp.Diff(withoutFamilies(string(want), zeroedFamilies...), withoutFamilies(got.String(), zeroedFamilies...)); diff != "" {
		t.Errorf("every source and the runtime: /metrics against client_golang's (-client_golang +now):\n%s", diff)
	}
}

// TestExpositionWellFormed: every scrape parses strictly (one HELP and
// TYPE per family, sorted families, sorted label pairs and series,
// escapes, shortest values) and reads back the values put in.
func TestExpositionWellFormed(t *testing.T) {
	for name, m := range map[string]*Metrics{"full": fullMetrics(t), "odd": oddMetrics(t)} {
		_, body := get(t, serve(t, m, nil)+"/metrics")
		fams, err := parseExposition(body)
		if err != nil {
			t.Errorf("%s: parse /metrics: %v\n%s", name, err, body)
			continue
		}
		names := map[string]bool{}
		for _, f := range fams {
			if names[f.name] {
				t.Errorf("%s: family %s twice", name, f.name)
			}
			names[f.name] = true
		}
	}

	_, body := get(t, serve(t, oddMetrics(t), nil)+"/metrics")
	fams, err := parseExposition(body)
	if err != nil {
		t.Fatal(err)
	}
	find := func(name string) parsedFamily {
		for _, f := range fams {
			if f.name == name {
				return f
			}
		}
		t.Fatalf("no family %s", name)
		return parsedFamily{}
	}
	if got := find("dock_agent_build_info").samples[0].labels; !cmp.Equal(got, []labelPair{{"version", "v1 \"q\" \\ \n x"}}, cmp.AllowUnexported(labelPair{})) {
		t.Errorf("build_info labels read back as %q", got)
	}
	var buses []string
	for _, s := range find("dock_agent_modbus_retries_total").samples {
		bus, _ := s.label("bus")
		unit, _ := s.label("unit")
		buses = append(buses, bus+"/"+unit)
	}
	if want := []string{"a/10", "a/9", "b\\\"\n/3"}; !slices.Equal(buses, want) {
		t.Errorf("modbus series in the order %q, want %q (sorted by label values as strings)", buses, want)
	}
	if got := find("dock_agent_modbus_retries_total").samples[2].value; got != 123456789 {
		t.Errorf("modbus retries read back as %v", got)
	}
}

// TestWriteText pins the format on a small registry.
func TestWriteText(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(testCollector{}); err != nil {
		t.Fatalf("Register() = %v", err)
	}
	fams, err := r.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, fams); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_values Values: a "quoted" word, a \\ and a\nsecond line.
# TYPE a_values gauge
a_values{k="",z="1"} -1
a_values{k="+Inf",z="1"} +Inf
a_values{k="-0",z="1"} 0
a_values{k="-Inf",z="1"} -Inf
a_values{k="1e21",z="1"} 1e+21
a_values{k="NaN",z="1"} NaN
a_values{k="big",z="1"} 1.8446744073709552e+19
a_values{k="esc \\ \" \n",z="1"} 0.1
a_values{k="float",z="1"} 1.0000000000000002
a_values{k="million",z="1"} 1e+06
a_values{k="small",z="1"} 1e-05
a_values{k="sub",z="1"} 0.0001
a_values{k="ünï",z="1"} 123456
# HELP b_seconds A histogram.
# TYPE b_seconds histogram
b_seconds_bucket{le="-1"} 0
b_seconds_bucket{le="0.25"} 1
b_seconds_bucket{le="+Inf"} 3
b_seconds_sum 7.25
b_seconds_count 3
# HELP c_seconds A summary.
# TYPE c_seconds summary
c_seconds{quantile="0"} 0.001
c_seconds{quantile="1"} 2
c_seconds_sum 2.001
c_seconds_count 2
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteText() (-want +got):\n%s", diff)
	}
	if _, err := parseExposition(b.String()); err != nil {
		t.Errorf("parse WriteText(): %v", err)
	}
}

var (
	descValues  = &Desc{Name: "a_values", Help: "Values: a \"quoted\" word, a \\ and a\nsecond line.", Type: Gauge, Labels: []string{"z", "k"}}
	descHist    = &Desc{Name: "b_seconds", Help: "A histogram.", Type: Histogram}
	descSummary = &Desc{Name: "c_seconds", Help: "A summary.", Type: Summary}
	descEmpty   = &Desc{Name: "d_empty", Help: "Never reported: not exposed.", Type: Counter}
)

type testCollector struct{}

func (testCollector) Describe() []*Desc { return []*Desc{descSummary, descHist, descValues, descEmpty} }

func (testCollector) Collect(s *Scrape) {
	s.AddSeries(descSummary, Series{Quantiles: []Quantile{{0, 0.001}, {1, 2}}, Sum: 2.001, Count: 2})
	s.AddSeries(descHist, Series{Buckets: []Bucket{{-1, 0}, {0.25, 1}}, Sum: 7.25, Count: 3})
	for k, v := range map[string]float64{"ünï": 123456, "million": 1e6, "big": math.MaxUint64, "small": 1e-5, "sub": 1e-4,
		"1e21": 1e21, "float": 1.0000000000000002, "NaN": math.NaN(), "+Inf": math.Inf(1), "-Inf": math.Inf(-1),
		"-0": math.Copysign(0, -1), "": -1, "esc \\ \" \n": 0.1} {
		s.Add(descValues, v, "1", k)
	}
}

// TestRegistryChecks: Register refuses bad or duplicate families; Gather
// leaves out and names what does not fit, and serves the rest.
func TestRegistryChecks(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(testCollector{}); err != nil {
		t.Fatalf("Register() = %v", err)
	}
	for name, c := range map[string]Collector{
		"twice":          testCollector{},
		"bad name":       badCollector{&Desc{Name: "1abc", Help: "h", Type: Gauge}},
		"no help":        badCollector{&Desc{Name: "x_no_help", Type: Gauge}},
		"no type":        badCollector{&Desc{Name: "x_no_type", Help: "h"}},
		"bad label":      badCollector{&Desc{Name: "x_bad_label", Help: "h", Type: Gauge, Labels: []string{"a-b"}}},
		"reserved label": badCollector{&Desc{Name: "x_le", Help: "h", Type: Histogram, Labels: []string{"le"}}},
		"label twice":    badCollector{&Desc{Name: "x_label_twice", Help: "h", Type: Gauge, Labels: []string{"a", "a"}}},
	} {
		if err := r.Register(c); err == nil {
			t.Errorf("Register(%s) = nil error, want one", name)
		}
	}

	r = NewRegistry()
	if err := r.Register(sloppyCollector{}); err != nil {
		t.Fatalf("Register(sloppy) = %v", err)
	}
	fams, err := r.Gather()
	for _, want := range []string{"x_undescribed collected but not described", "x_sloppy: 2 label values for 1 labels", `label a: value "\xff" not UTF-8`, `x_sloppy{a="1"} collected twice`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Gather() error = %v, want it to say %q", err, want)
		}
	}
	if len(fams) != 1 || len(fams[0].Series) != 2 {
		t.Errorf("Gather() = %+v, want x_sloppy with its 2 good series", fams)
	}
}

type badCollector struct{ d *Desc }

func (c badCollector) Describe() []*Desc { return []*Desc{c.d} }
func (c badCollector) Collect(s *Scrape) {}

var descSloppy = &Desc{Name: "x_sloppy", Help: "h", Type: Gauge, Labels: []string{"a"}}

type sloppyCollector struct{}

func (sloppyCollector) Describe() []*Desc { return []*Desc{descSloppy} }
func (sloppyCollector) Collect(s *Scrape) {
	s.Add(descSloppy, 1, "1")
	s.Add(descSloppy, 2, "1")
	s.Add(descSloppy, 3, "1", "2")
	s.Add(descSloppy, 4, "0")
	s.Add(descSloppy, 5, "\xff")
	s.Add(&Desc{Name: "x_undescribed", Help: "h", Type: Gauge}, 1)
	s.Error(errors.New("one source unreadable"))
}

// TestMetricsReply: the content type of the text format 0.0.4, and a
// collector's error does not fail the scrape.
func TestMetricsReply(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Registry().Register(sloppyCollector{}); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(ServerOptions{Listen: "127.0.0.1:0", Logger: testLogger(t)}, m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(runServer(t, s) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("GET /metrics = %d %q, want 200 text/plain; version=0.0.4; charset=utf-8", resp.StatusCode, ct)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if sample(b.String(), `x_sloppy{a="0"}`) != "4" || sample(b.String(), "dock_agent_build_info{version=\"\"}") != "1" {
		t.Errorf("GET /metrics with a failing collector:\n%s\nwant the good series served", b.String())
	}
}

// TestRuntimeFamilies: the go_* and process_* values are read, and
// plausible.
func TestRuntimeFamilies(t *testing.T) {
	if !canCollectProcess() {
		t.Skip("no /proc/self here")
	}
	m, err := New(Options{Runtime: true})
	if err != nil {
		t.Fatal(err)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		got[f.Name] = f.Series[0].Value
	}
	now := float64(time.Now().Unix())
	for name, ok := range map[string]func(v float64) bool{
		"go_goroutines":                 func(v float64) bool { return v >= 1 },
		"go_threads":                    func(v float64) bool { return v >= 1 },
		"go_memstats_alloc_bytes":       func(v float64) bool { return v > 0 },
		"go_memstats_sys_bytes":         func(v float64) bool { return v > got["go_memstats_heap_inuse_bytes"] },
		"go_sched_gomaxprocs_threads":   func(v float64) bool { return v >= 1 },
		"process_resident_memory_bytes": func(v float64) bool { return v > 1<<20 },
		"process_virtual_memory_bytes":  func(v float64) bool { return v > got["process_resident_memory_bytes"] },
		"process_open_fds":              func(v float64) bool { return v >= 3 },
		"process_max_fds":               func(v float64) bool { return v >= got["process_open_fds"] },
		"process_start_time_seconds":    func(v float64) bool { return v > now-24*3600 && v <= now+1 },
		"process_cpu_seconds_total":     func(v float64) bool { return v >= 0 },
	} {
		if v, there := got[name]; !there || !ok(v) {
			t.Errorf("%s = %v (there: %v), not plausible", name, v, there)
		}
	}
}

func TestParseProc(t *testing.T) {
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 125 0 0 20 0 9 0 1234567 1763979264 5755 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseProcStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{utime: 250, stime: 125, starttime: 1234567, vsize: 1763979264, rss: 5755}); st != want {
		t.Errorf("parseProcStat() = %+v, want %+v", st, want)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1 2\n")); err == nil {
		t.Error("parseProcStat(short) = nil error")
	}

	limits := `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            20000                524288               files     
Max address space         unlimited            unlimited            bytes     
`
	files, as, err := parseLimits(limits)
	if err != nil || files != 20000 || as != math.MaxUint64 {
		t.Errorf("parseLimits() = %d, %d, %v; want 20000, MaxUint64", files, as, err)
	}
	if _, _, err := parseLimits("Limit Soft\n"); err == nil {
		t.Error("parseLimits(no lines) = nil error")
	}

	netstat := `TcpExt: SyncookiesSent SyncookiesRecv
TcpExt: 0 0
IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets
IpExt: 0 0 0 0 0 0 9462618431 8976454579
`
	in, out, err := parseNetstat(netstat)
	if err != nil || in != 9462618431 || out != 8976454579 {
		t.Errorf("parseNetstat() = %v, %v, %v", in, out, err)
	}
}

// FuzzExposition: any HELP text, label value and value is written so
// that the strict reader gets them back.
func FuzzExposition(f *testing.F) {
	f.Add("help", "value", 1.5)
	f.Add("a \\ b \" c \n d", "\\\"\n", math.Inf(-1))
	f.Add("", "\xff\x00", 1e21)
	f.Fuzz(func(t *testing.T, help, value string, v float64) {
		if help == "" {
			help = "h"
		}
		d := &Desc{Name: "f_value", Help: help, Type: Gauge, Labels: []string{"l"}}
		var b bytes.Buffer
		if err := WriteText(&b, []Family{{Desc: d, Series: []Series{{LabelValues: []string{value}, Value: v}}}}); err != nil {
			t.Fatal(err)
		}
		fams, err := parseExposition(b.String())
		if err != nil {
			t.Fatalf("parse %q: %v", b.String(), err)
		}
		if len(fams) != 1 || len(fams[0].samples) != 1 {
			t.Fatalf("parse %q = %+v, want one sample", b.String(), fams)
		}
		f, s := fams[0], fams[0].samples[0]
		got, _ := s.label("l")
		if f.help != help || got != value || !(s.value == v || math.IsNaN(v) && math.IsNaN(s.value)) {
			t.Errorf("read back help %q, label %q, value %v; wrote %q, %q, %v", f.help, got, s.value, help, value, v)
		}
	})
}

// TestLintCatches: the ported promlint checks find what they are for.
func TestLintCatches(t *testing.T) {
	fams := []parsedFamily{
		{name: "x_requests", typ: "counter", help: "h"},
		{name: "x_size_total", typ: "gauge", help: "h"},
		{name: "x_latency_milliseconds", typ: "histogram", help: "h"},
		{name: "x_temp_gauge", typ: "gauge"},
		{name: "x_queueLength", typ: "gauge", help: "h", samples: []parsedSample{{name: "x_queueLength", labels: []labelPair{{"le", "1"}}}}},
		{name: "x_wait_ms", typ: "gauge", help: "h", samples: []parsedSample{{name: "x_wait_ms"}, {name: "x_wait_ms"}}},
	}
	got := strings.Join(lint(fams), "\n")
	for _, want := range []string{
		`x_requests: counter metrics should have "_total" suffix`,
		`x_size_total: non-counter metrics should not have "_total" suffix`,
		`x_latency_milliseconds: use base unit "seconds" instead of "milliseconds"`,
		`x_temp_gauge: no help text`,
		`x_temp_gauge: metric name should not include type 'gauge'`,
		`x_queueLength: metric names should be written in 'snake_case' not 'camelCase'`,
		`x_queueLength: non-histogram metrics should not have "le" label`,
		`x_wait_ms: metric names should not contain abbreviated units`,
		`x_wait_ms: metric not unique`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lint() does not report %q; got:\n%s", want, got)
		}
	}
}
