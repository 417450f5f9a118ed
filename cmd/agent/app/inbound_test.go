package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/router"
)

// gcsFrame encodes m as a ground station (system 255, component 190) sends it.
func gcsFrame(t testing.TB, m mavlink.Message) []byte {
	t.Helper()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: 255, CompID: 190}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gcsPayloadFrame encodes a message without a Go type from its payload.
func gcsPayloadFrame(t testing.TB, id uint32, payload []byte) []byte {
	t.Helper()
	b, err := mavlink.AppendPayload(nil, mavlink.Header{SysID: 255, CompID: 190}, id, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, raw []byte) *mavlink.Frame {
	t.Helper()
	var f mavlink.Frame
	if _, err := mavlink.NewParser(mavlink.ParserOptions{}).Next(raw, true, &f); err != nil {
		t.Fatalf("parse % x: %v", raw, err)
	}
	return &f
}

// fakeDock answers ArmPermitted like the controller: nil only with the lid
// open and the arms released.
type fakeDock struct{ open bool }

func (d fakeDock) ArmPermitted() error {
	if d.open {
		return nil
	}
	return &dock.InvariantError{Invariant: 2, Action: "arm vehicle", Reason: "lid open limit switch not closed"}
}

var (
	onPad    = dock.VehicleState{Link: true, Landed: dock.LandedOnGround}
	inFlight = dock.VehicleState{Link: true, Armed: true, Landed: dock.LandedInAir, RelAltM: 40}
	// allowAll is a maintenance laptop allowed to fly.
	allowAll = config.Inbound{
		AllowMsgIDs:   []int{msgSetMode, msgMissionCount, msgMissionItemInt, msgSetPositionTargetGlobal, msgRCChannelsOverride, 23},
		AllowCommands: []int{400, 300, 176, 22, 192, 183},
	}
)

// TestJudge: each message or command x dock state x allow list gives pass
// or the named refusal. Columns: the read-only default with the dock
// closed and open; the allow-all laptop with the dock closed, open, and
// with the vehicle in the air over a closed dock.
func TestJudge(t *testing.T) {
	const (
		pass = ""
		deny = refusedNotAllowed
		lock = refusedInterlock
	)
	rcOverride := make([]byte, 18)
	tests := []struct {
		name string
		raw  []byte
		// default closed, default open, allowed closed, allowed open, allowed airborne
		want [5]string
	}{
		{"HEARTBEAT", gcsFrame(t, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GCS}), [5]string{pass, pass, pass, pass, pass}},
		{"PARAM_REQUEST_LIST", gcsPayloadFrame(t, msgParamRequestList, []byte{1, 1}), [5]string{pass, pass, pass, pass, pass}},
		{"PARAM_REQUEST_READ", gcsFrame(t, &mavlink.ParamRequestRead{TargetSystem: 1, ParamIndex: -1}), [5]string{pass, pass, pass, pass, pass}},
		{"REQUEST_DATA_STREAM", gcsFrame(t, &mavlink.RequestDataStream{TargetSystem: 1, ReqMessageRate: 4, StartStop: 1}), [5]string{pass, pass, pass, pass, pass}},
		{"MISSION_REQUEST_LIST", gcsFrame(t, &mavlink.MissionRequestList{TargetSystem: 1}), [5]string{pass, pass, pass, pass, pass}},
		{"COMMAND_LONG SET_MESSAGE_INTERVAL", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, Param1: 33, Param2: 200000}), [5]string{pass, pass, pass, pass, pass}},
		{"COMMAND_INT REQUEST_MESSAGE", gcsFrame(t, &mavlink.CommandInt{TargetSystem: 1, Command: mavlink.MAV_CMD_REQUEST_MESSAGE, Param1: 242}), [5]string{pass, pass, pass, pass, pass}},
		{"COMMAND_LONG ARM", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}), [5]string{deny, deny, lock, pass, lock}},
		{"COMMAND_LONG force ARM", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1, Param2: 21196}), [5]string{deny, deny, lock, pass, lock}},
		{"COMMAND_INT ARM", gcsFrame(t, &mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}), [5]string{deny, deny, lock, pass, lock}},
		{"COMMAND_LONG DISARM", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM}), [5]string{deny, deny, pass, pass, pass}},
		{"COMMAND_LONG MISSION_START", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_MISSION_START}), [5]string{deny, deny, lock, pass, pass}},
		{"COMMAND_LONG NAV_TAKEOFF", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_NAV_TAKEOFF, Param7: 20}), [5]string{deny, deny, lock, pass, pass}},
		{"COMMAND_LONG NAV_LAND not allowed", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_NAV_LAND}), [5]string{deny, deny, deny, deny, deny}},
		{"COMMAND_LONG DO_SET_MODE", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_DO_SET_MODE, Param1: 1, Param2: 4}), [5]string{deny, deny, lock, pass, pass}},
		{"COMMAND_LONG DO_SET_MODE armed flag", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_DO_SET_MODE, Param1: 129, Param2: 4}), [5]string{deny, deny, lock, pass, lock}},
		{"COMMAND_INT DO_REPOSITION", gcsFrame(t, &mavlink.CommandInt{TargetSystem: 1, Command: mavlink.MAV_CMD_DO_REPOSITION, X: 243504000, Y: 1025420000, Z: 50}), [5]string{deny, deny, lock, pass, pass}},
		{"COMMAND_LONG DO_SET_SERVO", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_DO_SET_SERVO, Param1: 9, Param2: 1900}), [5]string{deny, deny, pass, pass, pass}},
		{"COMMAND_LONG DO_FLIGHTTERMINATION", gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_DO_FLIGHTTERMINATION, Param1: 1}), [5]string{deny, deny, deny, deny, deny}},
		{"SET_MODE", gcsFrame(t, &mavlink.SetMode{TargetSystem: 1, BaseMode: 1, CustomMode: 4}), [5]string{deny, deny, lock, pass, pass}},
		{"SET_MODE armed flag", gcsFrame(t, &mavlink.SetMode{TargetSystem: 1, BaseMode: 129, CustomMode: 4}), [5]string{deny, deny, lock, pass, lock}},
		{"MISSION_COUNT", gcsFrame(t, &mavlink.MissionCount{TargetSystem: 1, Count: 3}), [5]string{deny, deny, lock, pass, pass}},
		{"MISSION_ITEM_INT", gcsFrame(t, &mavlink.MissionItemInt{TargetSystem: 1, Seq: 1, Command: mavlink.MAV_CMD_NAV_WAYPOINT}), [5]string{deny, deny, lock, pass, pass}},
		{"MISSION_ITEM not allowed", gcsFrame(t, &mavlink.MissionItem{TargetSystem: 1, Seq: 1}), [5]string{deny, deny, deny, deny, deny}},
		{"MISSION_SET_CURRENT not allowed", gcsFrame(t, &mavlink.MissionSetCurrent{TargetSystem: 1, Seq: 2}), [5]string{deny, deny, deny, deny, deny}},
		{"SET_POSITION_TARGET_GLOBAL_INT", gcsFrame(t, &mavlink.SetPositionTargetGlobalInt{TargetSystem: 1, LatInt: 243504000}), [5]string{deny, deny, lock, pass, pass}},
		{"RC_CHANNELS_OVERRIDE", gcsPayloadFrame(t, msgRCChannelsOverride, rcOverride), [5]string{deny, deny, lock, pass, pass}},
		{"PARAM_SET", gcsFrame(t, &mavlink.ParamSet{TargetSystem: 1, ParamValue: 0}), [5]string{deny, deny, pass, pass, pass}},
		{"unknown message", []byte{0xFD, 3, 0, 0, 9, 255, 190, 0x60, 0xEA, 0x00, 1, 2, 3, 0xAA, 0xBB}, [5]string{deny, deny, deny, deny, deny}},
	}
	def, all := newInboundPolicy(config.Inbound{}), newInboundPolicy(allowAll)
	cols := []struct {
		name string
		pol  *inboundPolicy
		dock interlocks
		veh  dock.VehicleState
	}{
		{"default, dock closed", def, fakeDock{}, onPad},
		{"default, dock open", def, fakeDock{open: true}, onPad},
		{"allowed, dock closed", all, fakeDock{}, onPad},
		{"allowed, dock open", all, fakeDock{open: true}, onPad},
		{"allowed, airborne over a closed dock", all, fakeDock{}, inFlight},
	}
	for _, tc := range tests {
		for i, col := range cols {
			t.Run(tc.name+"/"+col.name, func(t *testing.T) {
				j := judge(col.pol, parse(t, tc.raw), col.dock, col.veh)
				if j.reason != tc.want[i] {
					t.Errorf("judge(%s) with %s = %q (%s), want %q", tc.name, col.name, j.reason, j.detail, tc.want[i])
				}
			})
		}
	}
}

