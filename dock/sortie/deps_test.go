package sortie_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the dock's dependency rules (STYLE.md §1): the engine
// talks to the vehicle and the broker only through interfaces.
func TestImports(t *testing.T) {
	banned := map[string]string{
		"github.com/eclipse/paho.mqtt.golang":       "MQTT belongs to telemetry",
		"go.bug.st/serial":                          "serial ports belong to the app's adapters",
		"github.com/dockagent/dock-agent/mavlink":   "the vehicle is reached through dock.Vehicle",
		"github.com/dockagent/dock-agent/telemetry": "telemetry depends on dock, not the other way round",
		"github.com/dockagent/dock-agent/testbench": "the simulated world is for tests only",
		"go.etcd.io/bbolt":                          "the engine keeps JSON files",
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for b, why := range banned {
			if p == b || strings.HasPrefix(p, b+"/") {
				t.Errorf("dock/sortie depends on %s: %s", p, why)
			}
		}
	}
	// Networking is checked on the package's own imports: config (value
	// types only) parses broker URLs and so pulls in net/url.
	out, err = exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list imports: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "net" || strings.HasPrefix(p, "net/") {
			t.Errorf("dock/sortie imports %s: the engine does no networking", p)
		}
	}
}
