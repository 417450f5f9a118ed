package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/google/go-cmp/cmp"
)

// entry is one journald entry a fakeJournal received.
type entry struct {
	Message  string
	Priority journal.Priority
	Fields   map[string]string
}

// fakeJournal records entries instead of sending them; err makes Send fail.
type fakeJournal struct {
	entries []entry
	err     error
}

func (f *fakeJournal) Send(msg string, p journal.Priority, fields map[string]string) error {
	if f.err != nil {
		return f.err
	}
	f.entries = append(f.entries, entry{msg, p, fields})
	return nil
}

// jsonLines decodes each line of out into a map, failing on a key that
// appears twice in a line (which a map would hide).
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		if _, err := dec.Token(); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if seen[k.(string)] {
				t.Errorf("log line %s: key %q appears twice", line, k)
			}
			seen[k.(string)] = true
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// logAsTheAgentDoes writes the lines the agent's parts write, with the
// same With chains: app adds dock_id and a component, the part adds its own
// component (and the sortie engine dock_id again).
func logAsTheAgentDoes(log *slog.Logger) {
	app := log.With("dock_id", "dock-7")
	ctrl := app.With("component", "controller").With("component", "dock")
	ctrl.Error("lid motion timed out", "step", "lid", "duration", 60*time.Second, "err", errors.New("motion timed out"))
	ctrl.Info("lid opened", "duration", 12500*time.Millisecond)
	sortie := app.With("component", "sortie").With("component", "sortie", "dock_id", "dock-7")
	sortie.Info("vehicle link back", "sortie_id", "s-42", "after", 3*time.Second)
	sortie.Warn("launch retried", "sortie_id", "s-42", "retry_after", 1500*time.Millisecond, "priority", "alarm")
	sortie.Debug("divert check", "battery_pct", 61.5)
	app.With("component", "telemetry").Warn("mqtt connection lost", "err", "EOF", "broker", "tcp://10.0.0.2:1883")
}

func TestLogJSONOneValuePerKey(t *testing.T) {
	var buf bytes.Buffer
	log, _ := newLogger(&buf, "info", "json", false, nil)
	logAsTheAgentDoes(log)
	lines := jsonLines(t, buf.String())
	if len(lines) != 5 {
		t.Fatalf("got %d lines at level info, want 5 (debug left out):\n%s", len(lines), buf.String())
	}
	want := []map[string]any{
		{"level": "ERROR", "msg": "lid motion timed out", "dock_id": "dock-7", "component": "dock", "step": "lid", "duration_s": 60.0, "err": "motion timed out"},
		{"level": "INFO", "msg": "lid opened", "dock_id": "dock-7", "component": "dock", "duration_s": 12.5},
		{"level": "INFO", "msg": "vehicle link back", "dock_id": "dock-7", "component": "sortie", "sortie_id": "s-42", "after_s": 3.0},
		{"level": "WARN", "msg": "launch retried", "dock_id": "dock-7", "component": "sortie", "sortie_id": "s-42", "retry_after_s": 1.5, "priority": "alarm"},
		{"level": "WARN", "msg": "mqtt connection lost", "dock_id": "dock-7", "component": "telemetry", "err": "EOF", "broker": "tcp://10.0.0.2:1883"},
	}
	for i := range lines {
		if _, ok := lines[i]["time"]; !ok {
			t.Errorf("line %d has no time: %v", i, lines[i])
		}
		delete(lines[i], "time")
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("JSON lines (-want +got):\n%s", diff)
	}
}

func TestLogTextDurationsAndComponent(t *testing.T) {
	var buf bytes.Buffer
	log, _ := newLogger(&buf, "info", "text", true, &fakeJournal{})
	log.With("component", "controller").With("component", "dock").Info("lid opened", "duration", 1500*time.Millisecond)
	got := buf.String()
	if strings.Count(got, "component=") != 1 || !strings.Contains(got, "component=dock") || !strings.Contains(got, "duration_s=1.5") {
		t.Errorf("text line = %q, want one component=dock and duration_s=1.5", got)
	}
}

