package drone

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// Mode is an ArduCopter flight mode number, as in HEARTBEAT.custom_mode and
// param2 of MAV_CMD_DO_SET_MODE (ardupilotmega.xml COPTER_MODE, PROTOCOL.md §8).
type Mode uint32

// ArduCopter modes. The simulator flies STABILIZE, ALT_HOLD, AUTO, GUIDED,
// LOITER, RTL, LAND, POSHOLD and BRAKE; it refuses the others.
const (
	ModeStabilize Mode = 0
	ModeAcro      Mode = 1
	ModeAltHold   Mode = 2
	ModeAuto      Mode = 3
	ModeGuided    Mode = 4
	ModeLoiter    Mode = 5
	ModeRTL       Mode = 6
	ModeCircle    Mode = 7
	ModeLand      Mode = 9
	ModePosHold   Mode = 16
	ModeBrake     Mode = 17
	ModeSmartRTL  Mode = 21
)

var modeNames = map[Mode]string{
	0: "STABILIZE", 1: "ACRO", 2: "ALT_HOLD", 3: "AUTO", 4: "GUIDED", 5: "LOITER",
	6: "RTL", 7: "CIRCLE", 9: "LAND", 11: "DRIFT", 13: "SPORT", 14: "FLIP",
	15: "AUTOTUNE", 16: "POSHOLD", 17: "BRAKE", 18: "THROW", 19: "AVOID_ADSB",
	20: "GUIDED_NOGPS", 21: "SMART_RTL", 22: "FLOWHOLD", 23: "FOLLOW", 24: "ZIGZAG",
	25: "SYSTEMID", 26: "AUTOROTATE", 27: "AUTO_RTL", 28: "TURTLE",
}

// String returns the ArduCopter name of m, or "MODE(n)".
func (m Mode) String() string {
	if n, ok := modeNames[m]; ok {
		return n
	}
	return fmt.Sprintf("MODE(%d)", uint32(m))
}

func (m Mode) simulated() bool {
	switch m {
	case ModeStabilize, ModeAltHold, ModeAuto, ModeGuided, ModeLoiter, ModeRTL, ModeLand, ModePosHold, ModeBrake:
		return true
	}
	return false
}

// needsPosition reports whether ArduCopter needs a position estimate to
// enter m (Mode::requires_GPS).
func (m Mode) needsPosition() bool {
	switch m {
	case ModeAuto, ModeGuided, ModeLoiter, ModeRTL, ModePosHold, ModeBrake, ModeCircle, ModeSmartRTL:
		return true
	}
	return false
}

// armable reports whether ArduCopter arms in m (Mode::allows_arming with
// AUTO_OPTIONS 0).
func (m Mode) armable() bool {
	switch m {
	case ModeStabilize, ModeAcro, ModeAltHold, ModeGuided, ModeLoiter, ModePosHold:
		return true
	}
	return false
}

// guidedFlag reports whether ArduCopter sets MAV_MODE_FLAG_GUIDED_ENABLED
// in m (GCS_MAVLINK_Copter::base_mode).
func (m Mode) guidedFlag() bool {
	switch m {
	case ModeAuto, ModeRTL, ModeLoiter, ModeGuided, ModeCircle, ModePosHold, ModeBrake, ModeSmartRTL:
		return true
	}
	return false
}

// RTL phases.
const (
	rtlClimb = iota
	rtlReturn
	rtlLoiter
	rtlLand
)

