package world

import "context"

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
