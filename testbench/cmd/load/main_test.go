package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent() // the world re-executes this binary as the agent
	goleak.VerifyTestMain(m)
}

// TestShortRun runs the harness against the real agent for a few seconds
// per phase: every frame written is relayed, and the stages agree.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bench world and the agent")
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-usual", "3s", "-burst", "2s", "-burst-rate", "1000", "-starts", "1"}, &out, &errOut); code != 0 {
		t.Fatalf("run() = %d, stderr:\n%s", code, errOut.String())
	}
	t.Logf("harness output:\n%s", out.String())
	rows := map[string][]string{}
	for line := range strings.SplitSeq(out.String(), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[cells[1]] = cells[1:]
	}
	num := func(row []string, i int) int {
		t.Helper()
		n, err := strconv.Atoi(row[i])
		if err != nil {
			t.Fatalf("row %q column %d = %q, want a number", row[0], i, row[i])
		}
		return n
	}
	for _, name := range []string{"usual (3s)", "burst (2s)"} {
		row, ok := rows[name]
		if !ok {
			t.Fatalf("no %q row in the end-to-end table", name)
		}
		written, relayed, lost := num(row, 2), num(row, 3), num(row, 4)
		if written == 0 || relayed != written || lost != 0 {
			t.Errorf("%s: written %d, relayed %d, lost %d; want all written relayed", name, written, relayed, lost)
		}
	}
	for _, name := range []string{"usual", "burst"} {
		row, ok := rows[name]
		if !ok {
			t.Fatalf("no %q row in the per-stage table", name)
		}
		// agent parser frames / bad CRC / refused / skipped; bridge published / dropped
		parser, bridge := strings.Split(row[2], " / "), strings.Split(row[3], " / ")
		if len(parser) != 4 || len(bridge) != 2 || parser[0] == "0" || parser[0] != bridge[0] || parser[1] != "0" || bridge[1] != "0" {
			t.Errorf("%s: parser %q, bridge %q; want frames read all published, none damaged or dropped", name, row[2], row[3])
		}
		if row[1] != "0" || row[4] != "0" || row[5] != "0" {
			t.Errorf("%s: drone queue %s, lost to broker %s, lost to subscriber %s; want 0", name, row[1], row[4], row[5])
		}
	}
}

func TestParseRates(t *testing.T) {
	got, err := parseRates("idle, 200,2500")
	if err != nil || len(got) != 3 || got[0] != 0 || got[1] != 200 || got[2] != 2500 {
		t.Fatalf("parseRates(idle, 200,2500) = %v, %v; want [0 200 2500]", got, err)
	}
	for _, bad := range []string{"", "fast", "-5", "200,,300"} {
		if _, err := parseRates(bad); err == nil {
			t.Errorf("parseRates(%q) = nil error, want one naming the rate", bad)
		}
	}
}

// eachFrame splits a batched mavlink/out payload into its frames, and
// passes a payload that holds no frame whole (so it counts as unknown).
func TestEachFrame(t *testing.T) {
	var a, b []byte
	var err error
	if a, err = mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1, Seq: 1}, &mavlink.Heartbeat{Type: 2, MavlinkVersion: 3}, nil); err != nil {
		t.Fatal(err)
	}
	if b, err = mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1, Seq: 2}, &mavlink.Attitude{TimeBootMS: 5, Roll: 1}, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	eachFrame(append(append([]byte(nil), a...), b...), func(f []byte) { got = append(got, string(f)) })
	if len(got) != 2 || got[0] != string(a) || got[1] != string(b) {
		t.Fatalf("eachFrame(batch of 2) gave %q, want the two frames", got)
	}
	got = nil
	eachFrame([]byte("junk"), func(f []byte) { got = append(got, string(f)) })
	if len(got) != 1 || got[0] != "junk" {
		t.Fatalf("eachFrame(junk) gave %q, want the payload whole", got)
	}
}

// TestAlertsShortRun runs -alerts against the real agent: quotes are
// answered over MQTT, and every alert stages the dock and the dispatch
// after it takes off and completes (the harness fails otherwise); the
// tables carry the figures. Speed 5, not more: the bench's motion and
// Modbus timeouts are simulated seconds, and a starved machine's stalls
// count speed times over (at x10 and a load of 24 the lid timed out).
func TestAlertsShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bench world and the agent")
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-alerts", "2", "-quotes", "20", "-speed", "5"}, &out, &errOut); code != 0 {
		t.Fatalf("run(-alerts 2) = %d, stderr:\n%s\nstdout:\n%s", code, errOut.String(), out.String())
	}
	t.Logf("harness output:\n%s", out.String())
	text := out.String()
	if !strings.Contains(text, "20 quotes over MQTT") {
		t.Errorf("no quote round-trip line for 20 quotes in:\n%s", text)
	}
	if n := strings.Count(text, "dispatch to airborne"); n < 2+2 {
		t.Errorf("%d dispatch-to-airborne lines, want one per alert and the table rows:\n%s", n, text)
	}
	for _, row := range []string{"| alert to staged (simulated) |", "| dispatch to airborne (simulated, agent clock) |", "| dispatch to airborne (wall) |"} {
		line := ""
		for l := range strings.SplitSeq(text, "\n") {
			if strings.HasPrefix(l, row) {
				line = l
			}
		}
		cells := strings.Split(line, "|")
		if len(cells) != 6 {
			t.Errorf("row %q = %q, want min, median and max", row, line)
			continue
		}
		for _, c := range cells[2:5] {
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(c), " s"), 64)
			if err != nil || v <= 0 {
				t.Errorf("row %q cell %q, want a positive number of seconds", row, c)
			}
		}
	}
}

// scrapeDrained takes the first scrape with nothing between the parser and
// the bridge, and gives up after its wait with what is still in flight (a
// frame lost uncounted never drains).
func TestScrapeDrained(t *testing.T) {
	var mu sync.Mutex
	pages := []string{
		"dock_agent_mavlink_link_frames_in_total 12\ndock_agent_mavlink_bridge_frames_out_total 8\ndock_agent_mavlink_bridge_frames_dropped_total 2\n",
		"dock_agent_mavlink_link_frames_in_total 14\ndock_agent_mavlink_bridge_frames_out_total 12\ndock_agent_mavlink_bridge_frames_dropped_total 2\n",
		"dock_agent_mavlink_link_frames_in_total 15\ndock_agent_mavlink_bridge_frames_out_total 12\ndock_agent_mavlink_bridge_frames_dropped_total 2\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, pages[0])
		if len(pages) > 1 {
			pages = pages[1:]
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	m, gap, err := scrapeDrained(t.Context(), addr, time.Minute)
	if err != nil || gap != 0 || m[metricLinkFrames] != 14 {
		t.Fatalf("scrapeDrained = frames %v, in flight %v, %v; want the drained scrape (14 frames, 0 in flight)", m[metricLinkFrames], gap, err)
	}
	// The last page stays one frame short for good.
	m, gap, err = scrapeDrained(t.Context(), addr, 0)
	if err != nil || gap != 1 || m[metricLinkFrames] != 15 {
		t.Fatalf("scrapeDrained(never drains) = frames %v, in flight %v, %v; want the last scrape, 1 in flight", m[metricLinkFrames], gap, err)
	}
}
