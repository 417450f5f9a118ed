package app

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/router"
)

// The inbound policy: every frame the agent did not make itself (a ground
// station's through the forward, one published on the MQTT bridge's
// mavlink/in) passes inboundGuard.send on its way to the vehicle, and only
// there. Invariant 2 (DESIGN.md §4): the vehicle is never armed unless the
// lid-open and arms-released limit switches both read true; a ground
// station is held to it exactly as the agent's own arming is, through
// dock.Controller.ArmPermitted.
//
// A frame passes when
//  1. it is exactly one valid MAVLink frame (the bridge's payload is
//     checked; the forward hands over frames its parser cut);
//  2. its message (for COMMAND_LONG and COMMAND_INT: its MAV_CMD) is in the
//     read-only default (readOnlyMsgs, readOnlyCmds) or in the source's
//     allow lists (config.Inbound);
//  3. it would not arm, take off, change mode, start or upload a mission,
//     or move the vehicle (classArm, classMotion), or the dock allows it now:
//     arming only when ArmPermitted says so; the others too, unless the
//     vehicle is armed and in the air (then the dock's switches are not
//     what keeps it safe, and a ground station may steer it).
//
// A refused COMMAND_LONG, COMMAND_INT or SET_MODE is answered with a
// COMMAND_ACK MAV_RESULT_DENIED, a refused mission upload with a
// MISSION_ACK MAV_MISSION_DENIED, to the sender alone.

// Message ids the policy names (MAVLink common set).
const (
	msgHeartbeat                 = 0
	msgSystemTime                = 2
	msgSetMode                   = 11
	msgParamRequestRead          = 20
	msgParamRequestList          = 21
	msgMissionWritePartialList   = 38
	msgMissionItem               = 39
	msgMissionRequest            = 40
	msgMissionSetCurrent         = 41
	msgMissionRequestList        = 43
	msgMissionCount              = 44
	msgMissionClearAll           = 45
	msgMissionAck                = 47
	msgMissionRequestInt         = 51
	msgRequestDataStream         = 66
	msgManualControl             = 69
	msgRCChannelsOverride        = 70
	msgMissionItemInt            = 73
	msgCommandInt                = 75
	msgCommandLong               = 76
	msgSetAttitudeTarget         = 82
	msgSetPositionTargetLocalNED = 84
	msgSetPositionTargetGlobal   = 86
	msgFileTransferProtocol      = 110
	msgTimesync                  = 111
	msgSetActuatorControlTarget  = 139
	msgFollowTarget              = 144
	msgParamExtRequestRead       = 320
	msgParamExtRequestList       = 321
)

