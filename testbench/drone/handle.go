package drone

import (
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// forceMagic in param2 of MAV_CMD_COMPONENT_ARM_DISARM forces arming
// without checks or disarming in the air.
const forceMagic = 21196

// MAV_DO_REPOSITION_FLAGS_CHANGE_MODE: switch to GUIDED for the reposition.
const repositionChangeMode = 1

// dedupeWindow is how long a COMMAND_LONG retry (confirmation > 0) of the
// last command is answered from memory instead of run again.
const dedupeWindow = 30 * time.Second

// cmdKey identifies a COMMAND_LONG for retry detection.
type cmdKey struct {
	sys, comp uint8
	cmd       mavlink.MAVCmd
	p         [7]float32
}

// command is a COMMAND_LONG or COMMAND_INT in one form. For COMMAND_INT,
// p5 and p6 hold x and y as degrees and p7 holds z.
type command struct {
	id    mavlink.MAVCmd
	p     [7]float64
	isInt bool
	frame mavlink.MAVFrame
}

// noMessage marks "nothing to send after the ACK".
const noMessage = math.MaxUint32

// handleFrame acts on one frame from link l.
func (s *Sim) handleFrame(l *link, f *mavlink.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &s.v
	if s.clock.Now().Before(v.linkDownUntil) {
		return
	}
	m := &s.in
	switch f.MsgID {
	case 76: // COMMAND_LONG
		if mavlink.DecodeMessage(f, &m.cl) != nil || !s.forUs(m.cl.TargetSystem, m.cl.TargetComponent) {
			return
		}
		s.commandLong(l, f, &m.cl)
	case 75: // COMMAND_INT
		if mavlink.DecodeMessage(f, &m.ci) != nil || !s.forUs(m.ci.TargetSystem, m.ci.TargetComponent) {
			return
		}
		c := command{id: m.ci.Command, isInt: true, frame: m.ci.Frame, p: [7]float64{
			float64(m.ci.Param1), float64(m.ci.Param2), float64(m.ci.Param3), float64(m.ci.Param4),
			float64(m.ci.X) / 1e7, float64(m.ci.Y) / 1e7, float64(m.ci.Z),
		}}
		s.runCommand(l, f, c)
	case 11: // SET_MODE: answered with a COMMAND_ACK for MAV_CMD_DO_SET_MODE, as ArduPilot does
		if mavlink.DecodeMessage(f, &m.sm) != nil || !s.forUs(m.sm.TargetSystem, 0) {
			return
		}
		r := s.doSetMode(float64(m.sm.BaseMode), float64(m.sm.CustomMode))
		s.ack(l, f, mavlink.MAV_CMD_DO_SET_MODE, r)
	case 86: // SET_POSITION_TARGET_GLOBAL_INT
		if mavlink.DecodeMessage(f, &m.sp) != nil || !s.forUs(m.sp.TargetSystem, m.sp.TargetComponent) {
			return
		}
		s.positionTarget(&m.sp)
	case 66: // REQUEST_DATA_STREAM
		if mavlink.DecodeMessage(f, &m.rds) != nil || !s.forUs(m.rds.TargetSystem, m.rds.TargetComponent) {
			return
		}
		hz := float64(m.rds.ReqMessageRate)
		if m.rds.StartStop == 0 {
			hz = 0
		}
		l.setStreamRate(mavlink.MAVDataStream(m.rds.ReqStreamID), hz, s.clock.Now())
	case 20: // PARAM_REQUEST_READ
		if mavlink.DecodeMessage(f, &m.prr) != nil || !s.forUs(m.prr.TargetSystem, m.prr.TargetComponent) {
			return
		}
		i := int(m.prr.ParamIndex)
		if i < 0 {
			i = v.params.find(paramName(m.prr.ParamID[:]))
		}
		if i >= 0 && i < len(v.params.list) {
			s.send(l, s.paramValue(i))
		}
	case 21: // PARAM_REQUEST_LIST: target_system, target_component
		if len(f.Payload) < 1 || !s.forUs(f.Payload[0], byteAt(f.Payload, 1)) {
			return
		}
		for i := range v.params.list {
			s.send(l, s.paramValue(i))
		}
	case 23: // PARAM_SET: the new value goes to every link
		if mavlink.DecodeMessage(f, &m.ps) != nil || !s.forUs(m.ps.TargetSystem, m.ps.TargetComponent) {
			return
		}
		name := paramName(m.ps.ParamID[:])
		if !v.params.set(name, float64(m.ps.ParamValue)) {
			return
		}
		v.applyParams()
		if name == "WPNAV_SPEED" {
			v.wpSpeedChanged()
		}
		s.sendAll(s.paramValue(v.params.find(name)))
	case 44: // MISSION_COUNT
		if mavlink.DecodeMessage(f, &m.mc) != nil || !s.forUs(m.mc.TargetSystem, m.mc.TargetComponent) {
			return
		}
		s.handleMissionCount(l, f, &m.mc)
	case 73: // MISSION_ITEM_INT
		if mavlink.DecodeMessage(f, &m.mii) != nil || !s.forUs(m.mii.TargetSystem, m.mii.TargetComponent) {
			return
		}
		s.handleMissionItem(l, f, &m.mii)
	case 39: // MISSION_ITEM
		if mavlink.DecodeMessage(f, &m.mi) != nil || !s.forUs(m.mi.TargetSystem, m.mi.TargetComponent) {
			return
		}
		it := intItem(&m.mi)
		s.handleMissionItem(l, f, &it)
	case 43: // MISSION_REQUEST_LIST
		if mavlink.DecodeMessage(f, &m.mrl) != nil || !s.forUs(m.mrl.TargetSystem, m.mrl.TargetComponent) {
			return
		}
		if m.mrl.MissionType != mavlink.MAV_MISSION_TYPE_MISSION {
			s.missionAck(l, f, mavlink.MAV_MISSION_UNSUPPORTED, m.mrl.MissionType)
			return
		}
		if v.up != nil { // no downloads during an upload
			s.missionAck(l, f, mavlink.MAV_MISSION_DENIED, m.mrl.MissionType)
			return
		}
		s.send(l, &mavlink.MissionCount{TargetSystem: f.SysID, TargetComponent: f.CompID, Count: uint16(v.missionCount()), OpaqueID: v.missionID})
	case 51: // MISSION_REQUEST_INT
		if mavlink.DecodeMessage(f, &m.mri) != nil || !s.forUs(m.mri.TargetSystem, m.mri.TargetComponent) {
			return
		}
		s.handleMissionRequest(l, f, int(m.mri.Seq), m.mri.MissionType, true)
	case 40: // MISSION_REQUEST
		if mavlink.DecodeMessage(f, &m.mr) != nil || !s.forUs(m.mr.TargetSystem, m.mr.TargetComponent) {
			return
		}
		s.handleMissionRequest(l, f, int(m.mr.Seq), m.mr.MissionType, false)
	case 45: // MISSION_CLEAR_ALL
		if mavlink.DecodeMessage(f, &m.mca) != nil || !s.forUs(m.mca.TargetSystem, m.mca.TargetComponent) {
			return
		}
		s.handleClearAll(l, f, m.mca.MissionType)
	case 111: // TIMESYNC: answer a request (tc1 0) with our time since boot in ns
		if mavlink.DecodeMessage(f, &m.ts) != nil || m.ts.Tc1 != 0 || !s.forUs(m.ts.TargetSystem, m.ts.TargetComponent) {
			return
		}
		s.send(l, &mavlink.Timesync{Tc1: s.clock.Now().Sub(v.boot).Nanoseconds(), Ts1: m.ts.Ts1, TargetSystem: f.SysID, TargetComponent: f.CompID})
	case 41: // MISSION_SET_CURRENT
		if mavlink.DecodeMessage(f, &m.msc) != nil || !s.forUs(m.msc.TargetSystem, m.msc.TargetComponent) {
			return
		}
		s.setCurrent(int(m.msc.Seq))
	}
}

// inbound holds the decoded messages of handleFrame (guarded by mu), so
// that decoding does not allocate.
type inbound struct {
	cl  mavlink.CommandLong
	ci  mavlink.CommandInt
	sm  mavlink.SetMode
	sp  mavlink.SetPositionTargetGlobalInt
	rds mavlink.RequestDataStream
	prr mavlink.ParamRequestRead
	ps  mavlink.ParamSet
	mc  mavlink.MissionCount
	mii mavlink.MissionItemInt
	mi  mavlink.MissionItem
	mrl mavlink.MissionRequestList
	mri mavlink.MissionRequestInt
	mr  mavlink.MissionRequest
	mca mavlink.MissionClearAll
	msc mavlink.MissionSetCurrent
	ts  mavlink.Timesync
}

func byteAt(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// forUs reports whether a message addressed to (sys, comp) is ours; 0 is
// a broadcast.
func (s *Sim) forUs(sys, comp uint8) bool {
	return (sys == 0 || sys == s.sysID) && (comp == 0 || comp == s.compID)
}

// commandLong runs a COMMAND_LONG, answering a retry (confirmation > 0)
// of the last command from memory: a retry after a lost ACK must not run
// the command twice. Caller holds mu.
func (s *Sim) commandLong(l *link, f *mavlink.Frame, m *mavlink.CommandLong) {
	v := &s.v
	now := s.clock.Now()
	key := cmdKey{sys: f.SysID, comp: f.CompID, cmd: m.Command, p: [7]float32{m.Param1, m.Param2, m.Param3, m.Param4, m.Param5, m.Param6, m.Param7}}
	if m.Confirmation > 0 && key == v.lastCmd && now.Sub(v.lastCmdAt) < dedupeWindow {
		s.ack(l, f, m.Command, v.lastResult)
		return
	}
	c := command{id: m.Command, frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT}
	for i, p := range key.p {
		c.p[i] = float64(p)
	}
	if m.Command == mavlink.MAV_CMD_DO_SET_HOME {
		c.frame = mavlink.MAV_FRAME_GLOBAL // param7 is AMSL
	}
	v.lastCmd, v.lastCmdAt = key, now
	v.lastResult = s.runCommand(l, f, c)
}

// runCommand executes c, sends its COMMAND_ACK and then any message the
// command asked for, and returns the result. Caller holds mu.
func (s *Sim) runCommand(l *link, f *mavlink.Frame, c command) mavlink.MAVResult {
	r, after := s.execute(l, c)
	s.ack(l, f, c.id, r)
	if after != noMessage {
		s.sendID(l, after, s.clock.Now())
	}
	return r
}

// ack sends COMMAND_ACK unless an injected loss eats it. Caller holds mu.
func (s *Sim) ack(l *link, f *mavlink.Frame, cmd mavlink.MAVCmd, r mavlink.MAVResult) {
	if s.v.dropAcks > 0 {
		s.v.dropAcks--
		return
	}
	s.send(l, &mavlink.CommandAck{Command: cmd, Result: r, TargetSystem: f.SysID, TargetComponent: f.CompID})
}

// execute runs command c and returns its result and the id of a message
// to send after the ACK (or noMessage). Caller holds mu.
func (s *Sim) execute(l *link, c command) (mavlink.MAVResult, uint32) {
	v := &s.v
	now := s.clock.Now()
	switch c.id {
	case mavlink.MAV_CMD_DO_SET_MODE:
		return s.doSetMode(c.p[0], c.p[1]), noMessage
	case mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
		return s.armDisarm(now, c.p[0], c.p[1]), noMessage
	case mavlink.MAV_CMD_NAV_TAKEOFF:
		if v.mode != ModeGuided || !v.armed || !v.onGround || !(c.p[6] > 0 && c.p[6] <= maxAltM) {
			return mavlink.MAV_RESULT_FAILED, noMessage
		}
		v.startTakeoff(c.p[6])
		return mavlink.MAV_RESULT_ACCEPTED, noMessage
	case mavlink.MAV_CMD_DO_REPOSITION:
		return s.reposition(now, c), noMessage
	case mavlink.MAV_CMD_MISSION_START:
		// ArduCopter takes no first/last item: nonzero params are refused.
		if c.p[0] != 0 || c.p[1] != 0 {
			return mavlink.MAV_RESULT_DENIED, noMessage
		}
		if len(v.mission) < 2 {
			return mavlink.MAV_RESULT_FAILED, noMessage
		}
		if v.mode != ModeAuto {
			if r := s.setMode(now, ModeAuto); r != "" {
				s.modeFailed(ModeAuto, r)
				return mavlink.MAV_RESULT_FAILED, noMessage
			}
		}
		if !v.running {
			s.startMission()
		}
		return mavlink.MAV_RESULT_ACCEPTED, noMessage
	case mavlink.MAV_CMD_NAV_LOITER_UNLIM:
		return s.modeResult(now, ModeLoiter), noMessage
	case mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
		return s.modeResult(now, ModeRTL), noMessage
	case mavlink.MAV_CMD_NAV_LAND:
		return s.modeResult(now, ModeLand), noMessage
	case mavlink.MAV_CMD_DO_SET_HOME:
		return s.setHome(c), noMessage
	case mavlink.MAV_CMD_DO_CHANGE_SPEED:
		return v.changeSpeed(c.p[0], c.p[1]), noMessage
	case mavlink.MAV_CMD_DO_SET_MISSION_CURRENT:
		if !s.setCurrent(int(c.p[0])) {
			return mavlink.MAV_RESULT_FAILED, noMessage
		}
		return mavlink.MAV_RESULT_ACCEPTED, noMessage
	case mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
		id := uint32(c.p[0])
		if !streamable(id) || math.IsNaN(c.p[1]) || c.p[1] > 1e9 {
			return mavlink.MAV_RESULT_FAILED, noMessage
		}
		l.setInterval(id, c.p[1], now)
		return mavlink.MAV_RESULT_ACCEPTED, noMessage
	case mavlink.MAV_CMD_GET_MESSAGE_INTERVAL:
		id := uint32(c.p[0])
		if !streamable(id) {
			return mavlink.MAV_RESULT_FAILED, noMessage
		}
		us := int32(-1)
		if d := l.interval(id); d > 0 {
			us = int32(d / time.Microsecond)
		}
		s.send(l, &mavlink.MessageInterval{MessageID: uint16(id), IntervalUs: us})
		return mavlink.MAV_RESULT_ACCEPTED, noMessage
	case mavlink.MAV_CMD_REQUEST_MESSAGE:
		id := uint32(c.p[0])
		if !buildable(id) {
			return mavlink.MAV_RESULT_FAILED, noMessage
		}
		return mavlink.MAV_RESULT_ACCEPTED, id
	case mavlink.MAV_CMD_GET_HOME_POSITION:
		return mavlink.MAV_RESULT_ACCEPTED, 242
	case mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES:
		return mavlink.MAV_RESULT_ACCEPTED, 148
	}
	return mavlink.MAV_RESULT_UNSUPPORTED, noMessage
}

// doSetMode handles MAV_CMD_DO_SET_MODE and SET_MODE: base mode with
// MAV_MODE_FLAG_CUSTOM_MODE_ENABLED and the ArduCopter mode number.
func (s *Sim) doSetMode(base, custom float64) mavlink.MAVResult {
	if int(base)&int(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) == 0 {
		return mavlink.MAV_RESULT_UNSUPPORTED
	}
	return s.modeResult(s.clock.Now(), Mode(custom))
}

// modeResult sets mode m and maps a refusal to MAV_RESULT_FAILED with
// ArduPilot's STATUSTEXT. Caller holds mu.
func (s *Sim) modeResult(now time.Time, m Mode) mavlink.MAVResult {
	if r := s.setMode(now, m); r != "" {
		s.modeFailed(m, r)
		return mavlink.MAV_RESULT_FAILED
	}
	return mavlink.MAV_RESULT_ACCEPTED
}

func (s *Sim) modeFailed(m Mode, reason string) {
	s.broadcastText(mavlink.MAV_SEVERITY_WARNING, fmt.Sprintf("Mode change to %s failed: %s", m, reason))
}

// armDisarm handles MAV_CMD_COMPONENT_ARM_DISARM. Refusals are
// MAV_RESULT_FAILED with a STATUSTEXT, as ArduCopter answers. Caller holds mu.
func (s *Sim) armDisarm(now time.Time, p1, p2 float64) mavlink.MAVResult {
	v := &s.v
	forced := p2 == forceMagic
	switch p1 {
	case 1:
		if v.armed {
			return mavlink.MAV_RESULT_ACCEPTED
		}
		if !v.mode.armable() {
			s.broadcastText(mavlink.MAV_SEVERITY_CRITICAL, "Arm: Mode not armable")
			return mavlink.MAV_RESULT_FAILED
		}
		if !forced {
			if r := v.preArm(); r != "" {
				s.broadcastText(mavlink.MAV_SEVERITY_CRITICAL, "PreArm: "+r)
				return mavlink.MAV_RESULT_FAILED
			}
		}
		s.arm(now)
		return mavlink.MAV_RESULT_ACCEPTED
	case 0:
		if !v.armed {
			return mavlink.MAV_RESULT_ACCEPTED
		}
		if !v.onGround && !forced {
			s.broadcastText(mavlink.MAV_SEVERITY_CRITICAL, "Disarm: vehicle is flying")
			return mavlink.MAV_RESULT_FAILED
		}
		s.disarm(now)
		return mavlink.MAV_RESULT_ACCEPTED
	}
	return mavlink.MAV_RESULT_DENIED
}

// reposition handles MAV_CMD_DO_REPOSITION (guided go-to). Caller holds mu.
func (s *Sim) reposition(now time.Time, c command) mavlink.MAVResult {
	v := &s.v
	if c.isInt && !globalFrame(c.frame) {
		return mavlink.MAV_RESULT_COMMAND_UNSUPPORTED_MAV_FRAME
	}
	if v.mode != ModeGuided && int(c.p[1])&repositionChangeMode == 0 {
		return mavlink.MAV_RESULT_DENIED
	}
	lat, lon, alt := c.p[4], c.p[5], c.p[6]
	if !validLatLon(lat, lon) {
		return mavlink.MAV_RESULT_DENIED
	}
	if !v.hasPosition() {
		return mavlink.MAV_RESULT_FAILED
	}
	if v.mode != ModeGuided {
		if r := s.setMode(now, ModeGuided); r != "" {
			s.modeFailed(ModeGuided, r)
			return mavlink.MAV_RESULT_FAILED
		}
	}
	// param1 (speed) is not read: ArduCopter's handler ignores it; the
	// speed is WPNAV_SPEED or the last DO_CHANGE_SPEED (see goTo).
	s.goTo(lat, lon, alt, c.frame)
	return mavlink.MAV_RESULT_ACCEPTED
}

// Speed types of MAV_CMD_DO_CHANGE_SPEED param1 (SPEED_TYPE).
const (
	speedTypeAirspeed    = 0
	speedTypeGroundspeed = 1
	speedTypeClimb       = 2
	speedTypeDescent     = 3
)

// changeSpeed handles MAV_CMD_DO_CHANGE_SPEED (param1 type, param2 m/s)
// as ArduCopter does: DENIED unless the speed is positive and the type
// known; only AUTO, GUIDED and RTL take it (else FAILED), and it lasts
// until their navigation starts again (GUIDED's next first go-to, AUTO's
// next start, RTL's next start). Horizontal speeds apply at once to the
// leg being flown. Airspeed is taken as ground speed. Caller holds mu.
func (v *vehicle) changeSpeed(typ, mps float64) mavlink.MAVResult {
	if !(mps > 0) || !(typ >= 0 && typ < 4) {
		return mavlink.MAV_RESULT_DENIED
	}
	if v.mode != ModeAuto && v.mode != ModeGuided && v.mode != ModeRTL {
		return mavlink.MAV_RESULT_FAILED
	}
	mps = math.Min(mps, maxSpeedMPS)
	switch int(typ) {
	case speedTypeAirspeed, speedTypeGroundspeed:
		v.legSpeed = mps
		if v.mode == ModeAuto {
			v.autoSpeed = mps
		}
	case speedTypeClimb:
		v.navUp = mps
	case speedTypeDescent:
		v.navDn = mps
	}
	return mavlink.MAV_RESULT_ACCEPTED
}

// goTo sets the guided target; 0 lat/lon means here, 0 alt the current
// altitude. The first go-to after entering GUIDED or a take-off starts
// ArduCopter's position controller (ModeGuided::pos_control_start) with
// WPNAV_SPEED, WPNAV_SPEED_UP and _DN, dropping any earlier
// DO_CHANGE_SPEED; later go-tos keep the speeds. Caller holds mu.
func (s *Sim) goTo(lat, lon, alt float64, frame mavlink.MAVFrame) {
	v := &s.v
	takingOff := v.takingOff
	v.holdHere()
	v.direct = true
	if !v.guidedPos {
		v.guidedPos = true
		v.startLeg(v.wpSpeed)
	}
	if lat != 0 || lon != 0 {
		v.tgtLat, v.tgtLon = lat, lon
	}
	if alt != 0 && math.Abs(alt) <= maxAltM {
		v.tgtAlt = math.Max(v.groundAlt, frameAlt(v, frame, alt))
	}
	if takingOff {
		v.takingOff = false
	}
}

// Limits that keep outside numbers (NaN, 1e38) out of the kinematics.
const (
	maxAltM     = 10000 // m above home
	maxSpeedMPS = 50
)

func validLatLon(lat, lon float64) bool { return math.Abs(lat) <= 85 && math.Abs(lon) <= 180 }

func globalFrame(f mavlink.MAVFrame) bool {
	switch f {
	case mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT,
		mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT, mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT:
		return true
	}
	return false
}

// positionTarget handles SET_POSITION_TARGET_GLOBAL_INT in GUIDED: the
// position, unless type_mask ignores it (velocity targets are not
// simulated). No reply, as ArduPilot. Caller holds mu.
func (s *Sim) positionTarget(m *mavlink.SetPositionTargetGlobalInt) {
	v := &s.v
	const ignorePos = 0x7
	if v.mode != ModeGuided || !v.hasPosition() || m.TypeMask&ignorePos == ignorePos || !globalFrame(m.CoordinateFrame) {
		return
	}
	if m.LatInt == 0 && m.LonInt == 0 || !validLatLon(float64(m.LatInt)/1e7, float64(m.LonInt)/1e7) {
		return
	}
	s.goTo(float64(m.LatInt)/1e7, float64(m.LonInt)/1e7, float64(m.Alt), m.CoordinateFrame)
}

// setHome handles MAV_CMD_DO_SET_HOME: param1 1 is here, else the given
// point. Home set this way survives arming. Caller holds mu.
func (s *Sim) setHome(c command) mavlink.MAVResult {
	v := &s.v
	if c.p[0] == 1 {
		if !v.hasPosition() {
			return mavlink.MAV_RESULT_FAILED
		}
		v.home = Position{Lat: v.lat, Lon: v.lon, AltM: v.alt}
	} else {
		lat, lon := c.p[4], c.p[5]
		if !validLatLon(lat, lon) || (lat == 0 && lon == 0) || !(math.Abs(c.p[6]) <= maxAltM+10000) {
			return mavlink.MAV_RESULT_FAILED
		}
		alt := c.p[6]
		if c.frame != mavlink.MAV_FRAME_GLOBAL && c.frame != mavlink.MAV_FRAME_GLOBAL_INT {
			alt += v.home.AltM
		}
		v.home = Position{Lat: lat, Lon: lon, AltM: alt}
	}
	v.homeLocked = true
	s.broadcastHome()
	return mavlink.MAV_RESULT_ACCEPTED
}

// setCurrent makes seq the current mission item. Caller holds mu.
func (s *Sim) setCurrent(seq int) bool {
	v := &s.v
	if seq < 1 || seq >= len(v.mission) {
		return false
	}
	v.cur = seq
	v.navStarted, v.reached = false, false
	s.broadcastMissionCurrent()
	return true
}

func (s *Sim) paramValue(i int) *mavlink.ParamValue {
	p := &s.v.params.list[i]
	m := &mavlink.ParamValue{ParamValue: float32(p.value), ParamType: p.typ, ParamCount: uint16(len(s.v.params.list)), ParamIndex: uint16(i)}
	copy(m.ParamID[:], p.name)
	return m
}
