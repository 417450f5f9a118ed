package vehicle

import (
	"bytes"
	"math"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// State is a snapshot of what the client knows of the vehicle. Values are
// those of the last message that carries them; fields whose message never
// arrived keep their zero value (Battery.Pct is -1 until known). A State
// is a copy: the caller may keep it.
type State struct {
	// Link.
	Discovered    bool      // an autopilot heartbeat was heard at least once
	Alive         bool      // heard within Options.LinkTimeout
	LastHeartbeat time.Time // when the last autopilot heartbeat arrived
	LossPct       float64   // recent frame loss from sequence gaps, 0..100
	SysID, CompID uint8     // the autopilot's ids
	Autopilot     Autopilot
	VehicleType   mavlink.MAVType
	SystemStatus  mavlink.MAVState

	// Mode and arming (HEARTBEAT, EXTENDED_SYS_STATE).
	Armed      bool
	Mode       string // by name, see ModeName
	CustomMode uint32
	Landed     mavlink.MAVLandedState

	// Position (GLOBAL_POSITION_INT, VFR_HUD, ATTITUDE).
	PositionKnown  bool
	Lat, Lon       float64 // degrees
	AltM           float64 // above mean sea level
	RelAltM        float64 // above home
	HeadingDeg     float64 // 0..360
	GroundSpeedMPS float64
	AirSpeedMPS    float64
	ClimbMPS       float64
	VelNorthMPS    float64
	VelEastMPS     float64
	VelDownMPS     float64
	RollDeg        float64
	PitchDeg       float64
	YawDeg         float64

	Battery Battery
	GPS     GPS

	// Home (HOME_POSITION).
	HomeKnown bool
	Home      Position

	// Mission progress (MISSION_CURRENT, MISSION_ITEM_REACHED).
	MissionCurrent int // sequence number of the current item
	MissionTotal   int // items in the mission (0 if the autopilot does not say)
	MissionReached int // last item reached, -1 before any

	// Health.
	EKFKnown      bool
	EKFHealthy    bool   // attitude, velocity and absolute position estimates good
	EKFFlags      uint16 // EKF_STATUS_REPORT (ArduPilot) or ESTIMATOR_STATUS (PX4) flags
	PrearmKnown   bool   // the autopilot reports the pre-arm check bit
	PrearmHealthy bool   // SYS_STATUS MAV_SYS_STATUS_PREARM_CHECK healthy
	SensorsHealth uint32 // SYS_STATUS onboard_control_sensors_health

	// StatusTexts are the last STATUSTEXT messages, oldest first.
	StatusTexts []StatusText
	// Updated is when any message of the vehicle last changed the state.
	Updated time.Time
}

// Battery is the vehicle's main battery.
type Battery struct {
	Pct      int // remaining 0..100, -1 unknown
	VoltageV float64
	CurrentA float64 // -1 unknown
}

// GPS is the first GPS receiver's status (GPS_RAW_INT).
type GPS struct {
	Fix  mavlink.GPSFixType
	Sats int     // satellites visible, -1 unknown
	HDOP float64 // -1 unknown
}

// Position is a point: latitude and longitude in degrees, altitude in
// metres above mean sea level.
type Position struct {
	Lat, Lon float64
	AltM     float64
}

// StatusText is one STATUSTEXT of the vehicle.
type StatusText struct {
	Time     time.Time
	Severity mavlink.MAVSeverity
	Text     string
}

// maxStatusTexts is how many status texts State keeps.
const maxStatusTexts = 10

// prearmCheckBit is MAV_SYS_STATUS_PREARM_CHECK in SYS_STATUS sensor bits.
const prearmCheckBit = 1 << 28

// EKF_STATUS_REPORT and ESTIMATOR_STATUS flags (same low bits).
const (
	ekfAttitude     = 1
	ekfVelHoriz     = 2
	ekfPosHorizAbs  = 16
	ekfPosVertAbs   = 32
	ekfConstPosMode = 128
	// ekfPredPosHorizAbs: the estimate the vehicle would have once armed.
	// ArduCopter arms only with it ("Need Position Estimate").
	ekfPredPosHorizAbs = 512
	ekfNeeded          = ekfAttitude | ekfVelHoriz | ekfPosHorizAbs | ekfPosVertAbs
	// ArduPilot EKF_UNINITIALIZED and EKF_GPS_GLITCHING.
	apEKFBad = 1024 | 32768
	// PX4 ESTIMATOR_GPS_GLITCH and ESTIMATOR_ACCEL_ERROR.
	px4EKFBad = 1024 | 2048
)

func newState() State {
	return State{Battery: Battery{Pct: -1, CurrentA: -1}, GPS: GPS{Sats: -1, HDOP: -1}, MissionReached: -1}
}

// apply updates s from one message of the autopilot. It reports whether
// the message belongs to the state (so Updated moves).
func (s *State) apply(now time.Time, f *mavlink.Frame) bool {
	switch f.MsgID {
	case 0: // HEARTBEAT: handled by the client (discovery)
		return false
	case 33:
		var m mavlink.GlobalPositionInt
		m.DecodePayload(f.Payload)
		s.PositionKnown = true
		s.Lat, s.Lon = float64(m.Lat)/1e7, float64(m.Lon)/1e7
		s.AltM, s.RelAltM = float64(m.Alt)/1000, float64(m.RelativeAlt)/1000
		s.VelNorthMPS, s.VelEastMPS, s.VelDownMPS = float64(m.Vx)/100, float64(m.Vy)/100, float64(m.Vz)/100
		if m.Hdg != math.MaxUint16 {
			s.HeadingDeg = float64(m.Hdg) / 100
		}
	case 30:
		var m mavlink.Attitude
		m.DecodePayload(f.Payload)
		s.RollDeg = deg(m.Roll)
		s.PitchDeg = deg(m.Pitch)
		s.YawDeg = math.Mod(deg(m.Yaw)+360, 360)
	case 74:
		var m mavlink.VFRHUD
		m.DecodePayload(f.Payload)
		s.GroundSpeedMPS = float64(m.Groundspeed)
		s.AirSpeedMPS = float64(m.Airspeed)
		s.ClimbMPS = float64(m.Climb)
	case 1:
		var m mavlink.SysStatus
		m.DecodePayload(f.Payload)
		if m.VoltageBattery != math.MaxUint16 {
			s.Battery.VoltageV = float64(m.VoltageBattery) / 1000
		}
		if m.CurrentBattery >= 0 {
			s.Battery.CurrentA = float64(m.CurrentBattery) / 100
		}
		if m.BatteryRemaining >= 0 {
			s.Battery.Pct = int(m.BatteryRemaining)
		}
		s.SensorsHealth = m.OnboardControlSensorsHealth
		s.PrearmKnown = m.OnboardControlSensorsPresent&prearmCheckBit != 0
		s.PrearmHealthy = s.PrearmKnown && m.OnboardControlSensorsHealth&prearmCheckBit != 0
	case 147:
		var m mavlink.BatteryStatus
		m.DecodePayload(f.Payload)
		if m.ID != 0 {
			return false
		}
		if m.BatteryRemaining >= 0 {
			s.Battery.Pct = int(m.BatteryRemaining)
		}
		if m.CurrentBattery >= 0 {
			s.Battery.CurrentA = float64(m.CurrentBattery) / 100
		}
	case 24:
		var m mavlink.GPSRawInt
		m.DecodePayload(f.Payload)
		s.GPS.Fix = m.FixType
		s.GPS.Sats = -1
		if m.SatellitesVisible != math.MaxUint8 {
			s.GPS.Sats = int(m.SatellitesVisible)
		}
		s.GPS.HDOP = -1
		if m.Eph != math.MaxUint16 {
			s.GPS.HDOP = float64(m.Eph) / 100
		}
	case 245:
		var m mavlink.ExtendedSysState
		m.DecodePayload(f.Payload)
		s.Landed = m.LandedState
	case 242:
		var m mavlink.HomePosition
		m.DecodePayload(f.Payload)
		s.HomeKnown = true
		s.Home = Position{Lat: float64(m.Latitude) / 1e7, Lon: float64(m.Longitude) / 1e7, AltM: float64(m.Altitude) / 1000}
	case 42:
		var m mavlink.MissionCurrent
		m.DecodePayload(f.Payload)
		s.MissionCurrent = int(m.Seq)
		s.MissionTotal = int(m.Total)
	case 46:
		var m mavlink.MissionItemReached
		m.DecodePayload(f.Payload)
		s.MissionReached = int(m.Seq)
	case 253:
		var m mavlink.Statustext
		m.DecodePayload(f.Payload)
		text := m.Text[:]
		if i := bytes.IndexByte(text, 0); i >= 0 {
			text = text[:i]
		}
		if len(s.StatusTexts) == maxStatusTexts {
			s.StatusTexts = append(s.StatusTexts[:0:0], s.StatusTexts[1:]...)
		}
		s.StatusTexts = append(s.StatusTexts, StatusText{Time: now, Severity: m.Severity, Text: string(text)})
	case 193:
		var m mavlink.EKFStatusReport
		m.DecodePayload(f.Payload)
		s.EKFKnown, s.EKFFlags = true, m.Flags
		s.EKFHealthy = m.Flags&ekfNeeded == ekfNeeded && m.Flags&(ekfConstPosMode|apEKFBad) == 0 &&
			(s.Armed || m.Flags&ekfPredPosHorizAbs != 0)
	case 230:
		var m mavlink.EstimatorStatus
		m.DecodePayload(f.Payload)
		s.EKFKnown, s.EKFFlags = true, m.Flags
		s.EKFHealthy = m.Flags&ekfNeeded == ekfNeeded && m.Flags&(ekfConstPosMode|px4EKFBad) == 0
	default:
		return false
	}
	s.Updated = now
	return true
}

// bootTimeMS returns the time_boot_ms a message carries, for reboot
// detection.
func bootTimeMS(f *mavlink.Frame) (uint32, bool) {
	switch f.MsgID {
	case 2: // SYSTEM_TIME
		var m mavlink.SystemTime
		m.DecodePayload(f.Payload)
		return m.TimeBootMS, true
	case 30: // ATTITUDE
		var m mavlink.Attitude
		m.DecodePayload(f.Payload)
		return m.TimeBootMS, true
	case 33: // GLOBAL_POSITION_INT
		var m mavlink.GlobalPositionInt
		m.DecodePayload(f.Payload)
		return m.TimeBootMS, true
	}
	return 0, false
}

func deg(rad float32) float64 { return float64(rad) * 180 / math.Pi }
