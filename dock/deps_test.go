package dock_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps dock the domain core (STYLE.md §1): it talks to the outside
// only through the interfaces it declares.
func TestDeps(t *testing.T) {
	banned := map[string]string{
		"github.com/eclipse/paho.mqtt.golang":       "MQTT belongs to telemetry, which depends on dock, not the other way round",
		"go.bug.st/serial":                          "serial ports are opened by the app; dock takes byte streams and pins",
		"github.com/dockagent/dock-agent/mavlink":   "the vehicle is reached through dock.Vehicle, implemented in the app",
		"github.com/dockagent/dock-agent/telemetry": "telemetry imports dock; the reverse would be a cycle and a layering break",
		"github.com/dockagent/dock-agent/testbench": "the simulated world is for tests and the bench only",
		"github.com/dockagent/dock-agent/cmd/agent": "the app wires dock, never the reverse",
	}
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./dock/...: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for ban, why := range banned {
			if pkg == ban || strings.HasPrefix(pkg, ban+"/") {
				t.Errorf("dock depends on %s: %s", pkg, why)
			}
		}
	}

	// Networking is checked on dock's own imports: config (whose value
	// types dock may use) parses URLs with net/url, which is not dock
	// doing networking.
	out, err = exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -f imports ./dock/...: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if imp == "net" || strings.HasPrefix(imp, "net/") {
				t.Errorf("%s imports %s: dock does no networking; the vehicle and MQTT sit behind interfaces", fields[0], imp)
			}
		}
	}
}
