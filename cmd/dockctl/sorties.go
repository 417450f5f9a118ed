package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// runSorties implements "dockctl sorties [-n N]": recent sortie reports as a
// table. Events are not retained on the broker, so the reports come from the
// agent's sortie store (-state-dir, default the config's state_dir, files
// sorties/*.json) when it is readable on this machine, else from the
// sortie.report events seen while listening for -wait.
func runSorties(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("sorties", usage{
		synopsis: "dockctl sorties [-n N] [-state-dir DIR | -wait DURATION] [-json] [broker flags]",
		about: "Recent sortie reports as a table. Reports are read from the agent's sortie store when it is\n" +
			"readable here (run on the dock, as root or a member of group dock-agent); remotely, events\n" +
			"are not retained by the broker, so only reports published while listening are shown.",
		examples: []string{
			"dockctl sorties -n 5                # on the dock, as root or in group dock-agent",
			"dockctl sorties -json | jq 'select(.outcome != \"complete\")'",
			"dockctl sorties -broker tcp://10.0.0.5:1883 -dock d1 -wait 10m",
		},
	}, stderr)
	bf := addBrokerFlags(fs)
	n := fs.Int("n", 20, "show the newest `N` reports")
	stateDir := fs.String("state-dir", "", "the agent's state `dir` to read sorties/*.json from (default: state_dir of the config, else /var/lib/dock-agent)")
	wait := fs.Duration("wait", 30*time.Second, "without a readable state dir: listen this long for sortie.report events")
	asJSON := fs.Bool("json", false, "print the reports as JSON lines instead of a table")
	if code, stop := parseFlags(fs, stdout, stderr, func() error { return fs.Parse(args) }); stop {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	dir := *stateDir
	var reports []map[string]any
	var err error
	if dir == "" {
		// Only the config's state_dir is needed here: a problem with the
		// broker settings is reported below if listening is needed.
		_, _ = bf.resolve(false)
		dir = bf.stateDir
		if dir == "" && dirExists(filepath.Join(defaultStateDir, "sorties")) {
			dir = defaultStateDir
		}
	}
	if dir != "" && dirExists(filepath.Join(dir, "sorties")) {
		reports, err = readSortieStore(filepath.Join(dir, "sorties"))
		if err != nil {
			return failed(stderr, "sorties", err)
		}
	} else {
		if *stateDir != "" {
			fmt.Fprintf(stderr, "dockctl sorties: %s: no sorties directory\n", *stateDir)
			return 1
		}
		s, err := bf.resolve(false)
		if err != nil {
			return failed(stderr, "sorties", err)
		}
		ctx, stop := interruptContext()
		defer stop()
		reports, err = listenReports(ctx, s, *wait, *n, stderr)
		if err != nil {
			return failed(stderr, "sorties", err)
		}
	}
	sort.SliceStable(reports, func(i, j int) bool { return reportTime(reports[i]).Before(reportTime(reports[j])) })
	if *n > 0 && len(reports) > *n {
		reports = reports[len(reports)-*n:]
	}
	if *asJSON {
		for _, r := range reports {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
		}
		return 0
	}
	printSorties(stdout, reports)
	return 0
}

// defaultStateDir is the agent's StateDirectory on an installed dock.
const defaultStateDir = "/var/lib/dock-agent"

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// readSortieStore reads every report the agent's sortie store kept.
func readSortieStore(dir string) ([]map[string]any, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list sortie reports in %s: %w", dir, err)
	}
	var out []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read sortie report (is this user in group dock-agent?): %w", err)
		}
		var r map[string]any
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("decode sortie report %s: %w", f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// listenReports collects sortie.report events for d, or until n arrived.
func listenReports(ctx context.Context, s *session, d time.Duration, n int, stderr io.Writer) ([]map[string]any, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.subscribe(ctx, s.prefix+"events"); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "listening %s for sortie.report events on %sevents (the broker keeps no history)\n", d, s.prefix)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var out []map[string]any
	for {
		select {
		case <-ctx.Done():
			return out, nil
		case m := <-c.msgs:
			var e map[string]any
			if json.Unmarshal(m.payload, &e) != nil || e["type"] != "sortie.report" {
				continue
			}
			out = append(out, e)
			if n > 0 && len(out) >= n {
				return out, nil
			}
		}
	}
}

// reportTime is when the sortie was commanded (the event's ts otherwise).
func reportTime(r map[string]any) time.Time {
	for _, k := range []string{"command_at", "ts"} {
		if s, ok := r[k].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

func printSorties(w io.Writer, reports []map[string]any) {
	if len(reports) == 0 {
		fmt.Fprintln(w, "no sortie reports")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMANDED (UTC)\tSORTIE\tKIND\tROUTE/REF\tOUTCOME\tLAUNCH s\tTO STATION s\tDIST m\tMAX ALT m\tBATT %\tREASONS")
	for _, r := range reports {
		when := "-"
		if t := reportTime(r); !t.IsZero() {
			when = t.UTC().Format("2006-01-02 15:04:05")
		}
		what := str(r["route"])
		if ref := str(r["ref"]); ref != "-" {
			what = ref
		}
		var reasons []string
		if rs, ok := r["reasons"].([]any); ok {
			for _, x := range rs {
				reasons = append(reasons, sanitize(fmt.Sprint(x)))
			}
		}
		outcome := str(r["outcome"])
		if b2(r["dry_run"]) {
			outcome += " (dry run)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", when, str(r["sortie_id"]), str(r["kind"]), what, outcome,
			fixed(r["launch_latency_s"], 1), fixed(r["time_to_station_s"], 0), fixed(r["distance_m"], 0), fixed(r["max_alt_m"], 0),
			fixed(r["battery_used_pct"], 0), orDash(strings.Join(reasons, ", ")))
	}
	tw.Flush()
}

func str(v any) string {
	if s, ok := v.(string); ok && s != "" {
		return sanitize(s)
	}
	return "-"
}

func fixed(v any, prec int) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%.*f", prec, f)
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
