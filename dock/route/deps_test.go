package route

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps route pure: it must not import package dock (dock imports
// it: a cycle) nor any other package of ours except dock/route (positions,
// wind, geodesy), and never anything doing IO to hardware or the network.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const ours = "github.com/dockagent/dock-agent/"
	self := ours + "dock/route"
	banned := map[string]string{
		"net":                                 "no network in planning code",
		"go.bug.st/serial":                    "no serial ports in planning code",
		"github.com/eclipse/paho.mqtt.golang": "MQTT belongs to telemetry",
	}
	for _, dep := range strings.Fields(string(out)) {
		if why, ok := banned[dep]; ok {
			t.Errorf("imports %s: %s", dep, why)
		}
		if strings.HasPrefix(dep, ours) && dep != self && dep != ours+"dock/route" {
			t.Errorf("imports %s: only dock/route of ours is allowed (dock imports this package)", dep)
		}
	}
}
