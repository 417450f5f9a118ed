package fleet

import (
	"context"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/world"
)

// DefaultChargePctPerMin is the fleet's charger: 3 % a minute of simulated
// time, a 2C fast charge (empty to full in about 33 minutes).
const DefaultChargePctPerMin = 3

// charge fills the simulated drone's battery while the dock's charger
// charges it (charger_status: charger enabled, mains, vehicle on the
// pad), until ctx ends. The bench's physics switches the charging contact
// but no battery fills behind it; one sortie would otherwise take a
// dock out of a 50-incident run for good (the readiness battery gate).
func charge(ctx context.Context, w *world.World, pctPerMin float64) {
	const step = 5 * time.Second // simulated
	t := w.Clock().NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		if w.Physics.Level(physics.ChargerStatus) != gpio.High {
			continue
		}
		s := w.Drone.State()
		if s.Armed || s.BatteryPct >= 100 {
			continue
		}
		w.Drone.SetBatteryPct(min(100, s.BatteryPct+pctPerMin*step.Minutes()))
	}
}
