package world

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/testbench/drone"
)

// startDrone starts the drone simulator on the vehicle pty and keeps the
// physics' "vehicle on the pad" in step with it.
func (w *World) startDrone(ctx context.Context) error {
	if w.opts.VehicleURL != "" {
		w.droneState = w.watch.state
		w.wg.Go(func() { w.watch.run(ctx) })
		w.wg.Go(func() { w.followPad(ctx, w.watch.onPad) })
		return nil
	}
	pos := w.Config.Position
	sim, err := drone.New(drone.Options{
		Start:          drone.Position{Lat: pos.Lat, Lon: pos.Lon, AltM: pos.AltM},
		Seed:           1,
		OnFrameWritten: w.opts.OnFrameWritten,
		Logger:         w.log.With("part", "drone"),
	}, w.clock)
	if err != nil {
		return fmt.Errorf("world: drone: %w", err)
	}
	w.Drone = sim
	w.droneState = func() DroneState {
		s := sim.State()
		return DroneState{
			Known: true, Armed: s.Armed, OnGround: s.Landed == 1 || (s.RelAltM < 0.2 && !s.Armed),
			RelAltM: s.RelAltM, DistHomeM: s.DistanceToHomeM, Mode: s.ModeName, ClimbMPS: s.ClimbMPS,
		}
	}
	w.wg.Go(func() { _ = sim.Run(ctx) })
	port := w.ptys["vehicle"]
	w.wg.Go(func() {
		for ctx.Err() == nil {
			if err := sim.Serve(ctx, port); err != nil && ctx.Err() == nil {
				w.log.Debug("drone link ended; serving again", "err", err)
				t := w.clock.NewTimer(100 * time.Millisecond)
				select {
				case <-ctx.Done():
				case <-t.Chan():
				}
				t.Stop()
			}
		}
	})
	w.wg.Go(func() { w.followPad(ctx, func() bool { return sim.State().OnGroundAtHome }) })
	return nil
}

// followPad keeps the physics' "vehicle on the pad" in step with the drone
// until ctx ends.
func (w *World) followPad(ctx context.Context, onPad func() bool) {
	t := w.clock.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			w.Physics.SetVehiclePresent(onPad())
		}
	}
}

// VehicleModes returns every flight mode a real autopilot (VehicleURL)
// reported while armed, in order; nil with the simulated drone.
func (w *World) VehicleModes() []string {
	if w.watch == nil {
		return nil
	}
	return w.watch.Modes()
}

// DroneState returns the drone's state: the simulated drone's, or a real
// autopilot's as heard through the agent's forward (Known once it was heard).
func (w *World) DroneState() DroneState { return w.droneState() }

// DroneFault injects a drone fault by name: gps_loss, gps_back,
// link_drop:<duration>, battery:<pct>, refuse_arming:<reason>,
// allow_arming, drop_mission_requests:<n>, drop_acks:<n>, wind:<mps>,<from deg>.
func (w *World) DroneFault(name, arg string) error {
	if w.Drone == nil {
		return fmt.Errorf("drone fault %s: no simulated drone on this bench", name)
	}
	d := w.Drone
	switch name {
	case "gps_loss":
		d.SetGPSLost(true)
	case "gps_back":
		d.SetGPSLost(false)
	case "link_drop":
		dur, err := time.ParseDuration(orDefault(arg, "20s"))
		if err != nil {
			return fmt.Errorf("link_drop:%s: %w", arg, err)
		}
		d.DropLink(dur)
	case "battery":
		pct, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return fmt.Errorf("battery:%s: want a percentage", arg)
		}
		d.SetBatteryPct(pct)
	case "refuse_arming":
		d.RefuseArming(orDefault(arg, "PreArm: bench refusal"))
	case "allow_arming":
		d.RefuseArming("")
	case "drop_mission_requests", "drop_acks":
		n, err := strconv.Atoi(orDefault(arg, "1"))
		if err != nil {
			return fmt.Errorf("%s:%s: want a count", name, arg)
		}
		if name == "drop_acks" {
			d.DropCommandAcks(n)
		} else {
			d.DropMissionRequests(n)
		}
	case "wind":
		speed, from, _ := strings.Cut(arg, ",")
		s, err1 := strconv.ParseFloat(speed, 64)
		f, err2 := strconv.ParseFloat(orDefault(from, "0"), 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("wind:%s: want speed,from", arg)
		}
		d.SetWind(s, f)
	default:
		return fmt.Errorf("unknown drone fault %q", name)
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
