package scenario

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent()
	os.Exit(m.Run())
}

// TestShippedScenarios runs every scenario of testbench/scenarios at
// -speed 20, as CI does, each on a world of its own.
func TestShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			dir := t.TempDir()
			res, err := Run(t.Context(), s, world.Options{Speed: 20, GCS: "none", Dir: dir}, &out)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			t.Logf("%s: wall %v, sim %v, %d events", s.Name, res.WallTime.Round(time.Millisecond), res.SimTime.Round(time.Second), res.Events)
			if !res.Passed {
				log, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
				if len(log) > 20000 {
					log = log[len(log)-20000:]
				}
				t.Fatalf("%s\n%s\nagent log (tail):\n%s", res.Failure, out.String(), log)
			}
		})
	}
}
