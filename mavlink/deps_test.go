package mavlink

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the codec free of the agent's other packages
// (DESIGN.md §3: mavlink imports nothing of ours) and of MQTT.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	banned := map[string]string{
		"github.com/dockagent/dock-agent/dock":      "mavlink knows nothing of docks",
		"github.com/dockagent/dock-agent/telemetry": "mavlink knows nothing of MQTT telemetry",
		"github.com/dockagent/dock-agent/config":    "mavlink takes Options, not the config schema",
		"github.com/eclipse/paho.mqtt.golang":       "MQTT belongs to telemetry",
	}
	for _, pkg := range []string{".", "./tlog"} {
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
		}
	}
}
