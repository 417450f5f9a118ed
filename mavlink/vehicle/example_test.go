package vehicle_test

import (
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/mavlink/vehicle"
)

func ExampleCustomMode() {
	for _, m := range []struct {
		ap   vehicle.Autopilot
		name string
	}{{vehicle.ArduPilot, "RTL"}, {vehicle.PX4, "AUTO.MISSION"}} {
		n, _ := vehicle.CustomMode(m.ap, m.name)
		fmt.Println(m.ap, m.name, n, vehicle.ModeName(m.ap, n))
	}
	// Output:
	// ardupilot RTL 6 RTL
	// px4 AUTO.MISSION 67371008 AUTO.MISSION
}

func ExampleWaypointItem() {
	it := vehicle.WaypointItem(52.5210, 13.4100, 40, 5*time.Second)
	fmt.Println(it.Command, it.Frame, it.Param1, it.AltM)
	// Output: MAV_CMD_NAV_WAYPOINT MAV_FRAME_GLOBAL_RELATIVE_ALT_INT 5 40
}
