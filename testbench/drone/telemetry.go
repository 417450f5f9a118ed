package drone

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// streamGroups is ArduCopter's grouping of messages into the streams of
// REQUEST_DATA_STREAM (GCS_Mavlink.cpp STREAM_*_msgs, PROTOCOL.md §9), for
// the messages the simulator produces.
var streamGroups = [...][]uint32{
	mavlink.MAV_DATA_STREAM_EXTENDED_STATUS: {1, 125, 152, 42, 24, 62}, // SYS_STATUS POWER_STATUS MEMINFO MISSION_CURRENT GPS_RAW_INT NAV_CONTROLLER_OUTPUT
	mavlink.MAV_DATA_STREAM_POSITION:        {33, 32},                  // GLOBAL_POSITION_INT LOCAL_POSITION_NED
	mavlink.MAV_DATA_STREAM_EXTRA1:          {30},                      // ATTITUDE
	mavlink.MAV_DATA_STREAM_EXTRA2:          {74},                      // VFR_HUD
	mavlink.MAV_DATA_STREAM_EXTRA3:          {168, 2, 147, 193, 245},   // WIND SYSTEM_TIME BATTERY_STATUS EKF_STATUS_REPORT EXTENDED_SYS_STATE
}

// streamIDs are the messages SET_MESSAGE_INTERVAL can stream, in the
// order they go out when due together.
var streamIDs = [...]uint32{1, 2, 24, 30, 32, 33, 42, 49, 62, 74, 125, 147, 152, 168, 193, 242, 245}

func streamable(id uint32) bool {
	for _, s := range streamIDs {
		if s == id {
			return true
		}
	}
	return false
}

// buildable reports whether MAV_CMD_REQUEST_MESSAGE can ask for id.
func buildable(id uint32) bool { return id == 0 || id == 148 || streamable(id) }

// SYS_STATUS sensor bits (MAV_SYS_STATUS_SENSOR).
const (
	sensorGyro      = 1 << 0
	sensorAccel     = 1 << 1
	sensorMag       = 1 << 2
	sensorBaro      = 1 << 3
	sensorGPS       = 1 << 5
	sensorRateCtl   = 1 << 10
	sensorAttCtl    = 1 << 11
	sensorYawCtl    = 1 << 12
	sensorAltCtl    = 1 << 13
	sensorXYCtl     = 1 << 14
	sensorMotors    = 1 << 15
	sensorAHRS      = 1 << 21
	sensorLogging   = 1 << 24
	sensorBattery   = 1 << 25
	sensorPreArmChk = 1 << 28
)

// EKF_STATUS_REPORT flags (EKF_STATUS_FLAGS).
const (
	ekfAttitude      = 1 << 0
	ekfVelHoriz      = 1 << 1
	ekfVelVert       = 1 << 2
	ekfPosHorizRel   = 1 << 3
	ekfPosHorizAbs   = 1 << 4
	ekfPosVertAbs    = 1 << 5
	ekfPosVertAGL    = 1 << 6
	ekfConstPosMode  = 1 << 7
	ekfPredHorizRel  = 1 << 8
	ekfPredHorizAbs  = 1 << 9
	capMissionFloat  = 1 << 0
	capParamFloat    = 1 << 1
	capMissionInt    = 1 << 2
	capCommandInt    = 1 << 3
	capSetPosGlobal  = 1 << 8
	capMAVLink2      = 1 << 13
	capMissionRally  = 1 << 15
	flightSWVersion  = 4<<24 | 5<<16 | 7<<8 | 255 // 4.5.7, FIRMWARE_VERSION_TYPE_OFFICIAL
	batteryChargeOK  = 1
	batteryChargeLow = 2
	batteryChargeCrt = 3
)

// outbound holds the messages being encoded (guarded by mu), so that
// streaming does not allocate.
type outbound struct {
	hb   mavlink.Heartbeat
	ss   mavlink.SysStatus
	st   mavlink.SystemTime
	gps  mavlink.GPSRawInt
	att  mavlink.Attitude
	gpi  mavlink.GlobalPositionInt
	mc   mavlink.MissionCurrent
	vfr  mavlink.VFRHUD
	ps   mavlink.PowerStatus
	bs   mavlink.BatteryStatus
	av   mavlink.AutopilotVersion
	wind mavlink.Wind
	ekf  mavlink.EKFStatusReport
	home mavlink.HomePosition
	orig mavlink.GPSGlobalOrigin
	ess  mavlink.ExtendedSysState
	txt  mavlink.Statustext
	raw  [mavlink.MaxPayloadLen]byte
}

