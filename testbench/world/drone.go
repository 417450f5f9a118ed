package world

import (
	"context"
	"fmt"
)

// droneSim is the simulated drone on the vehicle pty.
type droneSim interface{}

// startDrone starts the drone simulator on the vehicle pty.
func (w *World) startDrone(ctx context.Context) error {
	_ = ctx
	w.droneState = func() DroneState { return DroneState{} }
	return nil
}

// DroneState returns the simulated drone's state (Known false with a real
// autopilot).
func (w *World) DroneState() DroneState { return w.droneState() }

// DroneFault injects a drone fault by name (gps_loss, gps_back, link_drop,
// link_back, battery:<pct>, refuse_arming, allow_arming,
// drop_mission_requests:<n>, wind:<mps>,<dir>).
func (w *World) DroneFault(name, arg string) error {
	return fmt.Errorf("drone fault %s: no simulated drone on this bench", name)
}