// MAV_CMDs the policy names that have no generated constant.
const (
	cmdDoFollow       mavlink.MAVCmd = 32
	cmdDoOrbit        mavlink.MAVCmd = 34
	cmdDoMotorTest    mavlink.MAVCmd = 209
	cmdDoAuxFunction  mavlink.MAVCmd = 218 // ArduPilot: an aux switch may arm
	cmdDoSetModeArmed                = uint8(mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
)

// readOnlyMsgs are the messages every source may send: its heartbeat,
// telemetry requests, parameter and mission reads, time sync.
var readOnlyMsgs = map[uint32]bool{
	msgHeartbeat: true, msgSystemTime: true, msgTimesync: true,
	msgRequestDataStream: true,
	msgParamRequestRead:  true, msgParamRequestList: true, msgParamExtRequestRead: true, msgParamExtRequestList: true,
	// Reading the mission back: the list, each item, and the closing ack.
	msgMissionRequestList: true, msgMissionRequest: true, msgMissionRequestInt: true, msgMissionAck: true,
}

// readOnlyCmds are the MAV_CMDs every source may send in COMMAND_LONG or
// COMMAND_INT: telemetry and information requests.
var readOnlyCmds = map[mavlink.MAVCmd]bool{
	mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:           true,
	mavlink.MAV_CMD_GET_MESSAGE_INTERVAL:           true,
	mavlink.MAV_CMD_REQUEST_MESSAGE:                true,
	mavlink.MAV_CMD_REQUEST_PROTOCOL_VERSION:       true,
	mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES: true,
	mavlink.MAV_CMD_GET_HOME_POSITION:              true,
}

// frameClass is what a frame would do to the vehicle.
type frameClass int

const (
	classRead    frameClass = iota // read-only default
	classControl                   // anything else: needs the source's allow list
	classMotion                    // mode, mission start or upload, take-off, movement: allow list and the interlocks
	classArm                       // arms the vehicle: allow list and ArmPermitted, always
)

func (c frameClass) String() string {
	return [...]string{"read", "control", "motion", "arm"}[c]
}

// motionMsgs change the mode, upload or start a mission, or steer.
var motionMsgs = map[uint32]bool{
	msgSetMode:      true,
	msgMissionCount: true, msgMissionItem: true, msgMissionItemInt: true, msgMissionWritePartialList: true,
	msgMissionClearAll: true, msgMissionSetCurrent: true,
	msgManualControl: true, msgRCChannelsOverride: true, // stick input (ArduPilot arms on rudder)
	msgSetAttitudeTarget: true, msgSetPositionTargetLocalNED: true, msgSetPositionTargetGlobal: true,
	msgSetActuatorControlTarget: true, msgFollowTarget: true,
	msgFileTransferProtocol: true, // mission and fence upload by MAVLink FTP
}

// motionCmd reports whether cmd changes the mode, starts a mission, takes
// off or moves the vehicle (or its motors).
func motionCmd(cmd mavlink.MAVCmd) bool {
	switch cmd {
	case mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_CMD_DO_JUMP, mavlink.MAV_CMD_DO_CHANGE_SPEED,
		mavlink.MAV_CMD_DO_CHANGE_ALTITUDE, mavlink.MAV_CMD_DO_LAND_START, mavlink.MAV_CMD_DO_GO_AROUND,
		mavlink.MAV_CMD_DO_REPOSITION, mavlink.MAV_CMD_DO_PAUSE_CONTINUE, mavlink.MAV_CMD_DO_SET_MISSION_CURRENT,
		mavlink.MAV_CMD_MISSION_START, mavlink.MAV_CMD_CONDITION_YAW, mavlink.MAV_CMD_CONDITION_CHANGE_ALT,
		cmdDoFollow, cmdDoOrbit, cmdDoMotorTest, cmdDoAuxFunction:
		return true
	}
	// MAV_CMD_NAV_* (take-off, waypoints, land, RTL, loiter...) are 16..99.
	return cmd >= 16 && cmd < 100
}

// inboundPolicy is one source's allow lists; the read-only default is
// always allowed besides them.
type inboundPolicy struct {
	msgs map[uint32]bool
	cmds map[mavlink.MAVCmd]bool
}

func newInboundPolicy(in config.Inbound) *inboundPolicy {
	p := &inboundPolicy{msgs: map[uint32]bool{}, cmds: map[mavlink.MAVCmd]bool{}}
	for _, id := range in.AllowMsgIDs {
		p.msgs[uint32(id)] = true
	}
	for _, c := range in.AllowCommands {
		p.cmds[mavlink.MAVCmd(c)] = true
	}
	return p
}

// Refusal reasons: the metric's reason label and the log's.
const (
	refusedMalformed  = "malformed"   // not exactly one valid frame
	refusedNotAllowed = "not_allowed" // neither the default nor the source's allow lists
	refusedInterlock  = "interlock"   // the dock does not allow it now
	refusedUnsigned   = "unsigned"    // the bridge's signed envelope missing or wrong (telemetry)
)

// inboundFrame is what the policy reads of a frame.
type inboundFrame struct {
	msgID  uint32
	name   string
	cmd    mavlink.MAVCmd // COMMAND_LONG/INT only
	hasCmd bool
	class  frameClass
}

// classify reads f's message and, for commands, its MAV_CMD.
func classify(f *mavlink.Frame) inboundFrame {
	in := inboundFrame{msgID: f.MsgID, name: f.Name(), class: classControl}
	if in.name == "" {
		in.name = fmt.Sprintf("MSG_%d", f.MsgID)
	}
	switch f.MsgID {
	case msgCommandLong:
		var m mavlink.CommandLong
		m.DecodePayload(f.Payload)
		in.cmd, in.hasCmd = m.Command, true
		in.class = classifyCmd(m.Command, m.Param1)
	case msgCommandInt:
		var m mavlink.CommandInt
		m.DecodePayload(f.Payload)
		in.cmd, in.hasCmd = m.Command, true
		in.class = classifyCmd(m.Command, m.Param1)
	case msgSetMode:
		var m mavlink.SetMode
		m.DecodePayload(f.Payload)
		in.class = classMotion
		if m.BaseMode&cmdDoSetModeArmed != 0 {
			in.class = classArm // a base mode with the armed flag arms
		}
	default:
		switch {
		case readOnlyMsgs[f.MsgID]:
			in.class = classRead
		case motionMsgs[f.MsgID]:
			in.class = classMotion
		}
	}
	return in
}

// classifyCmd: p1 is the command's first parameter (arm/disarm flag, or
// DO_SET_MODE's base mode).
func classifyCmd(cmd mavlink.MAVCmd, p1 float32) frameClass {
	switch {
	case readOnlyCmds[cmd]:
		return classRead
	case cmd == mavlink.MAV_CMD_COMPONENT_ARM_DISARM && p1 != 0:
		return classArm // p1 1 arms; force (p2 21196) changes nothing here
	case cmd == mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
		return classControl // disarm
	case cmd == mavlink.MAV_CMD_DO_SET_MODE && p1 >= 0 && p1 < 256 && uint8(p1)&cmdDoSetModeArmed != 0:
		return classArm
	case motionCmd(cmd):
		return classMotion
	}
	return classControl
}

// interlocks is what the inbound policy needs of the dock: invariant 2 as
// the agent's own arming asks it. *dock.Controller fits.
type interlocks interface {
	ArmPermitted() error
}

// judgement is the policy's answer for one frame.
type judgement struct {
	frame  inboundFrame
	reason string // "" passes
	detail string // why, for the log
}

// judge applies pol to f with the dock's interlocks and the vehicle's state
// as of now. It is a pure function of its arguments.
func judge(pol *inboundPolicy, f *mavlink.Frame, dockGate interlocks, veh dock.VehicleState) judgement {
	j := judgement{frame: classify(f)}
	in := j.frame
	if in.class != classRead {
		allowed := pol.msgs[in.msgID]
		if in.hasCmd {
			allowed = pol.cmds[in.cmd]
		}
		if !allowed {
			j.reason = refusedNotAllowed
			j.detail = "not in the read-only default nor this source's allow list"
			return j
		}
	}
	airborne := veh.Link && veh.Armed && veh.Landed == dock.LandedInAir
	if in.class == classArm || (in.class == classMotion && !airborne) {
		var err error
		if dockGate == nil {
			err = errors.New("dock controller not running")
		} else {
			err = dockGate.ArmPermitted()
		}
		if err != nil {
			j.reason = refusedInterlock
			j.detail = err.Error()
		}
	}
	return j
}

// deniedReply is the answer to a refused frame, for its sender: a
// COMMAND_ACK MAV_RESULT_DENIED for COMMAND_LONG/INT (and SET_MODE, as
// ArduPilot acknowledges it, with the message id as the command), a
// MISSION_ACK MAV_MISSION_DENIED for a mission upload, else nil. It is sent
// in the name of the command's target (so the ground station's pending
// command ends), or of sysID/compID when the frame names none.
func deniedReply(f *mavlink.Frame, in inboundFrame, seq, sysID, compID uint8) []byte {
	h := mavlink.Header{Version: f.Version, Seq: seq, SysID: sysID, CompID: compID}
	target := func(sys, comp uint8) {
		if sys != 0 {
			h.SysID = sys
			if comp != 0 {
				h.CompID = comp
			} else {
				h.CompID = 1 // MAV_COMP_ID_AUTOPILOT1
			}
		}
	}
	var m mavlink.Message
	switch in.msgID {
	case msgCommandLong:
		var c mavlink.CommandLong
		c.DecodePayload(f.Payload)
		target(c.TargetSystem, c.TargetComponent)
		m = &mavlink.CommandAck{Command: c.Command, Result: mavlink.MAV_RESULT_DENIED, TargetSystem: f.SysID, TargetComponent: f.CompID}
	case msgCommandInt:
		var c mavlink.CommandInt
		c.DecodePayload(f.Payload)
		target(c.TargetSystem, c.TargetComponent)
		m = &mavlink.CommandAck{Command: c.Command, Result: mavlink.MAV_RESULT_DENIED, TargetSystem: f.SysID, TargetComponent: f.CompID}
	case msgSetMode:
		var c mavlink.SetMode
		c.DecodePayload(f.Payload)
		target(c.TargetSystem, 0)
		m = &mavlink.CommandAck{Command: msgSetMode, Result: mavlink.MAV_RESULT_DENIED, TargetSystem: f.SysID, TargetComponent: f.CompID}
	case msgMissionCount, msgMissionItem, msgMissionItemInt, msgMissionWritePartialList, msgMissionClearAll:
		// Every one of these carries target_system, target_component
		// as the last two base fields; the generic table reads them.
		if sys, comp, ok := missionTarget(f); ok {
			target(sys, comp)
		}
		m = &mavlink.MissionAck{Type: mavlink.MAV_MISSION_DENIED, TargetSystem: f.SysID, TargetComponent: f.CompID}
	default:
		return nil
	}
	b, err := mavlink.AppendMessage(nil, h, m, nil)
	if err != nil {
		return nil // a programmer error: both messages are in the table
	}
	return b
}

// missionTarget reads target_system and target_component of a mission
// upload frame through the dialect table.
func missionTarget(f *mavlink.Frame) (sys, comp uint8, ok bool) {
	mi := mavlink.LookupMessage(f.MsgID)
	if mi == nil {
		return 0, 0, false
	}
	for i, fd := range mi.Fields {
		v, _ := mi.FieldValue(f.Payload, i).(uint64)
		switch fd.Name {
		case "target_system":
			sys = uint8(v)
		case "target_component":
			comp = uint8(v)
		}
	}
	return sys, comp, true
}

// errRefused is what send returns for a frame the policy kept from the
// vehicle; it wraps router.ErrRefused so the forward neither counts it as
// delivered nor passes it to the other ground stations.
var errRefused = fmt.Errorf("frame to the vehicle %w", router.ErrRefused)

// inboundOptions configure the inbound guard.
type inboundOptions struct {
	// Policies are the allow lists by source name ("gcs:<url>", "mqtt").
	// A source without one gets the read-only default.
	Policies map[string]*inboundPolicy
	// SysID and CompID are the agent's, for a reply to a frame that names
	// no target.
	SysID, CompID uint8
	Log           *slog.Logger
}

// bridgeSource names the MQTT bridge as a source of frames to the vehicle.
const bridgeSource = "mqtt"

// inboundOptionsFromConfig gives every ground-station endpoint and the
// bridge its allow lists.
func inboundOptionsFromConfig(cfg *config.Config, log *slog.Logger) inboundOptions {
	o := inboundOptions{Policies: map[string]*inboundPolicy{}, SysID: uint8(cfg.Vehicle.SystemID), CompID: uint8(cfg.Vehicle.ComponentID), Log: log}
	for _, f := range cfg.Vehicle.Forward {
		o.Policies[forwardSource(f)] = newInboundPolicy(f.Inbound)
	}
	o.Policies[bridgeSource] = newInboundPolicy(cfg.MQTT.MAVLinkBridgeInbound)
	return o
}

// inboundGuard is the one gate between outside sources and the vehicle.
// Its send is safe for concurrent use (the forward's readers, the bridge).
type inboundGuard struct {
	opts    inboundOptions
	log     *slog.Logger
	write   func(raw []byte) error     // the vehicle link
	vehicle func() dock.VehicleState   // the vehicle as of now
	seq     atomic.Uint32              // replies' sequence numbers
	dock    atomic.Pointer[interlocks] // nil until the controller exists
	refused atomic.Pointer[func(source, reason string)]

	mu     sync.Mutex
	logged map[string]map[string]bool // per source: refusal kinds logged
}

// maxLoggedKinds bounds the kinds of refusal remembered per source.
const maxLoggedKinds = 64

func newInboundGuard(o inboundOptions, write func([]byte) error, vehicle func() dock.VehicleState) *inboundGuard {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &inboundGuard{opts: o, log: o.Log, write: write, vehicle: vehicle, logged: map[string]map[string]bool{}}
}

// setInterlocks gives the guard the dock's interlocks (the controller is
// made after the forward and the bridge); until then every frame that
// needs them is refused.
func (g *inboundGuard) setInterlocks(d interlocks) { g.dock.Store(&d) }

// onRefused sets the metrics' counter of refused frames.
func (g *inboundGuard) onRefused(f func(source, reason string)) { g.refused.Store(&f) }

// send passes raw, one frame from source, to the vehicle if the policy lets
// it. A refused frame returns an error wrapping router.ErrRefused and,
// where the protocol answers, reply: a frame for the sender alone. raw is
// not kept.
func (g *inboundGuard) send(source string, raw []byte) (reply []byte, err error) {
	var f mavlink.Frame
	n, perr := mavlink.NewParser(mavlink.ParserOptions{}).Next(raw, true, &f)
	if perr != nil || n != len(raw) || len(f.Raw) != len(raw) {
		g.refuse(source, refusedMalformed, "", "not exactly one valid MAVLink frame")
		return nil, fmt.Errorf("%s: %d bytes: %w", source, len(raw), errRefused)
	}
	pol := g.opts.Policies[source]
	if pol == nil {
		pol = newInboundPolicy(config.Inbound{})
	}
	var gate interlocks
	if p := g.dock.Load(); p != nil {
		gate = *p
	}
	j := judge(pol, &f, gate, g.vehicle())
	if j.reason != "" {
		what := j.frame.name
		if j.frame.hasCmd {
			what += " " + j.frame.cmd.String()
		}
		g.refuse(source, j.reason, what, j.detail)
		reply = deniedReply(&f, j.frame, uint8(g.seq.Add(1)), g.opts.SysID, g.opts.CompID)
		return reply, fmt.Errorf("%s: %s: %w", source, what, errRefused)
	}
	return nil, g.write(raw)
}

// refuse counts a refusal and logs the first of its kind (reason, frame,
// why) from source: a ground station repeating a command is counted, not
// logged per frame; a new reason (another switch open) is logged again.
func (g *inboundGuard) refuse(source, reason, what, detail string) {
	g.count(source, reason, reason+" "+what+": "+detail, what, detail)
}

// bridgeRefused counts a payload the MQTT bridge refused itself (an
// unsigned or stale envelope while signing is on); one log line per
// reason, whatever the detail (a stale ts differs every time).
func (g *inboundGuard) bridgeRefused(reason, detail string) {
	g.count(bridgeSource, reason, reason, "envelope", detail)
}

func (g *inboundGuard) count(source, reason, kind, what, detail string) {
	if f := g.refused.Load(); f != nil {
		(*f)(source, reason)
	}
	g.mu.Lock()
	seen := g.logged[source]
	if seen == nil {
		seen = map[string]bool{}
		g.logged[source] = seen
	}
	first := !seen[kind] && len(seen) < maxLoggedKinds
	if first {
		seen[kind] = true
	}
	g.mu.Unlock()
	if first {
		g.log.Warn("frame to the vehicle refused; further ones of this kind from this source are only counted",
			"source", source, "reason", reason, "frame", what, "why", detail)
	}
}