// vehicle is the simulated vehicle and its world. Guarded by Sim.mu.
type vehicle struct {
	boot, last time.Time

	armed       bool
	mode        Mode
	onGround    bool
	takingOff   bool
	landing     bool
	groundSince time.Time
	disarmAt    time.Time // land detector: disarm after touchdown
	groundAlt   float64
	lat, lon    float64 // degrees, true
	alt         float64 // m AMSL, true
	vn, ve, vd  float64 // commanded (air-relative) velocity, m/s NED
	gn, ge, gd  float64 // velocity over ground, m/s NED
	an, ae      float64 // horizontal acceleration of the last step
	yaw         float64 // rad, 0 north
	home        Position
	homeLocked  bool // set by DO_SET_HOME: arming keeps it
	tgtLat      float64
	tgtLon      float64
	tgtAlt      float64 // m AMSL
	posHold     bool    // horizontal position control towards tgt
	cruise      float64 // m/s, WPNAV_SPEED or DO_CHANGE_SPEED
	rtlPhase    int
	rtlAltAMSL  float64
	rtlUntil    time.Time
	lastPreArm  time.Time

	// mission
	mission    []mavlink.MissionItemInt
	missionID  uint32
	cur        int
	running    bool
	navStarted bool
	reached    bool
	holdUntil  time.Time
	up         *upload

	// battery
	consumedMAh        float64
	currentA           float64
	lowFired, crtFired bool
	minArmPct          float64

	// GPS
	gpsLost     bool
	gpsLostAt   time.Time
	ekfFailsafe bool
	errN, errE  float64
	noiseM      float64
	rng         *rand.Rand

	// injections
	refuseArm        string
	dropMissionReq   int
	dropMissionItems int
	dropAcks         int
	linkDownUntil    time.Time
	loadRate         int

	// commands: the last COMMAND_LONG and its result, to answer retries
	lastCmd    cmdKey
	lastResult mavlink.MAVResult
	lastCmdAt  time.Time

	// parameters and their working values
	params                      params
	wpSpeed, speedUp, speedDn   float64 // m/s
	accel, radius               float64 // m/s², m
	landSpeed, landAltLow       float64 // m/s, m
	rtlAlt, rtlLoiter, rtlSpeed float64 // m, s, m/s
	disarmDelay                 float64 // s
	capacityMAh, lowMAh, crtMAh float64
	fsLowAct, fsCrtAct          int
	fence, armingCheck          bool
	windSpd, windFrom           float64 // m/s, degrees (from)
}

const (
	earthRadius = 6378137.0
	gravity     = 9.80665
	kpXY        = 1.0 // 1/s: position error to speed
	kpZ         = 1.0
	yawRate     = math.Pi / 2 // rad/s
)

func deg(r float64) float64 { return r * 180 / math.Pi }
func rad(d float64) float64 { return d * math.Pi / 180 }

// offset returns the north and east metres from the vehicle to lat, lon
// (equirectangular: exact enough within a city).
func (v *vehicle) offset(lat, lon float64) (n, e float64) {
	n = rad(lat-v.lat) * earthRadius
	e = rad(lon-v.lon) * earthRadius * math.Cos(rad(v.lat))
	return n, e
}

func (v *vehicle) distTo(lat, lon float64) float64 {
	n, e := v.offset(lat, lon)
	return math.Hypot(n, e)
}

func (v *vehicle) relAlt() float64 { return v.alt - v.home.AltM }

func (v *vehicle) wind() (n, e float64) {
	// Blowing from windFrom, towards windFrom+180.
	return -v.windSpd * math.Cos(rad(v.windFrom)), -v.windSpd * math.Sin(rad(v.windFrom))
}

func (v *vehicle) hasPosition() bool { return !v.gpsLost }

func (v *vehicle) landedState() mavlink.MAVLandedState {
	switch {
	case v.onGround:
		return mavlink.MAV_LANDED_STATE_ON_GROUND
	case v.landing:
		return mavlink.MAV_LANDED_STATE_LANDING
	case v.takingOff:
		return mavlink.MAV_LANDED_STATE_TAKEOFF
	}
	return mavlink.MAV_LANDED_STATE_IN_AIR
}

func (v *vehicle) batteryPct() float64 {
	return math.Max(0, 100*(1-v.consumedMAh/v.capacityMAh))
}

// voltage models a 4S pack: 3.3..4.2 V a cell at rest, sagging with load.
func (v *vehicle) voltage() float64 {
	return 4*(3.3+0.9*v.batteryPct()/100) - 0.04*v.currentA
}

func (v *vehicle) gpsFix() mavlink.GPSFixType {
	if v.gpsLost {
		return mavlink.GPS_FIX_TYPE_NO_FIX
	}
	return mavlink.GPS_FIX_TYPE_3D_FIX
}

func (v *vehicle) sats() int {
	if v.gpsLost {
		return 0
	}
	return 14
}

// preArm returns why the vehicle would refuse to arm now, without the
// mode check, or "" (ArduPilot's pre-arm checks, ARMING_CHECK 1).
func (v *vehicle) preArm() string {
	if v.refuseArm != "" {
		return v.refuseArm
	}
	if !v.armingCheck {
		return ""
	}
	// With a fence enabled ArduCopter needs GPS in every mode.
	if (v.fence || v.mode.needsPosition()) && v.gpsFix() < mavlink.GPS_FIX_TYPE_3D_FIX {
		return "Need 3D Fix"
	}
	if v.minArmPct > 0 && v.batteryPct() < v.minArmPct || v.lowFired {
		return "Battery 1 below minimum arming capacity"
	}
	return ""
}