// TestJudgeWithoutController: before the dock controller exists, nothing
// that needs the interlocks passes.
func TestJudgeWithoutController(t *testing.T) {
	arm := gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1})
	if j := judge(newInboundPolicy(allowAll), parse(t, arm), nil, onPad); j.reason != refusedInterlock {
		t.Errorf("judge(ARM) with no controller = %q, want %q", j.reason, refusedInterlock)
	}
}

// recordingHandler keeps the messages logged at warn and above.
type recordingHandler struct {
	slog.Handler
	mu   sync.Mutex
	msgs []string
}

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
		h.msgs = append(h.msgs, b.String())
	}
	return nil
}

// TestGuardSend: the guard writes what passes, keeps the rest from the
// vehicle with an error wrapping router.ErrRefused, answers refused
// commands with COMMAND_ACK MAV_RESULT_DENIED (mission uploads with
// MISSION_ACK MAV_MISSION_DENIED) in the name of their target, counts every
// refusal by source and reason, and logs each kind once per source.
func TestGuardSend(t *testing.T) {
	var written [][]byte
	h := &recordingHandler{Handler: slog.NewTextHandler(io.Discard, nil)}
	pols := map[string]*inboundPolicy{"gcs:laptop": newInboundPolicy(config.Inbound{AllowCommands: []int{400}})}
	d := &fakeDock{}
	g := newInboundGuard(inboundOptions{Policies: pols, SysID: 245, CompID: 191, Log: slog.New(h)},
		func(raw []byte) error { written = append(written, bytes.Clone(raw)); return nil },
		func() dock.VehicleState { return onPad })
	type key struct{ source, reason string }
	counts := map[key]int{}
	g.onRefused(func(source, reason string) { counts[key{source, reason}]++ })

	arm := gcsFrame(t, &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1, Param2: 21196})
	// Before the controller is set: refused.
	if _, err := g.send("gcs:laptop", arm); !errors.Is(err, router.ErrRefused) {
		t.Fatalf("send(ARM) before the controller = %v, want ErrRefused", err)
	}
	g.setInterlocks(d)
	for range 3 {
		reply, err := g.send("gcs:laptop", arm)
		if !errors.Is(err, router.ErrRefused) {
			t.Fatalf("send(ARM) with the dock closed = %v, want ErrRefused", err)
		}
		ackFrame := parse(t, reply)
		var ack mavlink.CommandAck
		if err := mavlink.DecodeMessage(ackFrame, &ack); err != nil {
			t.Fatalf("reply to a refused ARM is not a COMMAND_ACK: %v", err)
		}
		want := mavlink.CommandAck{Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Result: mavlink.MAV_RESULT_DENIED, TargetSystem: 255, TargetComponent: 190}
		if ack != want || ackFrame.SysID != 1 || ackFrame.CompID != 1 {
			t.Errorf("reply = %+v from %d/%d, want %+v from the target 1/1", ack, ackFrame.SysID, ackFrame.CompID, want)
		}
	}
	// The same from the bridge (default policy): not allowed at all.
	if _, err := g.send(bridgeSource, arm); !errors.Is(err, router.ErrRefused) {
		t.Fatalf("send(ARM) from the bridge = %v, want ErrRefused", err)
	}
	// SET_MODE: answered as ArduPilot does, with the message id as command.
	reply, err := g.send(bridgeSource, gcsFrame(t, &mavlink.SetMode{TargetSystem: 1, BaseMode: 1, CustomMode: 3}))
	var ack mavlink.CommandAck
	if !errors.Is(err, router.ErrRefused) || mavlink.DecodeMessage(parse(t, reply), &ack) != nil || ack.Command != msgSetMode || ack.Result != mavlink.MAV_RESULT_DENIED {
		t.Errorf("send(SET_MODE) = %v, reply %+v; want refused with COMMAND_ACK(11, DENIED)", err, ack)
	}
	// A mission upload: MISSION_ACK DENIED.
	reply, err = g.send(bridgeSource, gcsFrame(t, &mavlink.MissionCount{TargetSystem: 1, TargetComponent: 1, Count: 4}))
	var mack mavlink.MissionAck
	if !errors.Is(err, router.ErrRefused) || mavlink.DecodeMessage(parse(t, reply), &mack) != nil || mack.Type != mavlink.MAV_MISSION_DENIED || mack.TargetSystem != 255 {
		t.Errorf("send(MISSION_COUNT) = %v, reply %+v; want refused with MISSION_ACK DENIED to 255", err, mack)
	}
	// Not exactly one frame: an innocent heartbeat with an ARM behind it.
	hb := gcsFrame(t, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GCS})
	for _, bad := range [][]byte{append(bytes.Clone(hb), arm...), []byte("junk"), hb[:len(hb)-1]} {
		if reply, err := g.send(bridgeSource, bad); !errors.Is(err, router.ErrRefused) || reply != nil {
			t.Errorf("send(% x) = %v, reply %x; want refused without a reply", bad, err, reply)
		}
	}
	if len(written) != 0 {
		t.Fatalf("%d refused frames reached the vehicle", len(written))
	}
	// What passes is written untouched.
	if _, err := g.send(bridgeSource, hb); err != nil {
		t.Fatalf("send(HEARTBEAT) = %v, want nil", err)
	}
	d.open = true
	if _, err := g.send("gcs:laptop", arm); err != nil {
		t.Fatalf("send(ARM) from an allowed source with the dock open = %v, want nil", err)
	}
	if len(written) != 2 || !bytes.Equal(written[0], hb) || !bytes.Equal(written[1], arm) {
		t.Errorf("vehicle got %d frames, want the heartbeat and the ARM byte for byte", len(written))
	}

	wantCounts := map[key]int{
		{"gcs:laptop", refusedInterlock}:  4,
		{bridgeSource, refusedNotAllowed}: 3,
		{bridgeSource, refusedMalformed}:  3,
	}
	for k, n := range wantCounts {
		if counts[k] != n {
			t.Errorf("refusals %v = %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	// One log line per kind and source: ARM at the interlock before the
	// controller and then once for the lid (though refused three times),
	// and from the bridge ARM, SET_MODE, MISSION_COUNT and the malformed
	// payloads.
	if len(h.msgs) != 6 {
		t.Fatalf("logged %d warnings, want 6:\n%s", len(h.msgs), strings.Join(h.msgs, "\n"))
	}
	if !strings.Contains(h.msgs[1], "lid open limit switch not closed") {
		t.Errorf("first warning %q does not say which interlock refused", h.msgs[0])
	}
}

// FuzzGuard: any bytes from the bridge are refused or passed whole, never
// a panic; what passes is one frame byte for byte.
func FuzzGuard(f *testing.F) {
	f.Add(gcsFrame(f, &mavlink.CommandLong{TargetSystem: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}))
	f.Add(gcsFrame(f, &mavlink.SetMode{TargetSystem: 1, BaseMode: 129}))
	f.Add(gcsFrame(f, &mavlink.MissionCount{TargetSystem: 1, Count: 2}))
	f.Add(gcsFrame(f, &mavlink.Heartbeat{}))
	f.Add([]byte{0xFE, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []byte
		g := newInboundGuard(inboundOptions{Policies: map[string]*inboundPolicy{bridgeSource: newInboundPolicy(allowAll)}},
			func(raw []byte) error { got = raw; return nil }, func() dock.VehicleState { return onPad })
		g.setInterlocks(fakeDock{open: true})
		reply, err := g.send(bridgeSource, b)
		if err == nil && !bytes.Equal(got, b) {
			t.Fatalf("passed % x as % x", b, got)
		}
		if reply != nil {
			parse(t, reply)
		}
	})
}