// sendID builds message id from the current state and sends it on l.
// Caller holds mu.
func (s *Sim) sendID(l *link, id uint32, now time.Time) {
	v := &s.v
	o := &s.out
	boot := uint32(now.Sub(v.boot).Milliseconds())
	switch id {
	case 0:
		o.hb = s.heartbeat()
		s.send(l, &o.hb)
	case 1:
		o.ss = s.sysStatus()
		s.send(l, &o.ss)
	case 2:
		o.st = mavlink.SystemTime{TimeUnixUsec: uint64(now.UnixMicro()), TimeBootMS: boot}
		s.send(l, &o.st)
	case 24:
		o.gps = s.gpsRaw(now)
		s.send(l, &o.gps)
	case 30:
		o.att = s.attitude(boot)
		s.send(l, &o.att)
	case 32:
		s.localPosition(l, boot)
	case 33:
		o.gpi = s.globalPosition(boot)
		s.send(l, &o.gpi)
	case 42:
		o.mc = *s.missionCurrent()
		s.send(l, &o.mc)
	case 49:
		o.orig = mavlink.GPSGlobalOrigin{Latitude: e7(v.home.Lat), Longitude: e7(v.home.Lon), Altitude: int32(v.home.AltM * 1000), TimeUsec: uint64(now.UnixMicro())}
		s.send(l, &o.orig)
	case 62:
		s.navController(l)
	case 74:
		o.vfr = s.vfrHUD()
		s.send(l, &o.vfr)
	case 125:
		o.ps = mavlink.PowerStatus{Vcc: 5000, Flags: 1} // MAV_POWER_STATUS_BRICK_VALID
		s.send(l, &o.ps)
	case 147:
		o.bs = s.batteryStatus()
		s.send(l, &o.bs)
	case 148:
		o.av = mavlink.AutopilotVersion{
			Capabilities:    capMissionFloat | capParamFloat | capMissionInt | capCommandInt | capSetPosGlobal | capMAVLink2 | capMissionRally,
			FlightSwVersion: flightSWVersion, VendorID: 0x1209, ProductID: 0x5740, UID: uint64(s.sysID),
		}
		s.send(l, &o.av)
	case 152:
		clear(o.raw[:])
		binary.LittleEndian.PutUint16(o.raw[0:], 0)      // brkval
		binary.LittleEndian.PutUint16(o.raw[2:], 65535)  // freemem
		binary.LittleEndian.PutUint32(o.raw[4:], 180000) // freemem32
		s.sendPayload(l, 152, o.raw[:8])
	case 168:
		o.wind = mavlink.Wind{Direction: float32(v.windFrom), Speed: float32(v.windSpd)}
		s.send(l, &o.wind)
	case 193:
		o.ekf = s.ekfStatus()
		s.send(l, &o.ekf)
	case 242:
		o.home = s.homePosition(now)
		s.send(l, &o.home)
	case 245:
		o.ess = mavlink.ExtendedSysState{LandedState: v.landedState()}
		s.send(l, &o.ess)
	}
}

func e7(d float64) int32 { return int32(math.Round(d * 1e7)) }

// heartbeat builds HEARTBEAT as ArduCopter does (GCS_MAVLINK_Copter::base_mode).
func (s *Sim) heartbeat() mavlink.Heartbeat {
	v := &s.v
	base := mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | mavlink.MAV_MODE_FLAG_STABILIZE_ENABLED | mavlink.MAV_MODE_FLAG_MANUAL_INPUT_ENABLED
	if v.mode.guidedFlag() {
		base |= mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
	}
	// ArduCopter: STANDBY while landed, ACTIVE in the air, CRITICAL
	// while a failsafe holds.
	status := mavlink.MAV_STATE_ACTIVE
	if v.onGround {
		status = mavlink.MAV_STATE_STANDBY
	}
	if v.lowFired || v.ekfFailsafe {
		status = mavlink.MAV_STATE_CRITICAL
	}
	if v.armed {
		base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
	}
	return mavlink.Heartbeat{
		Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
		BaseMode: base, CustomMode: uint32(v.mode), SystemStatus: status, MavlinkVersion: 3,
	}
}

func (s *Sim) sysStatus() mavlink.SysStatus {
	v := &s.v
	const present = sensorGyro | sensorAccel | sensorMag | sensorBaro | sensorGPS | sensorRateCtl | sensorAttCtl |
		sensorYawCtl | sensorAltCtl | sensorXYCtl | sensorMotors | sensorAHRS | sensorLogging | sensorBattery | sensorPreArmChk
	health := uint32(present)
	if v.gpsLost {
		health &^= sensorGPS | sensorXYCtl
	}
	if v.lowFired {
		health &^= sensorBattery
	}
	if v.preArm() != "" {
		health &^= sensorPreArmChk
	}
	enabled := uint32(present)
	if !v.armed {
		enabled &^= sensorMotors
	}
	return mavlink.SysStatus{
		OnboardControlSensorsPresent: present, OnboardControlSensorsEnabled: enabled, OnboardControlSensorsHealth: health,
		Load: 200, VoltageBattery: uint16(v.voltage() * 1000), CurrentBattery: int16(v.currentA * 100),
		BatteryRemaining: int8(math.Round(v.batteryPct())),
	}
}

