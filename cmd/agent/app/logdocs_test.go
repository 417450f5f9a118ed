package app

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// docJQ are the jq filters docs/operations.md gives for the agent's logs,
// with what each prints for the lines logAsTheAgentDoes writes. The doc
// must hold each as `jq -r 'FILTER'`, so the doc and this test cannot
// drift apart.
var docJQ = []struct {
	name    string
	journal bool // run on `journalctl -o json` entries, else on the JSON lines
	filter  string
	want    string
}{
	{
		name:   "errors",
		filter: `select(.level == "ERROR") | [.time[11:19], .component, .msg, .err] | @tsv`,
		want:   "19:00:00\tdock\tlid motion timed out\tmotion timed out\n",
	},
	{
		name:   "one sortie",
		filter: `select(.sortie_id == "s-42") | [.msg, .after_s, .retry_after_s] | @tsv`,
		want:   "vehicle link back\t3\t\nlaunch retried\t\t1.5\n",
	},
	{
		name:   "slow motions",
		filter: `select(.duration_s > 30) | "\(.component) \(.msg) after \(.duration_s) s"`,
		want:   "dock lid motion timed out after 60 s\n",
	},
	{
		name:    "journal sortie lines",
		journal: true,
		filter:  `select(.COMPONENT == "sortie") | [.SORTIE_ID, .MESSAGE] | @tsv`,
		want:    "s-42\tvehicle link back\ns-42\tlaunch retried\n",
	},
	{
		name:    "journal warnings and worse",
		journal: true,
		filter:  `select((.PRIORITY | tonumber) <= 4) | [.PRIORITY, .COMPONENT, .MESSAGE, .ERR // ""] | @tsv`,
		want:    "3\tdock\tlid motion timed out\tmotion timed out\n4\tsortie\tlaunch retried\t\n4\ttelemetry\tmqtt connection lost\tEOF\n",
	},
}

func TestDocsJQFilters(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range docJQ {
		if !bytes.Contains(doc, []byte("jq -r '"+q.filter+"'")) {
			t.Errorf("docs/operations.md lacks the %s filter: jq -r '%s'", q.name, q.filter)
		}
	}

	jq, err := exec.LookPath("/usr/bin/jq")
	if err != nil {
		t.Skip("jq not installed (apt install jq): the docs' filters are not run")
	}

	// The JSON form, at a fixed time so that the filters' output is known.
	var buf bytes.Buffer
	log, _ := newLogger(&buf, "info", "json", false, nil)
	logAsTheAgentDoes(log)
	jsonLog := fixTime(t, buf.String())

	// The journal form as `journalctl -o json` prints it: every field a
	// string, MESSAGE and PRIORITY among them.
	j := &fakeJournal{}
	log, _ = newLogger(&buf, "info", "auto", true, j)
	logAsTheAgentDoes(log)
	var journalLog bytes.Buffer
	for _, e := range j.entries {
		m := map[string]string{"MESSAGE": e.Message, "PRIORITY": strconv.Itoa(int(e.Priority)), "_SYSTEMD_UNIT": "dock-agent.service"}
		for k, v := range e.Fields {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		journalLog.Write(append(b, '\n'))
	}

	for _, q := range docJQ {
		t.Run(q.name, func(t *testing.T) {
			in := jsonLog
			if q.journal {
				in = journalLog.String()
			}
			cmd := exec.CommandContext(t.Context(), jq, "-r", q.filter)
			cmd.Stdin = strings.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("jq -r '%s': %v: %s", q.filter, err, stderr.String())
			}
			if string(out) != q.want {
				t.Errorf("jq -r '%s' printed\n%q\nwant\n%q\non\n%s", q.filter, out, q.want, in)
			}
		})
	}
}

// fixTime sets every JSON line's time to 2026-12-05T19:00:00Z.
func fixTime(t *testing.T, lines string) string {
	t.Helper()
	var out strings.Builder
	for line := range strings.SplitSeq(strings.TrimSpace(lines), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		m["time"] = "2026-12-05T19:00:00.000Z"
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(b, '\n'))
	}
	return out.String()
}
