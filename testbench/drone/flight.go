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

// pilotClimb reports whether ArduCopter takes the climb rate of m from
// the pilot's throttle stick (ALT_HOLD, LOITER, POSHOLD: the throttle is
// a climb-rate demand, low end = PILOT_SPEED_DN down).
func (m Mode) pilotClimb() bool {
	switch m {
	case ModeAltHold, ModeLoiter, ModePosHold:
		return true
	}
	return false
}

// manualThrottle reports whether the throttle stick drives the motors
// directly in m (Mode::has_manual_throttle: STABILIZE, ACRO).
func (m Mode) manualThrottle() bool { return m == ModeStabilize || m == ModeAcro }

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

	// navigation to a point (GUIDED's position controller, AUTO's and
	// RTL's waypoint controller): the vehicle flies straight at tgt in 3D
	// at the speed the direction allows within these limits
	direct       bool    // straight 3D line to tgt (else per axis)
	guidedPos    bool    // GUIDED in its position sub-mode (after a go-to)
	legSpeed     float64 // m/s, horizontal limit (WPNAV_SPEED, RTL_SPEED, DO_CHANGE_SPEED)
	navUp, navDn float64 // m/s, vertical limits (WPNAV_SPEED_UP, _DN, DO_CHANGE_SPEED)
	autoSpeed    float64 // m/s, AUTO's DO_CHANGE_SPEED, kept for its legs; 0 none
	lastContact  time.Time

	// pilot: the RC throttle stick, 0 (low end, SITL's default with no
	// pilot) to 1; 0.5 is centred (hold altitude)
	throttle float64

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
	accelZ                      float64 // m/s², WPNAV_ACCEL_Z
	pilotUp, pilotDn            float64 // m/s, PILOT_SPEED_UP, _DN (0: _UP)
	pilotAccel                  float64 // m/s², PILOT_ACCEL_Z
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
	v.direct = false
}

