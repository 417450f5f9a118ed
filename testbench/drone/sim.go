package drone

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// Default identity and timing.
const (
	DefaultSysID  = 1
	DefaultCompID = 1 // MAV_COMP_ID_AUTOPILOT1
	DefaultTick   = 20 * time.Millisecond
)

// Position is a point on the Earth: degrees and metres above mean sea level.
type Position struct {
	Lat, Lon float64 // degrees
	AltM     float64 // metres AMSL
}

// Options configure a Sim. The zero value is a drone on the ground at the
// bench's dock (stadium area, 24.3504, 102.5420, 1650 m), full battery,
// good GPS, no wind, sys id 1, comp id 1, MAVLink v2.
type Options struct {
	// SysID and CompID are the vehicle's MAVLink ids; 0 means 1.
	SysID, CompID uint8
	// MAVLinkVersion is 1 or 2; 0 means 2.
	MAVLinkVersion uint8
	// Start is where the drone boots, on the ground; the zero value means
	// the bench dock. Its altitude is the ground level of the whole (flat)
	// world.
	Start Position
	// Tick is the step of the simulation in clock time; 0 means 20 ms.
	Tick time.Duration
	// Seed seeds the GPS noise; equal seeds give equal noise.
	Seed uint64
	// GPSNoiseM is the standard deviation of the horizontal GPS error in
	// metres (a slow random walk, 10 s correlation); 0 means 0.5 m, a
	// negative value turns the noise off.
	GPSNoiseM float64
	// BatteryPct is the charge at boot; 0 means 100.
	BatteryPct float64
	// MinArmBatteryPct refuses arming below this charge ("PreArm: Battery
	// below minimum arming capacity"); 0 means 30, negative disables.
	MinArmBatteryPct float64
	// MissionRequestLegacy makes uploads request items with the float
	// MISSION_REQUEST (which some ArduCopter versions send) instead of
	// MISSION_REQUEST_INT; items may come as either MISSION_ITEM_INT or
	// MISSION_ITEM in both cases.
	MissionRequestLegacy bool
	// OnFrameWritten, if set, is called by the link's writer after each
	// frame was written to the peer, with the frame bytes (valid only
	// during the call) and the clock time of the write. It runs on the
	// writer goroutine and must be quick.
	OnFrameWritten func(frame []byte, at time.Time)
	// LoadRate is the initial extra load stream in messages per second per
	// link (see SetLoadRate); 0 means none.
	LoadRate int
	// Logger; nil discards.
	Logger *slog.Logger
}

// Sim is the simulated drone. All methods are safe for concurrent use.
type Sim struct {
	clock  clockwork.Clock
	log    *slog.Logger
	sysID  uint8
	compID uint8
	ver    uint8
	tick   time.Duration
	onSent func([]byte, time.Time)
	// legacyRequests: Options.MissionRequestLegacy
	legacyRequests bool

	origin Position // EKF origin: the boot position

	mu    sync.Mutex
	links map[*link]struct{}
	v     vehicle
	in    inbound
	out   outbound
}

// New returns a Sim on clock, on the ground, disarmed, in STABILIZE. Call
// Run to make time pass and Serve to attach links.
func New(opts Options, clock clockwork.Clock) (*Sim, error) {
	if clock == nil {
		return nil, fmt.Errorf("new drone simulator: nil clock")
	}
	if opts.SysID == 0 {
		opts.SysID = DefaultSysID
	}
	if opts.CompID == 0 {
		opts.CompID = DefaultCompID
	}
	switch opts.MAVLinkVersion {
	case 0:
		opts.MAVLinkVersion = 2
	case 1, 2:
	default:
		return nil, fmt.Errorf("new drone simulator: MAVLink version %d, want 1 or 2", opts.MAVLinkVersion)
	}
	if opts.Start == (Position{}) {
		opts.Start = Position{Lat: 24.3504, Lon: 102.5420, AltM: 1650}
	}
	if math.Abs(opts.Start.Lat) > 85 || math.Abs(opts.Start.Lon) > 180 {
		return nil, fmt.Errorf("new drone simulator: start %.6f,%.6f is not a usable position", opts.Start.Lat, opts.Start.Lon)
	}
	if opts.Tick == 0 {
		opts.Tick = DefaultTick
	}
	if opts.Tick < time.Millisecond || opts.Tick > time.Second {
		return nil, fmt.Errorf("new drone simulator: tick %v out of range 1ms..1s", opts.Tick)
	}
	switch {
	case opts.GPSNoiseM == 0:
		opts.GPSNoiseM = 0.5
	case opts.GPSNoiseM < 0:
		opts.GPSNoiseM = 0
	}
	if opts.BatteryPct == 0 {
		opts.BatteryPct = 100
	}
	if opts.BatteryPct < 0 || opts.BatteryPct > 100 {
		return nil, fmt.Errorf("new drone simulator: battery %.1f %% out of range 0..100", opts.BatteryPct)
	}
	if opts.MinArmBatteryPct == 0 {
		opts.MinArmBatteryPct = 30
	}
	if opts.LoadRate < 0 {
		return nil, fmt.Errorf("new drone simulator: negative load rate %d", opts.LoadRate)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		clock:          clock,
		log:            log.With("component", "drone_sim"),
		sysID:          opts.SysID,
		compID:         opts.CompID,
		ver:            opts.MAVLinkVersion,
		tick:           opts.Tick,
		onSent:         opts.OnFrameWritten,
		legacyRequests: opts.MissionRequestLegacy,
		links:          make(map[*link]struct{}),
		origin:         opts.Start,
	}
	now := clock.Now()
	v := &s.v
	v.boot = now
	v.last = now
	v.params = newParams()
	v.params.set("SYSID_THISMAV", float64(opts.SysID))
	v.applyParams()
	v.mode = ModeStabilize
	v.onGround = true
	v.groundAlt = opts.Start.AltM
	v.lat, v.lon, v.alt = opts.Start.Lat, opts.Start.Lon, opts.Start.AltM
	v.home = opts.Start

	v.noiseM = opts.GPSNoiseM
	v.rng = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	v.minArmPct = opts.MinArmBatteryPct
	v.consumedMAh = v.capacityMAh * (1 - opts.BatteryPct/100)
	v.loadRate = opts.LoadRate
	v.startLeg(v.wpSpeed)
	v.groundSince = now
	return s, nil
}