// holdHere makes the vehicle hold its current position and altitude.
func (v *vehicle) holdHere() {
	v.tgtLat, v.tgtLon, v.tgtAlt = v.lat, v.lon, v.alt
	v.posHold = true
}

// step advances the world by dt seconds ending at now. Caller holds mu.
func (s *Sim) step(now time.Time, dt float64) {
	v := &s.v
	s.failsafes(now)
	if v.armed {
		switch v.mode {
		case ModeAuto:
			s.stepMission(now)
		case ModeRTL:
			s.stepRTL(now)
		case ModeGuided:
			if v.takingOff && v.alt >= v.tgtAlt-0.5 {
				v.takingOff = false
			}
		}
	}
	if v.takingOff && v.mode == ModeAuto && v.alt-v.groundAlt > 1 &&
		(v.cur >= len(v.mission) || v.mission[v.cur].Command != mavlink.MAV_CMD_NAV_TAKEOFF) {
		v.takingOff = false // left the ground for a first waypoint
	}
	v.fly(dt)
	s.touchdown(now)
	if v.armed && v.onGround && !v.takingOff {
		switch {
		case !v.disarmAt.IsZero() && !now.Before(v.disarmAt):
			s.disarm(now)
		case v.disarmAt.IsZero() && v.disarmDelay > 0 && now.Sub(v.groundSince).Seconds() >= v.disarmDelay:
			s.disarm(now) // ArduCopter auto-disarm (DISARM_DELAY)
		}
	}
	v.drain(dt)
	v.gpsNoise(dt)
	if !v.armed && now.Sub(v.lastPreArm) >= 30*time.Second {
		v.lastPreArm = now
		if r := v.preArm(); r != "" {
			s.broadcastText(mavlink.MAV_SEVERITY_CRITICAL, "PreArm: "+r)
		}
	}
}

// fly integrates the vehicle's motion over dt seconds.
func (v *vehicle) fly(dt float64) {
	wn, we := v.wind()
	if v.onGround {
		if !v.takingOff {
			v.vn, v.ve, v.vd, v.gn, v.ge, v.gd, v.an, v.ae = 0, 0, 0, 0, 0, 0, 0, 0
			return
		}
	}
	if !v.armed { // motors stopped in the air: fall, carried by the wind
		v.gd = math.Min(v.gd+gravity*dt, 30)
		v.gn, v.ge = wn, we
		v.integrate(dt)
		return
	}
	// Horizontal: fly towards the target, or hold zero air speed (drift).
	var dn, de float64
	hold := v.posHold && v.hasPosition()
	if hold {
		on, oe := v.offset(v.tgtLat, v.tgtLon)
		d := math.Hypot(on, oe)
		if d > 0.01 {
			sp := math.Min(v.speedLimit(), math.Min(math.Sqrt(2*v.accel*d), kpXY*d))
			dn, de = on/d*sp, oe/d*sp
		}
	}
	// Vertical: descend at the landing rate, or hold the target altitude.
	var dd float64
	if v.landing {
		dd = v.speedDn
		if v.alt-v.groundAlt < v.landAltLow {
			dd = v.landSpeed
		}
	} else {
		climb := kpZ * (v.tgtAlt - v.alt)
		dd = -math.Max(-v.speedDn, math.Min(v.speedUp, climb))
	}
	// Acceleration limits.
	pn, pe := v.vn, v.ve
	ddn, dde := dn-v.vn, de-v.ve
	if m := math.Hypot(ddn, dde); m > v.accel*dt {
		ddn, dde = ddn/m*v.accel*dt, dde/m*v.accel*dt
	}
	v.vn += ddn
	v.ve += dde
	v.vd += math.Max(-v.accel*dt, math.Min(v.accel*dt, dd-v.vd))
	// Over ground: position control leaves 5 % of the wind uncorrected,
	// without it the vehicle drifts with the air.
	resid := 1.0
	if hold {
		resid = 0.05
	}
	v.gn, v.ge, v.gd = v.vn+resid*wn, v.ve+resid*we, v.vd
	v.an, v.ae = (v.vn-pn)/dt, (v.ve-pe)/dt
	if sp := math.Hypot(v.vn, v.ve); sp > 1 {
		want := math.Atan2(v.ve, v.vn)
		diff := math.Remainder(want-v.yaw, 2*math.Pi)
		diff = math.Max(-yawRate*dt, math.Min(yawRate*dt, diff))
		v.yaw = math.Remainder(v.yaw+diff, 2*math.Pi)
	}
	v.integrate(dt)
}