// holdStop makes the vehicle brake and hold where it comes to a stop at
// WPNAV_ACCEL, at its current altitude: the stopping point ArduCopter's
// position controllers start from when a mode begins.
func (v *vehicle) holdStop() {
	v.holdHere()
	sp := math.Hypot(v.vn, v.ve)
	if sp < 0.1 {
		return
	}
	d := sp / (2 * v.accel) // metres per m/s of speed
	n, e := v.vn*d, v.ve*d
	v.tgtLat += deg(n / earthRadius)
	v.tgtLon += deg(e / (earthRadius * math.Cos(rad(v.lat))))
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
		case v.disarmAt.IsZero() && v.disarmDelay > 0 && v.throttle <= 0 && now.Sub(v.groundSince).Seconds() >= v.disarmDelay:
			s.disarm(now) // ArduCopter auto-disarm (DISARM_DELAY, throttle low, landed)
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

// Vertical limits of the fall with motors stopped or at ground idle.
const maxFallMPS = 30

// fly integrates the vehicle's motion over dt seconds.
func (v *vehicle) fly(dt float64) {
	wn, we := v.wind()
	if v.onGround && !v.takingOff {
		v.vn, v.ve, v.vd, v.gn, v.ge, v.gd, v.an, v.ae = 0, 0, 0, 0, 0, 0, 0, 0
		return
	}
	if !v.armed || v.mode.manualThrottle() && v.throttle <= 0 {
		// Motors stopped, or at ground idle with the throttle at its low
		// end in STABILIZE or ACRO: it falls, carried by the wind.
		v.vn, v.ve, v.an, v.ae = 0, 0, 0, 0
		v.vd = math.Min(v.vd+gravity*dt, maxFallMPS)
		v.gn, v.ge, v.gd = wn, we, v.vd
		v.integrate(dt)
		return
	}
	// Horizontal: fly towards the target, or hold zero air speed (drift).
	hold := v.posHold && v.hasPosition()
	var on, oe, h float64 // to the target, m
	if hold {
		on, oe = v.offset(v.tgtLat, v.tgtLon)
		h = math.Hypot(on, oe)
	}
	up := v.tgtAlt - v.alt
	var dn, de, du float64 // wanted air-relative velocity, du up
	if hold && h > 0.01 {
		sp := math.Min(v.legSpeed, math.Min(math.Sqrt(2*v.accel*h), kpXY*h))
		dn, de = on/h*sp, oe/h*sp
	}
	accelZ := v.accelZ
	switch {
	case v.landing:
		du = -v.speedDn
		if v.alt-v.groundAlt < v.landAltLow {
			du = -v.landSpeed
		}
	case v.mode.pilotClimb() || v.mode.manualThrottle():
		// The pilot's throttle is the climb rate; none (the stick at its
		// low end) is a descent at PILOT_SPEED_DN to the ground.
		du = v.pilotClimbRate()
		accelZ = v.pilotAccel
	case v.direct && hold:
		// Straight at the target: the speed along the line is the most
		// each axis allows (AC_PosControl kinematic_limit), then each axis
		// brakes to stop on it.
		d3 := math.Hypot(h, up)
		if d3 > 0.01 {
			sp := math.Inf(1)
			if h > 0.01 {
				sp = v.legSpeed * d3 / h
			}
			switch {
			case up > 0.01:
				sp = math.Min(sp, v.navUp*d3/up)
			case up < -0.01:
				sp = math.Min(sp, v.navDn*d3/-up)
			}
			if h > 0.01 {
				hs := math.Min(sp*h/d3, math.Min(math.Sqrt(2*v.accel*h), kpXY*h))
				dn, de = on/h*hs, oe/h*hs
			}
			du = math.Copysign(math.Min(sp*math.Abs(up)/d3, math.Min(math.Sqrt(2*accelZ*math.Abs(up)), kpZ*math.Abs(up))), up)
		}
	default:
		du = math.Max(-v.navDn, math.Min(v.navUp, kpZ*up))
	}
	dd := -du
	// Acceleration limits.
	pn, pe := v.vn, v.ve
	ddn, dde := dn-v.vn, de-v.ve
	if m := math.Hypot(ddn, dde); m > v.accel*dt {
		ddn, dde = ddn/m*v.accel*dt, dde/m*v.accel*dt
	}
	v.vn += ddn
	v.ve += dde
	v.vd += math.Max(-accelZ*dt, math.Min(accelZ*dt, dd-v.vd))
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

// Throttle stick dead zone around the middle, as a fraction of the stick's
// travel (ArduCopter THR_DZ 100 of 1000).
const throttleDeadZone = 0.1

// pilotClimbRate is the climb rate in m/s (up positive) the throttle stick
// asks for in ALT_HOLD, LOITER and POSHOLD (Copter::get_pilot_desired_climb_rate):
// PILOT_SPEED_DN at the low end, 0 around the middle, PILOT_SPEED_UP at the top.
func (v *vehicle) pilotClimbRate() float64 {
	lo, hi := 0.5-throttleDeadZone, 0.5+throttleDeadZone
	switch x := v.throttle; {
	case x < lo:
		return -v.pilotDn * (lo - x) / lo
	case x > hi:
		return v.pilotUp * (x - hi) / (1 - hi)
	}
	return 0
}

func (v *vehicle) integrate(dt float64) {
	v.lat += deg(v.gn * dt / earthRadius)
	v.lon += deg(v.ge * dt / (earthRadius * math.Cos(rad(v.lat))))
	v.alt -= v.gd * dt
	if v.alt < v.groundAlt {
		v.alt = v.groundAlt
	}
}

// startLeg sets the speed limits navigation starts with: WPNAV_SPEED (or
// horizontal, a mode's own), WPNAV_SPEED_UP and _DN (AC_WPNav::wp_and_spline_init,
// ModeGuided::pva_control_start).
func (v *vehicle) startLeg(horizontal float64) {
	v.legSpeed = horizontal
	v.navUp, v.navDn = v.speedUp, v.speedDn
}

// wpSpeedChanged applies a new WPNAV_SPEED in flight: ArduCopter's
// waypoint controller takes it at once unless a mode's own speed is set
// (AC_WPNav::update_wpnav), and GUIDED's position controller keeps its
// limits until its next start.
func (v *vehicle) wpSpeedChanged() {
	switch {
	case v.mode == ModeAuto && v.autoSpeed == 0, v.mode == ModeRTL && v.rtlSpeed == 0:
		v.legSpeed = v.wpSpeed
	}
}

// Land detector timing after a touchdown: LAND_DETECTOR_TRIGGER_SEC (1 s)
// once the 1 Hz filtered jolt of the touchdown has faded (about 0.5 s),
// then the motors spool down to ground idle (MOT_SPOOL_TIME 0.5 s); only
// then does ArduCopter's auto-disarm start counting DISARM_DELAY.
const (
	landDetectDelay = 1500 * time.Millisecond
	spoolDownDelay  = 500 * time.Millisecond
)

// touchdown notices the vehicle reaching the ground. Caller holds mu.
func (s *Sim) touchdown(now time.Time) {
	v := &s.v
	if v.onGround || v.alt > v.groundAlt || v.gd < 0 || v.takingOff {
		return
	}
	// SITL reports every ground contact that follows a second off the
	// ground (SIM_Aircraft: "SIM Hit ground at %f m/s", down positive).
	if now.Sub(v.lastContact) > time.Second {
		s.broadcastText(mavlink.MAV_SEVERITY_INFO, fmt.Sprintf("SIM Hit ground at %f m/s", v.gd))
	}
	v.lastContact = now
	landed := v.landing
	v.onGround = true
	v.landing = false
	v.vn, v.ve, v.vd, v.gn, v.ge, v.gd = 0, 0, 0, 0, 0, 0
	v.groundSince = now
	switch {
	case landed && v.armed:
		v.disarmAt = now.Add(time.Second) // land detector, then disarm
	case v.armed:
		// Not a landing (a pilot mode without a pilot, STABILIZE falling):
		// the auto-disarm counts DISARM_DELAY from ground idle.
		v.groundSince = now.Add(landDetectDelay + spoolDownDelay)
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
	v.guidedPos = false
	if v.takingOff && m != ModeGuided {
		v.takingOff = false // AUTO's own take-off item takes over
	}
	switch m {
	case ModeLand:
		v.holdStop()
		v.startLeg(v.wpSpeed)
		v.landing = !v.onGround
	case ModeRTL:
		v.startRTL()
	case ModeAuto:
		if prev != ModeAuto {
			s.startMission()
		}
	default:
		if !v.takingOff {
			v.holdStop()
			v.startLeg(v.wpSpeed)
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
	v.holdStop()
	v.startLeg(v.wpSpeed)
	if v.rtlSpeed > 0 {
		v.legSpeed = v.rtlSpeed // RTL_SPEED, 0 meaning WPNAV_SPEED
	}
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
	v.direct = false
	v.guidedPos = false // the next go-to starts the position controller again
	v.startLeg(v.wpSpeed)
}

// arm arms the vehicle; home is set here unless locked by DO_SET_HOME.
// Caller holds mu.
func (s *Sim) arm(now time.Time) {
	v := &s.v
	v.armed = true
	v.groundSince = now
	v.disarmAt = time.Time{}
	s.broadcastText(mavlink.MAV_SEVERITY_INFO, "Arming motors")
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
	s.broadcastText(mavlink.MAV_SEVERITY_INFO, "Disarming motors")
	v.armed = false
	v.takingOff = false
	v.disarmAt = time.Time{}
	v.running = false
	v.lastPreArm = now // first "PreArm:" reminder after 30 s
	if v.onGround {
		v.landing = false
	}
}
