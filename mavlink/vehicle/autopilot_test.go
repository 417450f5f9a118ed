package vehicle_test

import (
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"testing"

	"github.com/dockagent/dock-agent/mavlink"
)

// fakeAutopilot is a small scripted autopilot: it answers the client's
// frames with real codec frames over a byte stream (a pty master or a UDP
// socket). It sends its heartbeat (and telemetry, once streams were asked
// for) in reply to each ground-station heartbeat, so it needs no timer.
type fakeAutopilot struct {
	t    *testing.T
	rw   io.ReadWriter
	kind mavlink.MAVAutopilot

	mu         sync.Mutex
	seq        uint8
	skipSeq    int // leave this many sequence numbers out after each frame
	armed      bool
	customMode uint32
	home       [3]float64
	streaming  bool

	dropAcks     map[mavlink.MAVCmd]int // drop the first n ACKs of a command
	refuse       map[mavlink.MAVCmd]mavlink.MAVResult
	inProgress   map[mavlink.MAVCmd]int // answer IN_PROGRESS, then ACCEPTED after n GCS heartbeats
	pending      []pendingAck
	noIntervals  bool // SET_MESSAGE_INTERVAL answered UNSUPPORTED
	dropRequests int  // mission requests not sent (lost on the radio)

	commands    []mavlink.CommandLong
	commandInts []mavlink.CommandInt
	intervals   map[uint32]float32
	dataStreams map[uint8]uint16
	positions   []mavlink.SetPositionTargetGlobalInt
	params      map[string]float32

	missionWant int
	missionNext int
	mission     []mavlink.MissionItemInt
	upload      []mavlink.MissionItemInt
	itemsSeen   int

	changed chan struct{}
}

type pendingAck struct {
	cmd   mavlink.MAVCmd
	after int
}

func newFakeAutopilot(t *testing.T, rw io.ReadWriter, kind mavlink.MAVAutopilot) *fakeAutopilot {
	return &fakeAutopilot{
		t: t, rw: rw, kind: kind,
		home:        [3]float64{52.52, 13.405, 34},
		dropAcks:    map[mavlink.MAVCmd]int{},
		refuse:      map[mavlink.MAVCmd]mavlink.MAVResult{},
		inProgress:  map[mavlink.MAVCmd]int{},
		intervals:   map[uint32]float32{},
		dataStreams: map[uint8]uint16{},
		params:      map[string]float32{"RTL_ALT": 1500, "WPNAV_SPEED": 500},
		changed:     make(chan struct{}, 1),
	}
}

// run reads and answers frames until the stream fails.
func (a *fakeAutopilot) run() {
	r := mavlink.NewReader(a.rw, nil)
	var f mavlink.Frame
	for {
		err := r.ReadFrame(&f)
		if err != nil {
			if _, ok := errors.AsType[*mavlink.FrameError](err); ok {
				continue
			}
			return
		}
		a.mu.Lock()
		a.handle(&f)
		a.mu.Unlock()
		select {
		case a.changed <- struct{}{}:
		default:
		}
	}
}

// with runs fn under the lock (for test assertions).
func (a *fakeAutopilot) with(fn func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fn()
}

func (a *fakeAutopilot) send(m mavlink.Message) {
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Seq: a.seq, SysID: 1, CompID: 1}, m, nil)
	if err != nil {
		a.t.Errorf("fake autopilot encode: %v", err)
		return
	}
	a.seq += 1 + uint8(a.skipSeq)
	a.rw.Write(b) // a lost write is a lost frame, as on a radio
}

func (a *fakeAutopilot) ack(cmd mavlink.MAVCmd, r mavlink.MAVResult) {
	a.send(&mavlink.CommandAck{Command: cmd, Result: r, TargetSystem: 255, TargetComponent: 190})
}