func TestLogJournal(t *testing.T) {
	var buf bytes.Buffer
	j := &fakeJournal{}
	log, lv := newLogger(&buf, "info", "auto", true, j)
	logAsTheAgentDoes(log)
	lv.Set(slog.LevelDebug)
	log.With("component", "sortie").Debug("divert check", slog.Group("need", "battery_pct", 40, "margin", 90*time.Second))
	want := []entry{
		{"lid motion timed out", journal.PriErr, map[string]string{"SYSLOG_IDENTIFIER": "dock-agent", "DOCK_ID": "dock-7", "COMPONENT": "dock", "STEP": "lid", "DURATION_S": "60", "ERR": "motion timed out"}},
		{"lid opened", journal.PriInfo, map[string]string{"SYSLOG_IDENTIFIER": "dock-agent", "DOCK_ID": "dock-7", "COMPONENT": "dock", "DURATION_S": "12.5"}},
		{"vehicle link back", journal.PriInfo, map[string]string{"SYSLOG_IDENTIFIER": "dock-agent", "DOCK_ID": "dock-7", "COMPONENT": "sortie", "SORTIE_ID": "s-42", "AFTER_S": "3"}},
		// "priority" would override the entry's PRIORITY: it moves aside.
		{"launch retried", journal.PriWarning, map[string]string{"SYSLOG_IDENTIFIER": "dock-agent", "DOCK_ID": "dock-7", "COMPONENT": "sortie", "SORTIE_ID": "s-42", "RETRY_AFTER_S": "1.5", "ATTR_PRIORITY": "alarm"}},
		{"mqtt connection lost", journal.PriWarning, map[string]string{"SYSLOG_IDENTIFIER": "dock-agent", "DOCK_ID": "dock-7", "COMPONENT": "telemetry", "ERR": "EOF", "BROKER": "tcp://10.0.0.2:1883"}},
		{"divert check", journal.PriDebug, map[string]string{"SYSLOG_IDENTIFIER": "dock-agent", "COMPONENT": "sortie", "NEED_BATTERY_PCT": "40", "NEED_MARGIN_S": "90"}},
	}
	if diff := cmp.Diff(want, j.entries); diff != "" {
		t.Errorf("journal entries (-want +got):\n%s", diff)
	}
	if buf.Len() != 0 {
		t.Errorf("stderr got %q, want nothing while the journal takes the entries", buf.String())
	}
}

func TestLogJournalRefusedFallsBackToJSON(t *testing.T) {
	var buf bytes.Buffer
	log, _ := newLogger(&buf, "info", "auto", true, &fakeJournal{err: errors.New("no journal socket")})
	log.With("component", "dock").Error("e-stop pressed")
	lines := jsonLines(t, buf.String())
	if len(lines) != 1 || lines[0]["msg"] != "e-stop pressed" || lines[0]["component"] != "dock" {
		t.Errorf("stderr lines = %v, want the entry as JSON", lines)
	}
}

func TestLogFormatChoice(t *testing.T) {
	tests := []struct {
		name         string
		format       LogFormat
		underSystemd bool
		journal      bool
		want         string // "journal", "json" or "text"
	}{
		{"auto on the journal stream", "auto", true, true, "journal"},
		{"empty on the journal stream", "", true, true, "journal"},
		{"auto under systemd, stderr elsewhere", "auto", true, false, "json"},
		{"auto on a terminal", "auto", false, false, "text"},
		{"json forced on the journal stream", "json", true, true, "json"},
		{"text forced under systemd", "text", true, false, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			j := &fakeJournal{}
			var sender JournalSender
			if tt.journal {
				sender = j
			}
			log, _ := newLogger(&buf, "info", tt.format, tt.underSystemd, sender)
			log.Info("dock agent ready")
			var got string
			switch {
			case len(j.entries) == 1 && buf.Len() == 0:
				got = "journal"
			case strings.HasPrefix(buf.String(), "{"):
				got = "json"
			case strings.HasPrefix(buf.String(), "time="):
				got = "text"
			}
			if got != tt.want {
				t.Errorf("format %q (systemd %v, journal %v) wrote %q (%d journal entries), want %s",
					tt.format, tt.underSystemd, tt.journal, buf.String(), len(j.entries), tt.want)
			}
		})
	}
}
