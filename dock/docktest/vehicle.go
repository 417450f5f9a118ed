package docktest

import (
	"context"
	"fmt"
	"sync"

	"github.com/dockagent/dock-agent/dock"
)

// Call is one command a Vehicle received.
type Call struct {
	Name string // "Arm", "Takeoff", ...
	Args []any
}

// Vehicle is a fake dock.Vehicle: its state is set by the test, its
// commands are recorded and answer nil unless scripted with Fail. Commands
// also change the state the way a cooperative vehicle would (Arm sets Armed,
// Takeoff puts it in the air at the requested altitude, Land and Disarm
// bring it back). It is safe for concurrent use; the zero value is not
// usable, use NewVehicle.
type Vehicle struct {
	mu    sync.Mutex
	st    dock.VehicleState
	calls []Call
	fail  map[string][]error
}

// NewVehicle returns a fake vehicle landed, disarmed, with a fresh link and
// a full battery.
func NewVehicle() *Vehicle {
	return &Vehicle{
		st: dock.VehicleState{
			Link: true, Landed: dock.LandedOnGround, Autopilot: "ardupilot",
			BatteryPct: 100, GPSFix: 3, Sats: 14, HDOP: 0.8,
			PrearmHealthy: true, EKFHealthy: true, HomeSet: true, MissionReached: -1,
		},
		fail: make(map[string][]error),
	}
}

// State implements dock.Vehicle.
func (v *Vehicle) State() dock.VehicleState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.st
}

// Set changes the state under the lock: v.Set(func(s *dock.VehicleState) { s.Armed = true }).
func (v *Vehicle) Set(f func(s *dock.VehicleState)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f(&v.st)
}

// SetLink sets whether heartbeats are fresh.
func (v *Vehicle) SetLink(ok bool) { v.Set(func(s *dock.VehicleState) { s.Link = ok }) }

// SetArmed sets the armed flag.
func (v *Vehicle) SetArmed(armed bool) { v.Set(func(s *dock.VehicleState) { s.Armed = armed }) }

// SetAirborne puts the vehicle armed in the air at relAltM, or back landed
// and disarmed when relAltM is negative.
func (v *Vehicle) SetAirborne(relAltM float64) {
	v.Set(func(s *dock.VehicleState) {
		if relAltM < 0 {
			s.Armed, s.Landed, s.RelAltM = false, dock.LandedOnGround, 0
			return
		}
		s.Armed, s.Landed, s.RelAltM = true, dock.LandedInAir, relAltM
	})
}

// Fail scripts the next calls of the command name ("Arm") to return errs in
// order; a nil entry lets that call succeed.
func (v *Vehicle) Fail(name string, errs ...error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fail[name] = append(v.fail[name], errs...)
}

// Calls returns the commands received so far.
func (v *Vehicle) Calls() []Call {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Call(nil), v.calls...)
}

// record notes the call and returns its scripted error; on success apply
// changes the state.
func (v *Vehicle) record(ctx context.Context, name string, apply func(s *dock.VehicleState), args ...any) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, Call{Name: name, Args: args})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if q := v.fail[name]; len(q) > 0 {
		err := q[0]
		v.fail[name] = q[1:]
		if err != nil {
			return err
		}
	}
	if apply != nil {
		apply(&v.st)
	}
	return nil
}

// Streams implements dock.Vehicle.
func (v *Vehicle) Streams(ctx context.Context) error { return v.record(ctx, "Streams", nil) }

// SetMode implements dock.Vehicle.
func (v *Vehicle) SetMode(ctx context.Context, mode string) error {
	return v.record(ctx, "SetMode", func(s *dock.VehicleState) { s.Mode = mode }, mode)
}

// Arm implements dock.Vehicle.
func (v *Vehicle) Arm(ctx context.Context) error {
	return v.record(ctx, "Arm", func(s *dock.VehicleState) { s.Armed = true })
}

// Disarm implements dock.Vehicle.
func (v *Vehicle) Disarm(ctx context.Context) error {
	return v.record(ctx, "Disarm", func(s *dock.VehicleState) { s.Armed = false })
}

// Takeoff implements dock.Vehicle.
func (v *Vehicle) Takeoff(ctx context.Context, relAltM float64) error {
	return v.record(ctx, "Takeoff", func(s *dock.VehicleState) {
		s.Landed, s.RelAltM = dock.LandedInAir, relAltM
	}, relAltM)
}

// UploadMission implements dock.Vehicle.
func (v *Vehicle) UploadMission(ctx context.Context, items []dock.MissionItem) error {
	return v.record(ctx, "UploadMission", nil, append([]dock.MissionItem(nil), items...))
}

// StartMission implements dock.Vehicle.
func (v *Vehicle) StartMission(ctx context.Context) error {
	return v.record(ctx, "StartMission", func(s *dock.VehicleState) { s.Mode = "AUTO" })
}

// GoTo implements dock.Vehicle.
func (v *Vehicle) GoTo(ctx context.Context, lat, lon, relAltM float64) error {
	return v.record(ctx, "GoTo", nil, lat, lon, relAltM)
}

// ReturnToLaunch implements dock.Vehicle.
func (v *Vehicle) ReturnToLaunch(ctx context.Context) error {
	return v.record(ctx, "ReturnToLaunch", func(s *dock.VehicleState) { s.Mode = "RTL" })
}

// Land implements dock.Vehicle: the vehicle lands and disarms at once.
func (v *Vehicle) Land(ctx context.Context) error {
	return v.record(ctx, "Land", func(s *dock.VehicleState) {
		s.Mode, s.Landed, s.RelAltM, s.Armed = "LAND", dock.LandedOnGround, 0, false
	})
}

// Hold implements dock.Vehicle: it holds in GUIDED, as ArduPilot does.
func (v *Vehicle) Hold(ctx context.Context) error {
	return v.record(ctx, "Hold", func(s *dock.VehicleState) { s.Mode = "GUIDED" })
}

// SetSpeed implements dock.Vehicle.
func (v *Vehicle) SetSpeed(ctx context.Context, mps float64) error {
	return v.record(ctx, "SetSpeed", nil, mps)
}

// SetHomeHere implements dock.Vehicle: home becomes the vehicle's position.
func (v *Vehicle) SetHomeHere(ctx context.Context) error {
	return v.record(ctx, "SetHomeHere", func(s *dock.VehicleState) {
		s.HomeSet, s.HomeLat, s.HomeLon, s.HomeAltM = true, s.Lat, s.Lon, s.AltM
	})
}

var _ dock.Vehicle = (*Vehicle)(nil)