// Run makes the world's time pass: every Tick it steps the vehicle (in
// whole ticks, catching up after a late wake-up) and sends every link its
// due heartbeats, streams and load frames. It returns nil when ctx ends.
// Run once per Sim.
func (s *Sim) Run(ctx context.Context) error {
	t := s.clock.NewTimer(s.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
		s.mu.Lock()
		s.advance(s.clock.Now())
		s.mu.Unlock()
		t.Reset(s.tick)
	}
}

// maxCatchUp bounds how much clock time one wake-up integrates; beyond it
// the world skips (a stopped process, a clock jump).
const maxCatchUp = time.Minute

// advance steps the world to now and emits what is due. Caller holds mu.
func (s *Sim) advance(now time.Time) {
	v := &s.v
	gap := now.Sub(v.last)
	if gap > maxCatchUp {
		v.last = now.Add(-maxCatchUp)
	}
	for !v.last.Add(s.tick).After(now) {
		v.last = v.last.Add(s.tick)
		s.step(v.last, s.tick.Seconds())
	}
	s.missionUploadTimeouts(now)
	for l := range s.links {
		s.emitDue(l, now)
	}
}

// State is a snapshot of the simulated vehicle, true values (no GPS noise).
type State struct {
	Time       time.Time
	Armed      bool
	Mode       Mode
	ModeName   string // ArduCopter name: "GUIDED", "RTL"...
	Landed     mavlink.MAVLandedState
	Lat, Lon   float64 // degrees
	AltM       float64 // metres AMSL
	RelAltM    float64 // metres above home
	HeadingDeg float64
	// GroundSpeedMPS and ClimbMPS are the speeds over ground.
	GroundSpeedMPS float64
	ClimbMPS       float64
	BatteryPct     float64
	BatteryV       float64
	CurrentA       float64
	GPSFix         mavlink.GPSFixType
	Satellites     int
	Home           Position
	// OnGroundAtHome is true when the vehicle is on the ground within
	// 1.5 m (horizontally) of home: docked, for the bench's invariants.
	OnGroundAtHome bool
	// DistanceToHomeM is the horizontal distance to home.
	DistanceToHomeM float64
	MissionCount    int // items including home (seq 0)
	MissionSeq      int // current item
	WindMPS         float64
	WindFromDeg     float64
	// LinkDown is true during an injected link drop.
	LinkDown bool
}

// State returns a snapshot of the vehicle.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &s.v
	now := s.clock.Now()
	dHome := v.distTo(v.home.Lat, v.home.Lon)
	st := State{
		Time:            now,
		Armed:           v.armed,
		Mode:            v.mode,
		ModeName:        v.mode.String(),
		Landed:          v.landedState(),
		Lat:             v.lat,
		Lon:             v.lon,
		AltM:            v.alt,
		RelAltM:         v.alt - v.home.AltM,
		HeadingDeg:      deg(v.yaw),
		GroundSpeedMPS:  math.Hypot(v.gn, v.ge),
		ClimbMPS:        -v.gd,
		BatteryPct:      v.batteryPct(),
		BatteryV:        v.voltage(),
		CurrentA:        v.currentA,
		GPSFix:          v.gpsFix(),
		Satellites:      v.sats(),
		Home:            v.home,
		OnGroundAtHome:  v.onGround && dHome <= 1.5,
		DistanceToHomeM: dHome,
		MissionCount:    len(v.mission),
		MissionSeq:      v.cur,
		WindMPS:         v.windSpd,
		WindFromDeg:     v.windFrom,
		LinkDown:        now.Before(v.linkDownUntil),
	}
	if st.HeadingDeg < 0 {
		st.HeadingDeg += 360
	}
	return st
}