// noisy returns the position the GPS reports.
func (v *vehicle) noisy() (lat, lon float64) {
	return v.lat + deg(v.errN/earthRadius), v.lon + deg(v.errE/(earthRadius*math.Cos(rad(v.lat))))
}

func heading(n, e float64) float64 {
	h := deg(math.Atan2(e, n))
	if h < 0 {
		h += 360
	}
	return h
}

func (s *Sim) gpsRaw(now time.Time) mavlink.GPSRawInt {
	v := &s.v
	m := mavlink.GPSRawInt{TimeUsec: uint64(now.Sub(v.boot).Microseconds()), FixType: v.gpsFix(), SatellitesVisible: uint8(v.sats())}
	if v.gpsLost {
		m.Eph, m.Epv, m.Cog = math.MaxUint16, math.MaxUint16, math.MaxUint16
		return m
	}
	lat, lon := v.noisy()
	m.Lat, m.Lon, m.Alt = e7(lat), e7(lon), int32(v.alt*1000)
	m.Eph, m.Epv = 70, 120 // HDOP 0.7, VDOP 1.2
	m.Vel = uint16(math.Hypot(v.gn, v.ge) * 100)
	m.Cog = uint16(heading(v.gn, v.ge) * 100)
	m.HAcc, m.VAcc, m.VelAcc = uint32(v.noiseM*1000)+300, 800, 200
	return m
}

func (s *Sim) globalPosition(boot uint32) mavlink.GlobalPositionInt {
	v := &s.v
	lat, lon := v.noisy()
	h := deg(v.yaw)
	if h < 0 {
		h += 360
	}
	return mavlink.GlobalPositionInt{
		TimeBootMS: boot, Lat: e7(lat), Lon: e7(lon), Alt: int32(v.alt * 1000), RelativeAlt: int32(v.relAlt() * 1000),
		Vx: int16(v.gn * 100), Vy: int16(v.ge * 100), Vz: int16(v.gd * 100), Hdg: uint16(h*100) % 36000,
	}
}

// tilt returns roll and pitch (rad) that balance the last acceleration and
// the drag of the air speed.
func (v *vehicle) tilt() (roll, pitch float64) {
	if v.onGround {
		return 0, 0
	}
	wn, we := v.wind()
	an, ae := v.gn-wn, v.ge-we
	sp := math.Hypot(an, ae)
	const drag = 0.02
	fn, fe := v.an+drag*an*sp, v.ae+drag*ae*sp
	c, s := math.Cos(v.yaw), math.Sin(v.yaw)
	fwd, right := fn*c+fe*s, -fn*s+fe*c
	return math.Atan(right / gravity), -math.Atan(fwd / gravity)
}

func (s *Sim) attitude(boot uint32) mavlink.Attitude {
	v := &s.v
	roll, pitch := v.tilt()
	return mavlink.Attitude{TimeBootMS: boot, Roll: float32(roll), Pitch: float32(pitch), Yaw: float32(v.yaw)}
}

// localPosition sends LOCAL_POSITION_NED relative to the boot position
// (the EKF origin). Caller holds mu.
func (s *Sim) localPosition(l *link, boot uint32) {
	v := &s.v
	o := &s.out
	clear(o.raw[:])
	n := rad(v.lat-s.origin.Lat) * earthRadius
	e := rad(v.lon-s.origin.Lon) * earthRadius * math.Cos(rad(v.lat))
	binary.LittleEndian.PutUint32(o.raw[0:], boot)
	for i, f := range [...]float64{n, e, -(v.alt - s.origin.AltM), v.gn, v.ge, v.gd} {
		binary.LittleEndian.PutUint32(o.raw[4+4*i:], math.Float32bits(float32(f)))
	}
	s.sendPayload(l, 32, o.raw[:28])
}

