package campaign

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

// TestDockctlAgainstTheBench drives the real agent with the operator's
// tool, built as a binary and reading the agent's own config file, as an
// integrator would on the dock: status, a followed dispatch to its end,
// the circles and the sortie reports.
func TestDockctlAgainstTheBench(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	bin := filepath.Join(t.TempDir(), "dockctl")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/dockagent/dock-agent/cmd/dockctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build dockctl: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	w, err := world.Start(ctx, world.Options{Speed: 20, BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	obs, err := w.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	if err := obs.Wait(ctx, obs.ReadyToFly); err != nil {
		t.Fatalf("dock never ready: %v", err)
	}
	cfg := filepath.Join(w.Dir(), "agent.yaml")
	okReply := regexp.MustCompile(`"ok":\s*true`)
	dockctl := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("dockctl %v: %v", args, err)
		}
		shown := out.String()
		if len(shown) > 1500 {
			shown = shown[:1500] + "\n[...]"
		}
		t.Logf("$ dockctl %s (exit %d)\n%s", strings.Join(args, " "), code, shown)
		return out.String(), code
	}

	if out, code := dockctl("send", "-config", cfg, "status"); code != 0 || !okReply.MatchString(out) {
		t.Fatalf("send status: exit %d, want 0 and an ok reply", code)
	}
	// A refused command exits 1 with the agent's named error.
	if out, code := dockctl("send", "-config", cfg, "dispatch", "lat=91", "lon=102.548"); code != 1 || !strings.Contains(out, "out_of_range") {
		t.Fatalf("send dispatch lat=91: exit %d, want 1 and out_of_range", code)
	}
	out, code := dockctl("send", "-config", cfg, "-follow", "2m", "dispatch",
		"lat=24.3560", "lon=102.5480", "loiter_s=10", "priority=alarm", "ref=DOCKCTL")
	if code != 0 {
		t.Fatalf("send -follow dispatch: exit %d, want 0 (the sortie completed)", code)
	}
	id := regexp.MustCompile(`d-\d{8}T\d{6}\.\d{3}Z`).FindString(out)
	if id == "" {
		t.Fatalf("no sortie id in the dispatch reply")
	}
	if !strings.Contains(out, "sortie.complete") {
		t.Errorf("follow output without the sortie's end (sortie.complete)")
	}
	if out, code := dockctl("circles", "-config", cfg); code != 0 || !strings.Contains(out, "5") {
		t.Errorf("circles: exit %d", code)
	}
	out, code = dockctl("sorties", "-config", cfg)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "complete") {
		t.Errorf("sorties: exit %d, want the report of %s with outcome complete", code, id)
	}
	// watch: the retained status and state come at once, then live traffic.
	out, code = dockctl("watch", "-config", cfg, "-n", "5")
	if code != 0 || !strings.Contains(out, "status") || !strings.Contains(out, "state") {
		t.Errorf("watch -n 5: exit %d, want status and state lines", code)
	}
	// dump: the sortie's flight log decodes without a bad frame.
	tlogs, _ := filepath.Glob(filepath.Join(w.Config.StateDir, "flightlogs", "*.tlog"))
	if len(tlogs) == 0 {
		t.Fatalf("no .tlog in %s/flightlogs", w.Config.StateDir)
	}
	out, code = dockctl("dump", tlogs[len(tlogs)-1])
	m := regexp.MustCompile(`dump: (\d+) frames, (\d+) bad CRC, (\d+) bad signature, (\d+) unknown, (\d+) rejected, (\d+) bytes skipped`).FindStringSubmatch(out)
	t.Logf("flight log summary: %v", m)
	if code != 0 || m == nil || m[1] == "0" || m[2] != "0" || m[3] != "0" || m[5] != "0" || m[6] != "0" {
		t.Errorf("dump %s: exit %d, summary %q; want frames and no bad CRC, signature, rejected frame or skipped byte", tlogs[len(tlogs)-1], code, m)
	}
	if out, code := dockctl("version"); code != 0 || strings.TrimSpace(out) == "" {
		t.Errorf("version: exit %d", code)
	}
}