// SetGPSLost makes the GPS lose (true) or regain (false) its fix. In the
// air in a mode that needs position, a loss longer than 1 s triggers the
// EKF failsafe: LAND, drifting with the wind.
func (s *Sim) SetGPSLost(lost bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lost && !s.v.gpsLost {
		s.v.gpsLostAt = s.clock.Now()
	}
	s.v.gpsLost = lost
}

// SetPilotThrottle puts the pilot's throttle stick at stick: 0 is its low
// end, where it rests with no pilot (SITL's RC input, and the default);
// 0.5 is centred; 1 is full up. In ALT_HOLD, LOITER and POSHOLD the stick
// asks for a climb rate: low is a descent at PILOT_SPEED_DN down to the
// ground, centred (±10 %) holds the altitude. In STABILIZE and ACRO the
// low end leaves the motors at idle and the vehicle falls; elsewhere the
// simulator flies the stick as a climb rate there too. With the stick low
// ArduCopter disarms DISARM_DELAY after the vehicle is down; with it
// anywhere else it does not. GUIDED, AUTO, RTL, LAND and BRAKE ignore the
// stick. The stick never takes off.
func (s *Sim) SetPilotThrottle(stick float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if math.IsNaN(stick) {
		stick = 0
	}
	s.v.throttle = math.Max(0, math.Min(1, stick))
}

// DropLink makes every link silent for d of clock time: nothing is sent
// (sequence numbers still advance, as frames lost on a radio) and what
// arrives is ignored. A d of 0 ends a drop early.
func (s *Sim) DropLink(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.linkDownUntil = s.clock.Now().Add(d)
}

// SetBatteryPct sets the remaining charge, 0..100 (a charger, a tired
// pack). The battery failsafes fire from here as from a real drain.
func (s *Sim) SetBatteryPct(pct float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pct = math.Max(0, math.Min(100, pct))
	v := &s.v
	v.consumedMAh = v.capacityMAh * (1 - pct/100)
	if pct > 30 {
		v.lowFired, v.crtFired = false, false
	}
}

// RefuseArming makes every arming attempt fail with "PreArm: reason";
// an empty reason clears the refusal.
func (s *Sim) RefuseArming(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.refuseArm = reason
}

// DropMissionRequests makes the next n MISSION_REQUEST_INT the vehicle
// sends get lost; it re-requests after 1 s as ArduPilot does.
func (s *Sim) DropMissionRequests(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.dropMissionReq = max(0, n)
}

// DropMissionItems makes the next n MISSION_ITEM_INT that arrive get lost.
func (s *Sim) DropMissionItems(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.dropMissionItems = max(0, n)
}

// DropCommandAcks makes the next n COMMAND_ACKs get lost; the commands
// themselves still run.
func (s *Sim) DropCommandAcks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.dropAcks = max(0, n)
}

// SetWind sets the wind: speed in m/s, blowing from fromDeg (0 north, 90
// east), as SITL's SIM_WIND_SPD and SIM_WIND_DIR parameters, which it sets.
func (s *Sim) SetWind(speedMPS, fromDeg float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.params.set("SIM_WIND_SPD", math.Max(0, speedMPS))
	s.v.params.set("SIM_WIND_DIR", math.Mod(fromDeg+360, 360))
	s.v.applyParams()
}

// SetLoadRate streams n extra messages per second on every link (ATTITUDE,
// GLOBAL_POSITION_INT, VFR_HUD and SYS_STATUS in turn, valid frames with the
// current state), for load tests; 0 stops it.
func (s *Sim) SetLoadRate(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.loadRate = max(0, n)
}

// LinkStats are counters of one link, see Sim.Links.
type LinkStats struct {
	Sent    uint64 // frames queued for the peer
	Dropped uint64 // frames lost: queue full or link dropped
	Written uint64 // frames written to the peer
	Frames  uint64 // frames received
	Bad     uint64 // damaged frames received
}

// Interval returns the shortest interval message id is streamed at on any
// link being served, 0 if it is streamed on none: what the agent asked
// for (SET_MESSAGE_INTERVAL, REQUEST_DATA_STREAM).
func (s *Sim) Interval(id uint32) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best time.Duration
	for l := range s.links {
		if d := l.interval(id); d > 0 && (best == 0 || d < best) {
			best = d
		}
	}
	return best
}

// Links returns the counters of the links being served.
func (s *Sim) Links() []LinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []LinkStats
	for l := range s.links {
		out = append(out, l.stats())
	}
	return out
}
