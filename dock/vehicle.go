package dock

import (
	"context"
	"time"
)

// LandedState mirrors MAVLink MAV_LANDED_STATE.
type LandedState int

// Landed states (MAVLink MAV_LANDED_STATE values).
const (
	LandedUndefined LandedState = 0
	LandedOnGround  LandedState = 1
	LandedInAir     LandedState = 2
	LandedTakeoff   LandedState = 3
	LandedLanding   LandedState = 4
)

// VehicleState is a snapshot of what the vehicle reported last. Zero values
// mean "not reported yet"; Link says whether heartbeats are fresh.
type VehicleState struct {
	Link          bool      // heartbeats fresh
	LastHeartbeat time.Time // zero before the first
	Autopilot     string    // "ardupilot", "px4", "" unknown
	Armed         bool
	Landed        LandedState
	Mode          string // flight mode by name ("GUIDED", "AUTO", "RTL", ...)

	Lat, Lon       float64 // degrees
	AltM           float64 // AMSL
	RelAltM        float64 // above home
	HeadingDeg     float64
	GroundSpeedMPS float64
	ClimbMPS       float64
	RollDeg        float64
	PitchDeg       float64

	BatteryPct float64 // -1 when unknown
	VoltageV   float64
	CurrentA   float64

	GPSFix  int // MAVLink GPS_FIX_TYPE: 3 = 3D
	Sats    int
	HDOP    float64
	LossPct float64 // link loss from sequence gaps
	RSSI    int

	PrearmHealthy  bool // SYS_STATUS pre-arm check bit, or no failing STATUSTEXT
	EKFHealthy     bool
	HomeSet        bool
	HomeLat        float64
	HomeLon        float64
	HomeAltM       float64
	MissionSeq     int // MISSION_CURRENT.seq
	MissionReached int // last MISSION_ITEM_REACHED.seq, -1 none

	// Limits are the speeds the vehicle flies by its own parameters, read
	// once per link-up; zero fields are not known (yet).
	Limits VehicleLimits
}

// VehicleLimits are the speeds and altitudes a vehicle flies by its own
// parameters (ArduCopter WPNAV_SPEED, WPNAV_SPEED_UP, WPNAV_SPEED_DN,
// RTL_ALT, RTL_SPEED; PX4 MPC_XY_CRUISE, MPC_Z_VEL_MAX_UP,
// MPC_Z_VEL_MAX_DN, RTL_RETURN_ALT). Zero means unknown. The engine plans
// with the lower of these and the config, and commands its cruise speed.
type VehicleLimits struct {
	CruiseMPS  float64 // horizontal speed of guided and mission flight
	ClimbMPS   float64 // climb rate of take-off and altitude changes
	DescentMPS float64
	RTLAltM    float64 // the return climbs to at least this above home
	RTLMPS     float64 // horizontal speed of the return (0: CruiseMPS)
}

// MissionCommand is the kind of a mission item the engine uploads.
type MissionCommand int

// Mission item kinds; the vehicle adapter maps them to MAV_CMD values.
const (
	MissionTakeoff MissionCommand = iota
	MissionWaypoint
	MissionLoiterTime
	MissionSpeed
	MissionReturnToLaunch
	MissionLand
)

// MissionItem is one item of a mission the engine uploads. Altitudes are
// relative to home.
type MissionItem struct {
	Command  MissionCommand
	Lat, Lon float64
	AltM     float64
	Hold     time.Duration // waypoint hold / loiter time
	SpeedMPS float64       // MissionSpeed
}

// Vehicle is what the sortie engine needs from the drone. Reads return a
// snapshot; commands take a ctx and return when the vehicle acknowledged or
// the ctx ended, with an error naming the command and the result.
// Implementations are safe for concurrent use.
type Vehicle interface {
	State() VehicleState
	// Streams asks for the telemetry the engine needs (again after a reconnect).
	Streams(ctx context.Context) error
	SetMode(ctx context.Context, mode string) error
	Arm(ctx context.Context) error
	Disarm(ctx context.Context) error
	Takeoff(ctx context.Context, relAltM float64) error
	UploadMission(ctx context.Context, items []MissionItem) error
	StartMission(ctx context.Context) error
	GoTo(ctx context.Context, lat, lon, relAltM float64) error
	ReturnToLaunch(ctx context.Context) error
	Land(ctx context.Context) error
	// Hold holds the position and altitude where the vehicle is, in a mode
	// that needs no pilot (ArduPilot GUIDED, PX4 AUTO.LOITER): invariant 8.
	Hold(ctx context.Context) error
	// SetSpeed sets the horizontal speed of the current flight in m/s.
	SetSpeed(ctx context.Context, mps float64) error
	// SetHomeHere sets home to the vehicle's own position and altitude.
	SetHomeHere(ctx context.Context) error
}
