package drone

import (
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// Mission protocol timing of ArduPilot's MissionItemProtocol: a missing
// item is re-requested after 1 s, an upload with nothing received for 8 s
// is cancelled.
const (
	missionRerequest = time.Second
	missionTimeout   = 8 * time.Second
	maxMissionItems  = 700
)

// MISSION_CURRENT.mission_state values (MISSION_STATE).
const (
	missionStateNone       = 1
	missionStateNotStarted = 2
	missionStateActive     = 3
	missionStatePaused     = 4
	missionStateComplete   = 5
)

// upload is a mission upload in progress.
type upload struct {
	l                *link
	sys, comp        uint8
	count, next      int
	items            []mavlink.MissionItemInt
	lastReq, lastRcv time.Time
}

// missionCount is the count ArduPilot reports: item 0 (home) always exists.
func (v *vehicle) missionCount() int { return max(1, len(v.mission)) }

// missionItem returns item seq; item 0 is the current home.
func (v *vehicle) missionItem(seq int) mavlink.MissionItemInt {
	if seq == 0 {
		return mavlink.MissionItemInt{
			Seq: 0, Frame: mavlink.MAV_FRAME_GLOBAL_INT, Command: mavlink.MAV_CMD_NAV_WAYPOINT, Autocontinue: 1,
			X: int32(math.Round(v.home.Lat * 1e7)), Y: int32(math.Round(v.home.Lon * 1e7)), Z: float32(v.home.AltM),
		}
	}
	return v.mission[seq]
}

// handleMissionCount starts an upload (or clears with count 0). As
// ArduPilot's MissionItemProtocol: the sender of an upload in progress may
// restart it, anyone else is denied. Caller holds mu.
func (s *Sim) handleMissionCount(l *link, f *mavlink.Frame, m *mavlink.MissionCount) {
	v := &s.v
	now := s.clock.Now()
	if m.MissionType != mavlink.MAV_MISSION_TYPE_MISSION {
		s.missionAck(l, f, mavlink.MAV_MISSION_UNSUPPORTED, m.MissionType)
		return
	}
	if !s.cancelUpload(l, f) {
		return
	}
	switch {
	case m.Count == 0:
		s.replaceMission(nil)
		s.missionAck(l, f, mavlink.MAV_MISSION_ACCEPTED, m.MissionType)
		return
	case int(m.Count) > maxMissionItems:
		s.missionAck(l, f, mavlink.MAV_MISSION_NO_SPACE, m.MissionType)
		return
	}
	v.up = &upload{l: l, sys: f.SysID, comp: f.CompID, count: int(m.Count), items: make([]mavlink.MissionItemInt, m.Count), lastRcv: now}
	s.requestItem(now)
}

// cancelUpload ends an upload in progress if f comes from its sender and
// reports true, or denies f and reports false. With no upload it reports
// true. Caller holds mu.
func (s *Sim) cancelUpload(l *link, f *mavlink.Frame) bool {
	v := &s.v
	if v.up == nil {
		return true
	}
	if f.SysID != v.up.sys || f.CompID != v.up.comp {
		s.missionAck(l, f, mavlink.MAV_MISSION_DENIED, mavlink.MAV_MISSION_TYPE_MISSION)
		return false
	}
	v.up = nil
	return true
}

// handleMissionItem stores an uploaded item (MISSION_ITEM is converted by
// the caller). As ArduPilot: an item out of sequence is answered
// MISSION_ACK(INVALID_SEQUENCE) and the upload goes on (the vehicle
// re-requests the one it wants); an item from another sender is DENIED.
// Caller holds mu.
func (s *Sim) handleMissionItem(l *link, f *mavlink.Frame, it *mavlink.MissionItemInt) {
	v := &s.v
	up := v.up
	if up == nil || it.MissionType != mavlink.MAV_MISSION_TYPE_MISSION {
		return
	}
	if v.dropMissionItems > 0 {
		v.dropMissionItems--
		return
	}
	if int(it.Seq) != up.next {
		s.missionAck(l, f, mavlink.MAV_MISSION_INVALID_SEQUENCE, mavlink.MAV_MISSION_TYPE_MISSION)
		return
	}
	if f.SysID != up.sys || f.CompID != up.comp {
		s.missionAck(l, f, mavlink.MAV_MISSION_DENIED, mavlink.MAV_MISSION_TYPE_MISSION)
		return
	}
	now := s.clock.Now()
	up.items[up.next] = *it
	up.next++
	up.lastRcv = now
	if up.next < up.count {
		s.requestItem(now)
		return
	}
	v.up = nil
	s.replaceMission(up.items)
	s.missionAck(l, f, mavlink.MAV_MISSION_ACCEPTED, mavlink.MAV_MISSION_TYPE_MISSION)
}

// replaceMission installs items (item 0 home included) as the mission.
// As ArduPilot's, the upload is not atomic with execution: a running
// mission goes on with its current index. Caller holds mu.
func (s *Sim) replaceMission(items []mavlink.MissionItemInt) {
	v := &s.v
	v.mission = items
	v.missionID++
	if v.cur >= v.missionCount() {
		v.cur = 0
		v.running = false
	}
	v.navStarted = false
	v.reached = false
	s.broadcastMissionCurrent()
}

// requestItem asks for the next item, unless an injected loss eats the
// request. Caller holds mu.
func (s *Sim) requestItem(now time.Time) {
	v := &s.v
	up := v.up
	up.lastReq = now
	if v.dropMissionReq > 0 {
		v.dropMissionReq--
		return
	}
	if s.legacyRequests {
		s.send(up.l, &mavlink.MissionRequest{
			TargetSystem: up.sys, TargetComponent: up.comp, Seq: uint16(up.next), MissionType: mavlink.MAV_MISSION_TYPE_MISSION,
		})
		return
	}
	s.send(up.l, &mavlink.MissionRequestInt{
		TargetSystem: up.sys, TargetComponent: up.comp, Seq: uint16(up.next), MissionType: mavlink.MAV_MISSION_TYPE_MISSION,
	})
}

// missionUploadTimeouts re-requests a missing item after 1 s and cancels
// an upload silent for 8 s. Caller holds mu.
func (s *Sim) missionUploadTimeouts(now time.Time) {
	v := &s.v
	up := v.up
	if up == nil {
		return
	}
	if now.Sub(up.lastRcv) >= missionTimeout {
		v.up = nil
		s.send(up.l, &mavlink.MissionAck{TargetSystem: up.sys, TargetComponent: up.comp, Type: mavlink.MAV_MISSION_OPERATION_CANCELLED})
		return
	}
	if now.Sub(up.lastReq) >= missionRerequest {
		s.requestItem(now)
	}
}

func (s *Sim) missionAck(l *link, f *mavlink.Frame, r mavlink.MAVMissionResult, t mavlink.MAVMissionType) {
	s.send(l, &mavlink.MissionAck{
		TargetSystem: f.SysID, TargetComponent: f.CompID, Type: r, MissionType: t, OpaqueID: s.v.missionID,
	})
}

// handleMissionRequest answers a download request with item seq, as
// MISSION_ITEM_INT or (asInt false) the float MISSION_ITEM. Caller holds mu.
func (s *Sim) handleMissionRequest(l *link, f *mavlink.Frame, seq int, t mavlink.MAVMissionType, asInt bool) {
	v := &s.v
	if t != mavlink.MAV_MISSION_TYPE_MISSION {
		s.missionAck(l, f, mavlink.MAV_MISSION_UNSUPPORTED, t)
		return
	}
	if v.up != nil { // no downloads during an upload
		s.missionAck(l, f, mavlink.MAV_MISSION_DENIED, t)
		return
	}
	if seq < 0 || seq >= v.missionCount() {
		// Tell the GCS the real size, then refuse.
		s.send(l, &mavlink.MissionCount{TargetSystem: f.SysID, TargetComponent: f.CompID, Count: uint16(v.missionCount()), OpaqueID: v.missionID})
		s.missionAck(l, f, mavlink.MAV_MISSION_INVALID_SEQUENCE, t)
		return
	}
	it := v.missionItem(seq)
	it.TargetSystem, it.TargetComponent, it.Seq = f.SysID, f.CompID, uint16(seq)
	if asInt {
		s.send(l, &it)
		return
	}
	s.send(l, &mavlink.MissionItem{
		TargetSystem: f.SysID, TargetComponent: f.CompID, Seq: uint16(seq), Frame: floatFrame(it.Frame),
		Command: it.Command, Current: it.Current, Autocontinue: it.Autocontinue,
		Param1: it.Param1, Param2: it.Param2, Param3: it.Param3, Param4: it.Param4,
		X: float32(float64(it.X) / 1e7), Y: float32(float64(it.Y) / 1e7), Z: it.Z,
	})
}

// floatFrame maps an _INT frame to its float twin for MISSION_ITEM.
func floatFrame(f mavlink.MAVFrame) mavlink.MAVFrame {
	switch f {
	case mavlink.MAV_FRAME_GLOBAL_INT:
		return mavlink.MAV_FRAME_GLOBAL
	case mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT:
		return mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT
	case mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT:
		return mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT
	}
	return f
}

// intItem converts a float MISSION_ITEM into MISSION_ITEM_INT.
func intItem(m *mavlink.MissionItem) mavlink.MissionItemInt {
	it := mavlink.MissionItemInt{
		TargetSystem: m.TargetSystem, TargetComponent: m.TargetComponent, Seq: m.Seq, Frame: m.Frame,
		Command: m.Command, Current: m.Current, Autocontinue: m.Autocontinue,
		Param1: m.Param1, Param2: m.Param2, Param3: m.Param3, Param4: m.Param4,
		X: int32(math.Round(float64(m.X) * 1e7)), Y: int32(math.Round(float64(m.Y) * 1e7)), Z: m.Z,
		MissionType: m.MissionType,
	}
	switch m.Frame {
	case mavlink.MAV_FRAME_GLOBAL:
		it.Frame = mavlink.MAV_FRAME_GLOBAL_INT
	case mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT:
		it.Frame = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
	case mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT:
		it.Frame = mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT
	}
	return it
}

// handleClearAll clears the mission; ArduCopter refuses while flying one.
// Caller holds mu.
func (s *Sim) handleClearAll(l *link, f *mavlink.Frame, t mavlink.MAVMissionType) {
	v := &s.v
	if t != mavlink.MAV_MISSION_TYPE_MISSION && t != mavlink.MAV_MISSION_TYPE_ALL {
		s.missionAck(l, f, mavlink.MAV_MISSION_UNSUPPORTED, t)
		return
	}
	if !s.cancelUpload(l, f) {
		return
	}
	if v.mode == ModeAuto && v.armed && !v.onGround {
		s.missionAck(l, f, mavlink.MAV_MISSION_ERROR, t)
		return
	}
	s.replaceMission(nil)
	s.missionAck(l, f, mavlink.MAV_MISSION_ACCEPTED, t)
}

// startMission resumes the mission where it stopped, or restarts it at
// item 1 when it had not started or had completed (MIS_RESTART 0).
// Caller holds mu.
func (s *Sim) startMission() {
	v := &s.v
	v.running = true
	if v.cur < 1 || v.cur >= len(v.mission) {
		v.cur = 1
	}
	v.navStarted, v.reached = false, false
	// ModeAuto::init: WPNAV_SPEED again, DO_CHANGE_SPEED of an earlier
	// run forgotten.
	v.autoSpeed = 0
	v.startLeg(v.wpSpeed)
	s.broadcastMissionCurrent()
}

// autoLeg sets the limits of an AUTO leg: WPNAV_SPEED or the mission's
// DO_CHANGE_SPEED.
func (v *vehicle) autoLeg() {
	v.startLeg(v.wpSpeed)
	if v.autoSpeed > 0 {
		v.legSpeed = v.autoSpeed
	}
}

// missionComplete reports whether the last item ran to its end.
func (s *Sim) missionComplete() bool { return s.v.cur >= len(s.v.mission) }

// itemTarget sets the target from a mission item: 0 lat/lon is here, 0 alt
// keeps the altitude.
func (v *vehicle) itemTarget(it *mavlink.MissionItemInt) {
	v.tgtLat, v.tgtLon, v.tgtAlt = v.lat, v.lon, v.alt
	if lat, lon := float64(it.X)/1e7, float64(it.Y)/1e7; (lat != 0 || lon != 0) && validLatLon(lat, lon) {
		v.tgtLat, v.tgtLon = lat, lon
	}
	if z := float64(it.Z); z != 0 && math.Abs(z) <= maxAltM+10000 {
		v.tgtAlt = math.Max(v.groundAlt, frameAlt(v, it.Frame, z))
	}
	v.posHold = true
	v.direct = true
}

// frameAlt converts an altitude in frame f to metres AMSL.
func frameAlt(v *vehicle, f mavlink.MAVFrame, z float64) float64 {
	switch f {
	case mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT:
		return z
	}
	return v.home.AltM + z // relative (and terrain, on a flat world)
}

// stepMission runs ArduCopter's AUTO: DO items at once, NAV items until
// verified. Caller holds mu.
func (s *Sim) stepMission(now time.Time) {
	v := &s.v
	for guard := 0; guard < 32 && v.running && v.cur < len(v.mission); guard++ {
		it := &v.mission[v.cur]
		switch it.Command {
		case mavlink.MAV_CMD_DO_CHANGE_SPEED:
			v.changeSpeed(float64(it.Param1), float64(it.Param2))
			s.itemDone(now)
			continue
		case mavlink.MAV_CMD_NAV_TAKEOFF:
			if !v.navStarted {
				v.navStarted = true
				alt := float64(it.Z)
				if it.Frame == mavlink.MAV_FRAME_GLOBAL || it.Frame == mavlink.MAV_FRAME_GLOBAL_INT {
					alt -= v.home.AltM
				}
				if !(math.Abs(alt) <= maxAltM) {
					alt = 0
				}
				if v.onGround {
					v.startTakeoff(alt)
					v.autoLeg()
				} else {
					v.holdHere()
					v.tgtAlt = math.Max(v.alt, v.home.AltM+alt)
				}
			}
			if v.alt < v.tgtAlt-0.5 {
				return
			}
			v.takingOff = false
			s.itemReached(v.cur)
			s.itemDone(now)
			continue
		case mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_TIME, mavlink.MAV_CMD_NAV_LOITER_UNLIM:
			if !v.navStarted {
				v.navStarted = true
				v.itemTarget(it)
				if v.onGround {
					lat, lon, alt := v.tgtLat, v.tgtLon, v.tgtAlt
					v.startTakeoff(alt - v.home.AltM)
					v.autoLeg()
					v.tgtLat, v.tgtLon = lat, lon
				}
			}
			if !v.reached {
				n, e := v.offset(v.tgtLat, v.tgtLon)
				if math.Sqrt(n*n+e*e+(v.tgtAlt-v.alt)*(v.tgtAlt-v.alt)) > v.radius {
					return
				}
				v.reached = true
				v.holdUntil = now.Add(time.Duration(math.Max(0, math.Min(86400, float64(it.Param1))) * float64(time.Second)))
				s.sendAll(&mavlink.MissionItemReached{Seq: uint16(v.cur)})
			}
			if it.Command == mavlink.MAV_CMD_NAV_LOITER_UNLIM || now.Before(v.holdUntil) {
				return
			}
			s.broadcastText(mavlink.MAV_SEVERITY_INFO, fmt.Sprintf("Reached command #%d", v.cur))
			s.itemDone(now)
			continue
		case mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
			if !v.navStarted {
				v.navStarted = true
				v.startRTL()
			}
			s.stepRTL(now) // touchdown completes the item
			return
		case mavlink.MAV_CMD_NAV_LAND:
			if !v.navStarted {
				v.navStarted = true
				v.holdHere()
				if lat, lon := float64(it.X)/1e7, float64(it.Y)/1e7; (lat != 0 || lon != 0) && validLatLon(lat, lon) {
					v.tgtLat, v.tgtLon = lat, lon
				}
			}
			if !v.landing && v.distTo(v.tgtLat, v.tgtLon) <= v.radius {
				v.landing = true
			}
			return
		default: // not simulated: skipped, as a DO item
			s.itemDone(now)
			continue
		}
	}
}

// itemReached announces a NAV item verified: MISSION_ITEM_REACHED and
// "Reached command #n". Caller holds mu.
func (s *Sim) itemReached(seq int) {
	s.sendAll(&mavlink.MissionItemReached{Seq: uint16(seq)})
	s.broadcastText(mavlink.MAV_SEVERITY_INFO, fmt.Sprintf("Reached command #%d", seq))
}

// itemDone moves to the next item; after the last the mission completes
// and the vehicle holds where it is. Caller holds mu.
func (s *Sim) itemDone(now time.Time) {
	v := &s.v
	v.cur++
	v.navStarted, v.reached = false, false
	if v.cur >= len(v.mission) {
		v.running = false
		if !v.onGround && !v.landing {
			v.holdHere()
		}
	}
	s.broadcastMissionCurrent()
}

// missionCurrent builds MISSION_CURRENT. Caller holds mu.
func (s *Sim) missionCurrent() *mavlink.MissionCurrent {
	v := &s.v
	m := &mavlink.MissionCurrent{Seq: uint16(min(v.cur, v.missionCount()-1)), Total: uint16(v.missionCount() - 1), MissionID: v.missionID}
	switch {
	case len(v.mission) < 2:
		m.MissionState = missionStateNone
		m.Total = math.MaxUint16
	case v.running:
		m.MissionState = missionStateActive
	case s.missionComplete():
		m.MissionState = missionStateComplete
	case v.cur >= 1:
		m.MissionState = missionStatePaused
	default:
		m.MissionState = missionStateNotStarted
	}
	if v.mode == ModeAuto {
		m.MissionMode = 1
	}
	return m
}

func (s *Sim) broadcastMissionCurrent() { s.sendAll(s.missionCurrent()) }
