package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps test code and fakes out of the shipped agent (STYLE.md §1):
// the binary on a dock must not be able to fall back on a simulated pin.
func TestDeps(t *testing.T) {
	banned := map[string]string{
		"testing": "test code in the daemon means a test seam in production",
		"github.com/dockagent/dock-agent/testbench":     "the simulated world is for the bench and tests",
		"github.com/dockagent/dock-agent/dock/docktest": "fake vehicle and hardware are for tests",
		"periph.io/x/conn/v3/gpio/gpiotest":             "fake pins are for tests",
		"github.com/mochi-mqtt/server/v2":               "the agent is an MQTT client; the embedded broker is the bench's",
		"github.com/creack/pty":                         "pseudo-terminals are the bench's",
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/agent: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 10 {
		t.Fatalf("go list -deps gave %d packages; the check would prove nothing", len(pkgs))
	}
	for _, pkg := range pkgs {
		for ban, why := range banned {
			if pkg == ban || strings.HasPrefix(pkg, ban+"/") {
				t.Errorf("cmd/agent depends on %s: %s", pkg, why)
			}
		}
	}
}
