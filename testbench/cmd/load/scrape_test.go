package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMetrics(t *testing.T) {
	in := `# HELP dock_agent_mavlink_frames_received_total Frames.
# TYPE dock_agent_mavlink_frames_received_total counter
dock_agent_mavlink_frames_received_total{message="HEARTBEAT"} 12
dock_agent_mavlink_frames_received_total{message="SYS_STATUS, \"x\" y"} 30
dock_agent_mavlink_bridge_frames_dropped_total 0
go_goroutines 39
process_start_time_seconds 1.7644e+09
`
	got, err := parseMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatalf("parseMetrics() = %v", err)
	}
	want := agentMetrics{
		"dock_agent_mavlink_frames_received_total":       42,
		"dock_agent_mavlink_bridge_frames_dropped_total": 0,
		"go_goroutines":              39,
		"process_start_time_seconds": 1.7644e+09,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseMetrics() mismatch (-want +got):\n%s", diff)
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines many\n")); err == nil {
		t.Error("parseMetrics(a line without a number) = nil error, want one")
	}
	if d := delta(agentMetrics{"a": 5}, agentMetrics{"a": 8}, "a"); d != 3 {
		t.Errorf("delta(5, 8) = %d, want 3", d)
	}
}
