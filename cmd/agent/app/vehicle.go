package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/transport"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
)

// vehicleLink is the MAVLink side of the agent: the transport to the
// vehicle, the vehicle client, and the taps that see every frame (ground
// station forward, flight log, MQTT bridge, metrics). It adapts the client
// to dock.Vehicle.
type vehicleLink struct {
	log     *slog.Logger
	link    *transport.Link
	client  *vehicle.Client
	streams *streamSwitch // the docked or the flight rates
	require bool          // drop unsigned frames

	unsigned atomic.Uint64

	// linkUp is signalled on every link-up: the vehicle's limits are read
	// again (a reboot or another vehicle may have new parameters).
	linkUp     chan struct{}
	cruiseWant float64 // the config's cruise speed, to warn when the vehicle flies slower

	mu     sync.Mutex
	taps   []func(raw []byte, src frameSource)
	dones  []func() // after the frames of one read of the link
	limits dock.VehicleLimits
}

// frameSource says where a frame on the vehicle link came from.
type frameSource int

const (
	fromVehicle frameSource = iota // heard from the vehicle
	fromAgent                      // sent by the agent's vehicle client
	fromOthers                     // sent to the vehicle for a ground station or the MQTT bridge
)

func newVehicleLink(cfg *config.Config, clock clockwork.Clock, log *slog.Logger) (*vehicleLink, error) {
	v := &vehicleLink{log: log, linkUp: make(chan struct{}, 1), cruiseWant: cfg.Flight.CruiseSpeedMPS}
	vc := cfg.Vehicle
	var popts mavlink.ParserOptions
	var signer *mavlink.Signer
	if vc.Signing != nil {
		key := vc.Signing.Key()
		if len(key) != 32 {
			return nil, fmt.Errorf("vehicle signing key from %s: %d bytes, want 32", vc.Signing.KeyFile, len(key))
		}
		var k [32]byte
		copy(k[:], key)
		popts.Verifier = mavlink.NewVerifier(mavlink.VerifierOptions{Key: k, Clock: clock})
		signer = mavlink.NewSigner(mavlink.SignerOptions{Key: k, LinkID: uint8(vc.Signing.LinkID), Clock: clock, Last: mavlink.SigningTimestamp(clock.Now())})
		v.require = vc.Signing.Require
	}
	sets, err := streamSetsFromConfig(vc)
	if err != nil {
		return nil, err
	}
	// config.ParseLink is the one parser of link strings; Load already
	// refused a bad vehicle.url, so this error names a bug, not the file.
	lk, err := vc.Link()
	if err != nil {
		return nil, fmt.Errorf("vehicle link: %w", err)
	}
	v.link, err = transport.New(transport.Kind(lk.Kind), lk.Address, transport.Options{
		Baud: vc.Baud, OpenSerial: openVehicleSerial, Clock: clock, Log: log, Parser: popts,
		OnFrame: v.onFrame, OnReadDone: v.readDone,
	})
	if err != nil {
		return nil, fmt.Errorf("vehicle link %s: %w", vc.URL, err)
	}
	v.client = vehicle.New(vehicle.Options{
		SysID: uint8(vc.SystemID), CompID: uint8(vc.ComponentID),
		Type:        mavlink.MAV_TYPE_ONBOARD_CONTROLLER,
		TargetSysID: uint8(vc.TargetSystem),
		Signer:      signer,
		Clock:       clock, Log: log,
		LinkTimeout: vc.HeartbeatTimeout,
		Streams:     sets.flight,
		OnSend:      func(raw []byte) { v.tap(raw, fromAgent) },
		OnLink: func(alive bool) {
			if alive {
				log.Info("vehicle link up")
				select {
				case v.linkUp <- struct{}{}:
				default:
				}
			} else {
				log.Warn("vehicle link lost")
			}
		},
	}, v.link)
	v.streams = newStreamSwitch(sets, v.client, clock, log)
	return v, nil
}

// addTap registers a function that sees every frame on the link, with
// where it came from. raw is valid during the call only; taps must not
// block.
func (v *vehicleLink) addTap(f func(raw []byte, src frameSource)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.taps = append(v.taps, f)
}

// addReadDone registers a function called on the link's reader once the
// frames of one read were all tapped (fromVehicle), so a tap that gathers
// them can send them as one batch. It must not block.
func (v *vehicleLink) addReadDone(f func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.dones = append(v.dones, f)
}

func (v *vehicleLink) readDone() {
	v.mu.Lock()
	dones := v.dones
	v.mu.Unlock()
	for _, d := range dones {
		d()
	}
}

func (v *vehicleLink) tap(raw []byte, src frameSource) {
	v.mu.Lock()
	taps := v.taps
	v.mu.Unlock()
	for _, t := range taps {
		t(raw, src)
	}
}

func (v *vehicleLink) onFrame(f *mavlink.Frame) {
	if v.require && !f.Signed() {
		if v.unsigned.Add(1) == 1 {
			v.log.Warn("unsigned MAVLink frame dropped: signing is required", "sysid", f.SysID, "msgid", f.MsgID)
		}
		return
	}
	v.client.Handle(f)
	v.tap(f.Raw, fromVehicle)
}