func (v *vehicle) integrate(dt float64) {
	v.lat += deg(v.gn * dt / earthRadius)
	v.lon += deg(v.ge * dt / (earthRadius * math.Cos(rad(v.lat))))
	v.alt -= v.gd * dt
	if v.alt < v.groundAlt {
		v.alt = v.groundAlt
	}
}

func (v *vehicle) speedLimit() float64 {
	if v.mode == ModeRTL && v.rtlSpeed > 0 {
		return v.rtlSpeed
	}
	return v.cruise
}

// touchdown notices the vehicle reaching the ground. Caller holds mu.
func (s *Sim) touchdown(now time.Time) {
	v := &s.v
	if v.onGround || v.alt > v.groundAlt || v.gd < 0 || v.takingOff {
		return
	}
	landed := v.landing
	v.onGround = true
	v.landing = false
	v.vn, v.ve, v.vd, v.gn, v.ge, v.gd = 0, 0, 0, 0, 0, 0
	v.groundSince = now
	if landed && v.armed {
		v.disarmAt = now.Add(time.Second) // land detector, then disarm
	}
	if v.mode == ModeAuto && v.running && v.cur < len(v.mission) {
		switch v.mission[v.cur].Command {
		case mavlink.MAV_CMD_NAV_LAND, mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
			s.itemReached(v.cur)
			s.itemDone(now)
		}
	}
}

// drain uses the battery: avionics, idle motors, or hover power that grows
// with air speed (wind) and climb.
func (v *vehicle) drain(dt float64) {
	switch {
	case !v.armed:
		v.currentA = 0.4
	case v.onGround:
		v.currentA = 2
	default:
		wn, we := v.wind()
		air := math.Hypot(v.gn-wn, v.ge-we)
		v.currentA = 18*(1+0.5*(air/12)*(air/12)) + 3*math.Max(0, -v.gd)
	}
	v.consumedMAh = math.Min(v.capacityMAh, v.consumedMAh+v.currentA*dt/3.6)
}

// gpsNoise moves the GPS error as a first-order Gauss-Markov process.
func (v *vehicle) gpsNoise(dt float64) {
	if v.noiseM == 0 {
		return
	}
	const tau = 10.0
	a := math.Exp(-dt / tau)
	b := v.noiseM * math.Sqrt(1-a*a)
	v.errN = v.errN*a + b*v.rng.NormFloat64()
	v.errE = v.errE*a + b*v.rng.NormFloat64()
}

// failsafes runs the EKF (GPS) and battery failsafes. Caller holds mu.
func (s *Sim) failsafes(now time.Time) {
	v := &s.v
	if !v.gpsLost {
		v.ekfFailsafe = false
	}
	if !v.armed || v.onGround {
		return
	}
	if v.gpsLost && !v.ekfFailsafe && now.Sub(v.gpsLostAt) >= time.Second && v.mode.needsPosition() {
		v.ekfFailsafe = true
		s.broadcastText(mavlink.MAV_SEVERITY_CRITICAL, "EKF Failsafe: changed to LAND Mode")
		s.enterMode(now, ModeLand)
	}
	remaining := v.capacityMAh - v.consumedMAh
	switch {
	case !v.crtFired && remaining <= v.crtMAh:
		v.crtFired, v.lowFired = true, true
		s.broadcastText(mavlink.MAV_SEVERITY_CRITICAL, fmt.Sprintf("Battery 1 is critical %.2fV used %.0f mAh", v.voltage(), v.consumedMAh))
		if v.fsCrtAct != 0 && v.mode != ModeLand {
			s.enterMode(now, ModeLand)
		}
	case !v.lowFired && remaining <= v.lowMAh:
		v.lowFired = true
		s.broadcastText(mavlink.MAV_SEVERITY_WARNING, fmt.Sprintf("Battery 1 is low %.2fV used %.0f mAh", v.voltage(), v.consumedMAh))
		switch {
		case v.fsLowAct == 1 && v.mode != ModeLand:
			s.enterMode(now, ModeLand)
		case v.fsLowAct >= 2 && v.mode != ModeLand && v.mode != ModeRTL && !v.landing:
			if !v.hasPosition() {
				s.enterMode(now, ModeLand)
			} else {
				s.enterMode(now, ModeRTL)
			}
		}
	}
}

