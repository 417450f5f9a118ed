package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// report is a sortie report as dock/sortie stores and publishes it.
func report(id, commandAt, outcome string) map[string]any {
	return map[string]any{
		"sortie_id": id, "kind": "patrol", "route": "oldtown", "phase": outcome, "command_at": commandAt,
		"launch_latency_s": 12.4, "time_to_station_s": 61.0, "distance_m": 5230.0, "max_alt_m": 60.0,
		"battery_start_pct": 96.0, "battery_end_pct": 58.0, "battery_used_pct": 38.0, "outcome": outcome,
		"reasons": []any{"wind"}, "tlog": "s-1.tlog",
	}
}

func TestSortiesStateDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sorties"), 0o750); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"s-2.json": `{"sortie_id":"s-2","kind":"dispatch","ref":"INC-7","command_at":"2026-12-05T20:00:00Z","launch_latency_s":11.96,"distance_m":1830,"max_alt_m":80,"battery_used_pct":21,"outcome":"complete"}`,
		"s-1.json": `{"sortie_id":"s-1","kind":"patrol","route":"oldtown","command_at":"2026-12-05T19:00:00Z","outcome":"aborted","reasons":["wind","gust"],"dry_run":true}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, "sorties", name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ := dockctl(t, "", "sorties", "-config", "", "-state-dir", dir)
	if code != 0 {
		t.Fatalf("dockctl sorties -state-dir = %d, want 0", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "COMMANDED (UTC)") {
		t.Fatalf("table has %d lines, want a header and 2 rows:\n%s", len(lines), out)
	}
	if f := strings.Fields(lines[1]); f[2] != "s-1" || f[5] != "aborted" {
		t.Errorf("row 1 = %q, want s-1 (older) aborted", lines[1])
	}
	if !strings.Contains(lines[1], "(dry run)") || !strings.Contains(lines[1], "wind, gust") {
		t.Errorf("row 1 = %q, want the dry run mark and both reasons", lines[1])
	}
	if f := strings.Fields(lines[2]); f[2] != "s-2" || f[4] != "INC-7" || f[5] != "complete" || f[6] != "12.0" || f[8] != "1830" {
		t.Errorf("row 2 = %q, want s-2 INC-7 complete launch 12.0 s distance 1830", lines[2])
	}
	code, out, _ = dockctl(t, "", "sorties", "-config", "", "-state-dir", dir, "-n", "1")
	if code != 0 || strings.Contains(out, "s-1") || !strings.Contains(out, "s-2") {
		t.Errorf("dockctl sorties -n 1 = %d %q, want only the newest, s-2", code, out)
	}
	if code, _, errb := dockctl(t, "", "sorties", "-config", "", "-state-dir", t.TempDir()); code != 1 || !strings.Contains(errb, "no sorties directory") {
		t.Errorf("dockctl sorties on an empty dir = %d %q, want 1", code, errb)
	}
}

// TestSortiesListen: without a state dir, reports published while listening.
func TestSortiesListen(t *testing.T) {
	r := newRig(t, nil, nil)
	out, errb, wait := background(t, "sorties", "-config", "", "-broker", r.url, "-dock", "d1", "-n", "1", "-wait", "10s")
	waitFor(t, "sorties to subscribe", func() bool { return strings.Contains(errb.String(), "listening") })
	ev := func(typ dock.EventType, f map[string]any) {
		if err := r.outbox.Emit(dock.Event{Type: typ, Time: time.Date(2026, 12, 5, 19, 30, 0, 0, time.UTC), Fields: f}); err != nil {
			t.Fatalf("Emit() = %v", err)
		}
	}
	ev(dock.EventSortiePhase, map[string]any{"sortie_id": "s-1", "phase": "complete"})
	ev(dock.EventSortieReport, report("s-1", "2026-12-05T19:00:00.000Z", "complete"))
	if code := wait(); code != 0 {
		t.Fatalf("dockctl sorties = %d, want 0", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"2026-12-05", "19:00:00", "s-1", "patrol", "oldtown", "complete", "12.4", "61", "5230", "60", "38", "wind"}
	if len(lines) != 2 || !cmpFields(strings.Fields(lines[1]), want) {
		t.Errorf("table =\n%s\nwant one row %v", out, want)
	}
}

func cmpFields(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestConfigDefaults: broker, dock id and state dir come from the agent's
// config when flags do not say otherwise.
func TestConfigDefaults(t *testing.T) {
	r := newRig(t, nil, nil)
	b, err := os.ReadFile("../../config/examples/bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	cfg := strings.Replace(string(b), "tcp://127.0.0.1:1883", r.url, 1)
	cfg = strings.Replace(cfg, "id: bench-1", "id: d1", 1)
	cfg = strings.Replace(cfg, "state_dir: /tmp/dock-agent-bench", "state_dir: "+stateDir, 1)
	path := writeFile(t, "agent.yaml", cfg)

	code, out, _ := dockctl(t, "", "send", "-config", path, "status")
	if code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Errorf("dockctl send status with the config = %d %q, want 0 and ok", code, out)
	}
	if err := os.MkdirAll(filepath.Join(stateDir, "sorties"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "sorties", "s-9.json"), []byte(`{"sortie_id":"s-9","outcome":"failed"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = dockctl(t, "", "sorties", "-config", path)
	if code != 0 || !strings.Contains(out, "s-9") {
		t.Errorf("dockctl sorties with the config = %d %q, want the report in state_dir", code, out)
	}
	// Circles -geojson takes the dock position from the config.
	code, out, _ = dockctl(t, "", "circles", "-config", path, "-geojson")
	if code != 0 || !strings.Contains(out, "FeatureCollection") {
		t.Errorf("dockctl circles -geojson with the config = %d %q, want GeoJSON", code, out)
	}
	// An explicitly named config that is missing is an error.
	if code, _, errb := dockctl(t, "", "send", "-config", filepath.Join(t.TempDir(), "none.yaml"), "status"); code != 1 || !strings.Contains(errb, "read agent config") {
		t.Errorf("dockctl send with a missing -config = %d %q, want 1", code, errb)
	}
}
