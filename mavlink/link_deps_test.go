package mavlink

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinkDependencies keeps the vehicle-link packages (issue 4) free of the
// agent's other packages and of MQTT (DESIGN.md §3), and serial code inside
// package transport (STYLE.md §1).
func TestLinkDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	banned := map[string]string{
		"github.com/dockagent/dock-agent/dock":      "mavlink knows nothing of docks",
		"github.com/dockagent/dock-agent/telemetry": "mavlink knows nothing of MQTT telemetry",
		"github.com/dockagent/dock-agent/config":    "mavlink takes Options, not the config schema",
		"github.com/dockagent/dock-agent/testbench": "the bench is for tests only",
		"github.com/eclipse/paho.mqtt.golang":       "MQTT belongs to telemetry",
	}
	for _, pkg := range []string{"./transport", "./vehicle", "./router", "./flightlog"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for b, why := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s: %s", pkg, dep, why)
				}
			}
			if pkg != "./transport" && strings.HasPrefix(dep, "go.bug.st/serial") {
				t.Errorf("%s imports %s: only mavlink/transport may open serial ports", pkg, dep)
			}
		}
	}
}