// setMode changes mode on request, with ArduCopter's refusals; it returns
// "" or the reason of a refusal. Caller holds mu.
func (s *Sim) setMode(now time.Time, m Mode) string {
	v := &s.v
	switch {
	case !m.simulated():
		return "not simulated"
	case m.needsPosition() && !v.hasPosition():
		return "requires position"
	case m == ModeAuto && len(v.mission) < 2:
		return "no mission"
	}
	if m != v.mode {
		s.enterMode(now, m)
	}
	return ""
}

// enterMode switches to m and sets up its guidance. Caller holds mu.
func (s *Sim) enterMode(now time.Time, m Mode) {
	v := &s.v
	prev := v.mode
	v.mode = m
	v.landing = false
	if v.takingOff && m != ModeGuided {
		v.takingOff = false // AUTO's own take-off item takes over
	}
	switch m {
	case ModeLand:
		v.holdHere()
		v.landing = !v.onGround
	case ModeRTL:
		v.startRTL()
	case ModeAuto:
		if prev != ModeAuto {
			s.startMission()
		}
	default:
		if !v.takingOff {
			v.holdHere()
		}
		if m == ModeStabilize || m == ModeAltHold {
			v.posHold = false
		}
	}
	if prev == ModeAuto && m != ModeAuto {
		v.running = false
	}
}

func (v *vehicle) startRTL() {
	v.rtlPhase = rtlClimb
	v.rtlAltAMSL = v.home.AltM + math.Max(v.rtlAlt, v.relAlt())
	v.holdHere()
	v.tgtAlt = v.rtlAltAMSL
	v.landing = false
}

// stepRTL runs ArduCopter's RTL: climb to RTL_ALT, return, loiter
// RTL_LOIT_TIME above home, land. Caller holds mu.
func (s *Sim) stepRTL(now time.Time) {
	v := &s.v
	if v.onGround {
		return
	}
	switch v.rtlPhase {
	case rtlClimb:
		if v.alt >= v.rtlAltAMSL-0.5 {
			v.rtlPhase = rtlReturn
			v.tgtLat, v.tgtLon, v.tgtAlt = v.home.Lat, v.home.Lon, v.rtlAltAMSL
		}
	case rtlReturn:
		if v.distTo(v.home.Lat, v.home.Lon) <= v.radius {
			v.rtlPhase = rtlLoiter
			v.rtlUntil = now.Add(time.Duration(v.rtlLoiter * float64(time.Second)))
		}
	case rtlLoiter:
		if !now.Before(v.rtlUntil) {
			v.rtlPhase = rtlLand
			v.landing = true
		}
	case rtlLand:
		v.landing = true
	}
}

// startTakeoff leaves the ground for relAlt metres above home. Caller holds mu.
func (v *vehicle) startTakeoff(relAlt float64) {
	v.onGround = false
	v.takingOff = true
	v.disarmAt = time.Time{}
	v.landing = false
	v.tgtLat, v.tgtLon = v.lat, v.lon
	v.tgtAlt = v.home.AltM + relAlt
	v.posHold = true
}

// arm arms the vehicle; home is set here unless locked by DO_SET_HOME.
// Caller holds mu.
func (s *Sim) arm(now time.Time) {
	v := &s.v
	v.armed = true
	v.groundSince = now
	v.disarmAt = time.Time{}
	if !v.homeLocked {
		v.home = Position{Lat: v.lat, Lon: v.lon, AltM: v.alt}
		s.broadcastHome()
	}
	if !v.onGround {
		return
	}
	v.holdHere()
}

// disarm stops the motors. Caller holds mu.
func (s *Sim) disarm(now time.Time) {
	v := &s.v
	v.armed = false
	v.takingOff = false
	v.disarmAt = time.Time{}
	v.running = false
	v.lastPreArm = now // first "PreArm:" reminder after 30 s
	if v.onGround {
		v.landing = false
	}
}