// Run runs the transport and the client until ctx ends.
func (v *vehicleLink) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- v.link.Run(ctx) })
	wg.Go(func() { errs <- v.client.Run(ctx) })
	wg.Go(func() { v.readLimits(ctx) })
	wg.Go(func() { v.streams.run(ctx) })
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// write sends raw frames of a ground station or the MQTT bridge to the
// vehicle; the flight log and metrics see them. Only the inbound guard
// calls it (inbound.go), after its policy let the frame pass.
func (v *vehicleLink) write(raw []byte) error {
	if err := v.link.Write(raw); err != nil {
		return err
	}
	v.tap(raw, fromOthers)
	return nil
}

// State implements dock.Vehicle.
func (v *vehicleLink) State() dock.VehicleState {
	s := v.client.State()
	out := dock.VehicleState{
		Link:          s.Alive,
		LastHeartbeat: s.LastHeartbeat,
		Armed:         s.Armed,
		Landed:        dock.LandedState(s.Landed),
		Mode:          s.Mode,
		Lat:           s.Lat, Lon: s.Lon, AltM: s.AltM, RelAltM: s.RelAltM,
		HeadingDeg: s.HeadingDeg, GroundSpeedMPS: s.GroundSpeedMPS, ClimbMPS: s.ClimbMPS,
		RollDeg: s.RollDeg, PitchDeg: s.PitchDeg,
		BatteryPct: float64(s.Battery.Pct), VoltageV: s.Battery.VoltageV, CurrentA: s.Battery.CurrentA,
		GPSFix: int(s.GPS.Fix), Sats: s.GPS.Sats, HDOP: s.GPS.HDOP,
		LossPct:       s.LossPct,
		PrearmHealthy: !s.PrearmKnown || s.PrearmHealthy,
		// Unknown is not healthy: right after discovery, before the first
		// EKF report, an ArduPilot still refuses to arm.
		EKFHealthy: s.EKFKnown && s.EKFHealthy,
		HomeSet:    s.HomeKnown,
		HomeLat:    s.Home.Lat, HomeLon: s.Home.Lon, HomeAltM: s.Home.AltM,
		MissionSeq:     s.MissionCurrent,
		MissionReached: s.MissionReached,
	}
	switch s.Autopilot {
	case vehicle.ArduPilot:
		out.Autopilot = "ardupilot"
		// ArduPilot's mission item 0 is home, which the client prepends
		// to the engine's items: the engine counts from the item after it.
		out.MissionSeq = max(-1, s.MissionCurrent-1)
		out.MissionReached = max(-1, s.MissionReached-1)
	case vehicle.PX4:
		out.Autopilot = "px4"
	}
	if !s.Discovered {
		out.BatteryPct = -1
	}
	v.mu.Lock()
	out.Limits = v.limits
	v.mu.Unlock()
	return out
}

// Streams asks for the flight rates (vehicle.stream_rates; the client
// asks again after every discovery and reboot), with ArduPilot's
// REQUEST_DATA_STREAM fallback: the sortie engine's request before a
// launch, which also ends the docked rates.
func (v *vehicleLink) Streams(ctx context.Context) error { return v.streams.flight(ctx) }

func (v *vehicleLink) SetMode(ctx context.Context, mode string) error {
	return v.client.SetMode(ctx, mode)
}
func (v *vehicleLink) Arm(ctx context.Context) error    { return v.client.Arm(ctx) }
func (v *vehicleLink) Disarm(ctx context.Context) error { return v.client.Disarm(ctx) }
func (v *vehicleLink) Takeoff(ctx context.Context, relAltM float64) error {
	return v.client.Takeoff(ctx, relAltM)
}
func (v *vehicleLink) StartMission(ctx context.Context) error { return v.client.StartMission(ctx) }
func (v *vehicleLink) GoTo(ctx context.Context, lat, lon, relAltM float64) error {
	return v.client.GoTo(ctx, lat, lon, relAltM)
}
func (v *vehicleLink) ReturnToLaunch(ctx context.Context) error { return v.client.ReturnToLaunch(ctx) }
func (v *vehicleLink) Land(ctx context.Context) error           { return v.client.Land(ctx) }
func (v *vehicleLink) Hold(ctx context.Context) error           { return v.client.Hold(ctx) }
func (v *vehicleLink) SetSpeed(ctx context.Context, mps float64) error {
	return v.client.SetSpeed(ctx, mps)
}
func (v *vehicleLink) SetHomeHere(ctx context.Context) error { return v.client.SetHomeHere(ctx) }

// UploadMission converts the engine's items to MAVLink mission items.
func (v *vehicleLink) UploadMission(ctx context.Context, items []dock.MissionItem) error {
	out := make([]vehicle.Item, 0, len(items))
	for i, it := range items {
		switch it.Command {
		case dock.MissionTakeoff:
			out = append(out, vehicle.TakeoffItem(it.AltM))
		case dock.MissionWaypoint:
			out = append(out, vehicle.WaypointItem(it.Lat, it.Lon, it.AltM, it.Hold))
		case dock.MissionLoiterTime:
			out = append(out, vehicle.LoiterTimeItem(it.Lat, it.Lon, it.AltM, it.Hold))
		case dock.MissionSpeed:
			out = append(out, vehicle.ChangeSpeedItem(it.SpeedMPS))
		case dock.MissionReturnToLaunch:
			out = append(out, vehicle.ReturnToLaunchItem())
		case dock.MissionLand:
			out = append(out, vehicle.LandItem(it.Lat, it.Lon))
		default:
			return fmt.Errorf("upload mission: item %d: unknown command %d", i, it.Command)
		}
	}
	return v.client.UploadMission(ctx, out)
}

var _ dock.Vehicle = (*vehicleLink)(nil)