func (a *fakeAutopilot) heartbeat() {
	base := mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
	if a.armed {
		base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
	}
	a.send(&mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: a.kind, BaseMode: base,
		CustomMode: a.customMode, SystemStatus: mavlink.MAV_STATE_STANDBY, MavlinkVersion: 3})
	if !a.streaming {
		return
	}
	a.send(&mavlink.GlobalPositionInt{TimeBootMS: 1000, Lat: 525200000, Lon: 134050000, Alt: 54000, RelativeAlt: 20000, Vx: 300, Hdg: 9000})
	a.send(&mavlink.SysStatus{OnboardControlSensorsPresent: 1 << 28, OnboardControlSensorsHealth: 1 << 28, VoltageBattery: 16100, CurrentBattery: 1250, BatteryRemaining: 87})
	a.send(&mavlink.GPSRawInt{FixType: mavlink.GPS_FIX_TYPE_3D_FIX, SatellitesVisible: 14, Eph: 80})
	a.send(&mavlink.ExtendedSysState{LandedState: mavlink.MAV_LANDED_STATE_IN_AIR})
	a.send(&mavlink.EKFStatusReport{Flags: 1 | 2 | 4 | 8 | 16 | 32 | 512}) // 512: predicted position, needed to arm
	a.send(&mavlink.VFRHUD{Groundspeed: 3, Climb: 0.5})
	a.send(&mavlink.Attitude{TimeBootMS: 1000, Roll: 0.1, Yaw: -math.Pi / 2})
	a.send(&mavlink.MissionCurrent{Seq: 2, Total: 5})
	var st mavlink.Statustext
	copy(st.Text[:], "PreArm: ready")
	st.Severity = mavlink.MAV_SEVERITY_INFO
	a.send(&st)
}

func (a *fakeAutopilot) homePosition() {
	a.send(&mavlink.HomePosition{Latitude: int32(a.home[0] * 1e7), Longitude: int32(a.home[1] * 1e7), Altitude: int32(a.home[2] * 1000)})
}

func (a *fakeAutopilot) handle(f *mavlink.Frame) {
	switch m := mavlink.NewMessage(f.MsgID).(type) {
	case *mavlink.Heartbeat:
		a.heartbeat()
		for i := 0; i < len(a.pending); i++ {
			a.pending[i].after--
			if a.pending[i].after <= 0 {
				a.ack(a.pending[i].cmd, mavlink.MAV_RESULT_ACCEPTED)
				a.pending = append(a.pending[:i], a.pending[i+1:]...)
				i--
			}
		}
	case *mavlink.CommandLong:
		m.DecodePayload(f.Payload)
		a.commands = append(a.commands, *m)
		a.command(m.Command, m.Param1, m.Param2, m.Param3, m.Param7)
	case *mavlink.CommandInt:
		m.DecodePayload(f.Payload)
		a.commandInts = append(a.commandInts, *m)
		if m.Command == mavlink.MAV_CMD_DO_SET_HOME {
			a.home = [3]float64{float64(m.X) / 1e7, float64(m.Y) / 1e7, float64(m.Z)}
		}
		a.command(m.Command, m.Param1, m.Param2, m.Param3, m.Z)
	case *mavlink.RequestDataStream:
		m.DecodePayload(f.Payload)
		a.dataStreams[m.ReqStreamID] = m.ReqMessageRate
		a.streaming = true
	case *mavlink.SetPositionTargetGlobalInt:
		m.DecodePayload(f.Payload)
		a.positions = append(a.positions, *m)
	case *mavlink.ParamRequestRead:
		m.DecodePayload(f.Payload)
		a.paramValue(cstr(m.ParamID[:]))
	case *mavlink.ParamSet:
		m.DecodePayload(f.Payload)
		name := cstr(m.ParamID[:])
		if _, ok := a.params[name]; ok {
			a.params[name] = m.ParamValue
		}
		a.paramValue(name)
	case *mavlink.MissionCount:
		m.DecodePayload(f.Payload)
		a.missionWant, a.missionNext = int(m.Count), 0
		a.upload = a.upload[:0]
		a.request()
	case *mavlink.MissionItemInt:
		m.DecodePayload(f.Payload)
		a.itemsSeen++
		if int(m.Seq) != a.missionNext {
			a.request() // a resent item: ask again for the one we want
			return
		}
		a.upload = append(a.upload, *m)
		a.missionNext++
		if a.missionNext == a.missionWant {
			a.mission = append([]mavlink.MissionItemInt(nil), a.upload...)
			a.send(&mavlink.MissionAck{TargetSystem: 255, TargetComponent: 190, Type: mavlink.MAV_MISSION_ACCEPTED})
			return
		}
		a.request()
	case *mavlink.MissionRequestList:
		a.send(&mavlink.MissionCount{TargetSystem: 255, TargetComponent: 190, Count: uint16(len(a.mission))})
	case *mavlink.MissionRequestInt:
		m.DecodePayload(f.Payload)
		if int(m.Seq) < len(a.mission) {
			it := a.mission[m.Seq]
			it.TargetSystem, it.TargetComponent = 255, 190
			a.send(&it)
		}
	case *mavlink.MissionClearAll:
		a.mission = nil
		a.send(&mavlink.MissionAck{TargetSystem: 255, TargetComponent: 190, Type: mavlink.MAV_MISSION_ACCEPTED})
	}
}

