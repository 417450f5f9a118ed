package campaign

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/config"
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
	bin := buildDockctl(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	w, obs := benchWorld(ctx, t, world.Options{Speed: 20, BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: t.TempDir()})
	if err := obs.Wait(ctx, obs.ReadyToFly); err != nil {
		t.Fatalf("dock never ready: %v", err)
	}
	cfg := filepath.Join(w.Dir(), "agent.yaml")
	okReply := regexp.MustCompile(`"ok":\s*true`)
	dockctl := func(args ...string) (string, int) {
		t.Helper()
		out, code := runTool(ctx, t, bin, args...)
		shown := out
		if len(shown) > 1500 {
			shown = shown[:1500] + "\n[...]"
		}
		t.Logf("$ dockctl %s (exit %d)\n%s", strings.Join(args, " "), code, shown)
		return out, code
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

// buildDockctl builds the operator's tool into a temporary directory.
func buildDockctl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dockctl")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/dockagent/dock-agent/cmd/dockctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build dockctl: %v\n%s", err, out)
	}
	return bin
}

// runTool runs bin with args and returns its combined output and exit code.
func runTool(ctx context.Context, t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return out.String(), 0
}

// TestSignedCommandsEndToEnd: with mqtt.command_signing on, the real agent
// runs a command dockctl signed with the key file, refuses an unsigned one
// and one signed with another key (unauthorized), and changes nothing for
// them.
func TestSignedCommandsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	bin := buildDockctl(t)
	dir := t.TempDir()
	key, wrong := filepath.Join(dir, "command.key"), filepath.Join(dir, "wrong.key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrong, []byte("fedcba9876543210fedcba9876543210\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	w, obs := benchWorld(ctx, t, world.Options{BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: filepath.Join(dir, "world"),
		Edit: func(c *config.Config) {
			c.MQTT.CommandSigning = &config.CommandSigning{KeyFile: key, Window: 30 * time.Second}
		}})
	if err := obs.Wait(ctx, func() bool { st := obs.State(); return st != nil && st["mode"] == "auto" }); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(w.Dir(), "agent.yaml")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unsigned", []string{"send", "-config", "", "-broker", w.BrokerURL(), "-dock", w.Config.ID, "mode", "mode=maintenance"}},
		{"wrong key", []string{"send", "-config", cfg, "-sign-key", wrong, "mode", "mode=maintenance"}},
	} {
		out, code := runTool(ctx, t, bin, tc.args...)
		if code != 1 || !strings.Contains(out, "unauthorized") {
			t.Errorf("%s command: exit %d, output %q; want 1 and unauthorized", tc.name, code, out)
		}
		if st := obs.State(); st["mode"] != "auto" {
			t.Fatalf("%s command changed the mode to %v", tc.name, st["mode"])
		}
	}
	// The config names the key file: dockctl signs with it by default.
	if out, code := runTool(ctx, t, bin, "send", "-config", cfg, "mode", "mode=maintenance"); code != 0 {
		t.Fatalf("signed command: exit %d, output %q; want 0", code, out)
	}
	if err := obs.Wait(ctx, func() bool { return obs.State()["mode"] == "maintenance" }); err != nil {
		t.Fatalf("signed mode command not applied: %v", err)
	}
}