// navController sends NAV_CONTROLLER_OUTPUT: wire order nav_roll,
// nav_pitch, alt_error, aspd_error, xtrack_error (float), nav_bearing,
// target_bearing (int16), wp_dist (uint16). Caller holds mu.
func (s *Sim) navController(l *link) {
	v := &s.v
	o := &s.out
	clear(o.raw[:])
	roll, pitch := v.tilt()
	n, e := v.offset(v.tgtLat, v.tgtLon)
	for i, f := range [...]float64{deg(roll), deg(pitch), v.tgtAlt - v.alt, 0, 0} {
		binary.LittleEndian.PutUint32(o.raw[4*i:], math.Float32bits(float32(f)))
	}
	yaw := deg(v.yaw)
	binary.LittleEndian.PutUint16(o.raw[20:], uint16(int16(yaw)))
	binary.LittleEndian.PutUint16(o.raw[22:], uint16(int16(heading(n, e))))
	binary.LittleEndian.PutUint16(o.raw[24:], uint16(math.Min(65535, math.Hypot(n, e))))
	s.sendPayload(l, 62, o.raw[:26])
}

func (s *Sim) vfrHUD() mavlink.VFRHUD {
	v := &s.v
	wn, we := v.wind()
	h := deg(v.yaw)
	if h < 0 {
		h += 360
	}
	thr := 0.0
	if v.armed && !v.onGround {
		thr = 45 + 10*(-v.gd)
	}
	return mavlink.VFRHUD{
		Airspeed: float32(math.Hypot(v.gn-wn, v.ge-we)), Groundspeed: float32(math.Hypot(v.gn, v.ge)),
		Heading: int16(h), Throttle: uint16(math.Max(0, math.Min(100, thr))), Alt: float32(v.alt), Climb: float32(-v.gd),
	}
}

func (s *Sim) batteryStatus() mavlink.BatteryStatus {
	v := &s.v
	m := mavlink.BatteryStatus{
		BatteryFunction: 1, Type: 1, Temperature: math.MaxInt16, // MAV_BATTERY_FUNCTION_ALL, LIPO, unknown temperature
		CurrentBattery: int16(v.currentA * 100), CurrentConsumed: int32(v.consumedMAh), EnergyConsumed: -1,
		BatteryRemaining: int8(math.Round(v.batteryPct())), ChargeState: batteryChargeOK,
	}
	cell := uint16(v.voltage() / 4 * 1000)
	for i := range m.Voltages {
		m.Voltages[i] = math.MaxUint16
	}
	for i := range 4 {
		m.Voltages[i] = cell
	}
	if v.currentA > 0 {
		m.TimeRemaining = int32((v.capacityMAh - v.consumedMAh) / v.currentA * 3.6)
	}
	switch {
	case v.crtFired:
		m.ChargeState = batteryChargeCrt
	case v.lowFired:
		m.ChargeState = batteryChargeLow
	}
	return m
}

func (s *Sim) ekfStatus() mavlink.EKFStatusReport {
	v := &s.v
	m := mavlink.EKFStatusReport{
		Flags:            ekfAttitude | ekfVelHoriz | ekfVelVert | ekfPosHorizRel | ekfPosHorizAbs | ekfPosVertAbs | ekfPosVertAGL | ekfPredHorizRel | ekfPredHorizAbs,
		VelocityVariance: 0.05, PosHorizVariance: 0.05, PosVertVariance: 0.05, CompassVariance: 0.03,
	}
	if v.gpsLost {
		m.Flags = ekfAttitude | ekfVelVert | ekfPosVertAbs | ekfPosVertAGL | ekfConstPosMode
		m.VelocityVariance, m.PosHorizVariance = 1.2, 1.5
	}
	return m
}

func (s *Sim) homePosition(now time.Time) mavlink.HomePosition {
	v := &s.v
	n := rad(v.home.Lat-s.origin.Lat) * earthRadius
	e := rad(v.home.Lon-s.origin.Lon) * earthRadius * math.Cos(rad(v.home.Lat))
	return mavlink.HomePosition{
		Latitude: e7(v.home.Lat), Longitude: e7(v.home.Lon), Altitude: int32(v.home.AltM * 1000),
		X: float32(n), Y: float32(e), Z: float32(-(v.home.AltM - s.origin.AltM)), Q: [4]float32{1, 0, 0, 0},
		TimeUsec: uint64(now.UnixMicro()),
	}
}

// broadcastHome sends HOME_POSITION to every link, as ArduPilot does when
// home changes. Caller holds mu.
func (s *Sim) broadcastHome() {
	now := s.clock.Now()
	for l := range s.links {
		s.sendID(l, 242, now)
	}
}

// broadcastText sends a STATUSTEXT to every link. Caller holds mu.
func (s *Sim) broadcastText(sev mavlink.MAVSeverity, text string) {
	s.log.Debug("status text", "text", text)
	o := &s.out
	o.txt = mavlink.Statustext{Severity: sev}
	copy(o.txt.Text[:], text)
	s.sendAll(&o.txt)
}