// request asks for the next mission item, unless the request is to be lost.
func (a *fakeAutopilot) request() {
	if a.dropRequests > 0 {
		a.dropRequests--
		return
	}
	a.send(&mavlink.MissionRequestInt{TargetSystem: 255, TargetComponent: 190, Seq: uint16(a.missionNext)})
}

func (a *fakeAutopilot) paramValue(name string) {
	v, ok := a.params[name]
	if !ok {
		return // unknown parameters are not answered
	}
	var pv mavlink.ParamValue
	copy(pv.ParamID[:], name)
	pv.ParamValue, pv.ParamType, pv.ParamCount = v, 9, uint16(len(a.params))
	a.send(&pv)
}

func (a *fakeAutopilot) command(cmd mavlink.MAVCmd, p1, p2, p3, p7 float32) {
	if a.dropAcks[cmd] > 0 {
		a.dropAcks[cmd]--
		return
	}
	if r, ok := a.refuse[cmd]; ok {
		a.ack(cmd, r)
		return
	}
	if n, ok := a.inProgress[cmd]; ok {
		delete(a.inProgress, cmd)
		a.send(&mavlink.CommandAck{Command: cmd, Result: mavlink.MAV_RESULT_IN_PROGRESS, Progress: 10, TargetSystem: 255})
		a.pending = append(a.pending, pendingAck{cmd: cmd, after: n})
		return
	}
	switch cmd {
	case mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
		if a.noIntervals {
			a.ack(cmd, mavlink.MAV_RESULT_UNSUPPORTED)
			return
		}
		a.intervals[uint32(p1)] = p2
		a.streaming = true
	case mavlink.MAV_CMD_REQUEST_MESSAGE:
		a.ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
		if p1 == 242 {
			a.homePosition()
		}
		return
	case mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
		a.armed = p1 == 1
	case mavlink.MAV_CMD_DO_SET_MODE:
		if a.kind == mavlink.MAV_AUTOPILOT_PX4 {
			a.customMode = uint32(p2)<<16 | uint32(p3)<<24
		} else {
			a.customMode = uint32(p2)
		}
	case mavlink.MAV_CMD_NAV_TAKEOFF:
		if !a.armed {
			a.ack(cmd, mavlink.MAV_RESULT_FAILED)
			return
		}
	case mavlink.MAV_CMD_DO_SET_HOME:
		a.ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
		a.homePosition()
		return
	}
	a.ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// udpPeer is a UDP socket as an io.ReadWriter for the fake autopilot: it
// answers whoever wrote last.
type udpPeer struct {
	c    *net.UDPConn
	mu   sync.Mutex
	peer *net.UDPAddr
}

func (u *udpPeer) Read(b []byte) (int, error) {
	n, from, err := u.c.ReadFromUDP(b)
	if err == nil {
		u.mu.Lock()
		u.peer = from
		u.mu.Unlock()
	}
	return n, err
}

func (u *udpPeer) Write(b []byte) (int, error) {
	u.mu.Lock()
	p := u.peer
	u.mu.Unlock()
	if p == nil {
		return len(b), nil
	}
	return u.c.WriteToUDP(b, p)
}
