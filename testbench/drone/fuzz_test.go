package drone

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// fuzzSeeds are agent conversations: commands, streams, parameters, a
// mission upload, with the odd hostile number.
func fuzzSeeds(t testing.TB) [][]byte {
	enc := func(ms ...mavlink.Message) []byte {
		var b []byte
		for i, m := range ms {
			var err error
			b, err = mavlink.AppendMessage(b, mavlink.Header{Seq: uint8(i), SysID: 255, CompID: 190}, m, nil)
			if err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	home := Position{Lat: 24.3504, Lon: 102.5420}
	items := patrol(home)
	upload := []mavlink.Message{&mavlink.MissionCount{TargetSystem: 1, TargetComponent: 1, Count: uint16(len(items))}}
	for i := range items {
		upload = append(upload, &items[i])
	}
	upload = append(upload,
		&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_DO_SET_MODE, Param1: 1, Param2: float32(ModeGuided)},
		&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1},
		&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_MISSION_START})
	ps := &mavlink.ParamSet{TargetSystem: 1, TargetComponent: 1, ParamValue: float32(math.NaN())}
	copy(ps.ParamID[:], "WPNAV_SPEED")
	return [][]byte{
		enc(upload...),
		enc(&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1, Param2: forceMagic},
			&mavlink.SetMode{TargetSystem: 1, BaseMode: 1, CustomMode: uint32(ModeGuided)},
			&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_NAV_TAKEOFF, Param7: float32(math.Inf(1))},
			&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_NAV_TAKEOFF, Param7: 10},
			&mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_DO_REPOSITION, Frame: mavlink.MAV_FRAME_GLOBAL_INT, X: 900000000, Y: -1, Z: float32(math.NaN())},
			&mavlink.SetPositionTargetGlobalInt{TargetSystem: 1, CoordinateFrame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, LatInt: e7(24.36), LonInt: e7(102.55), Alt: 1e30}),
		enc(&mavlink.RequestDataStream{TargetSystem: 1, ReqStreamID: 0, ReqMessageRate: 65535, StartStop: 1},
			&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, Param1: 33, Param2: float32(math.NaN())},
			&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, Param1: 30, Param2: 1},
			ps,
			&mavlink.MissionRequestList{TargetSystem: 1},
			&mavlink.MissionRequestInt{TargetSystem: 1, Seq: 9},
			&mavlink.MissionClearAll{TargetSystem: 1}),
		{0xFD, 0x09, 0x00, 0x00, 0x00, 0xFF, 0xBE, 0x4C, 0x00, 0x00},
	}
}

// FuzzHandleFrames feeds arbitrary bytes from an agent to the simulator and
// flies a minute: no panic, and the vehicle stays a finite point on or
// above the ground.
func FuzzHandleFrames(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := clockwork.NewFakeClockAt(epoch)
		s, err := New(Options{}, clk)
		if err != nil {
			t.Fatal(err)
		}
		l := newLink(epoch)
		s.links[l] = struct{}{}
		if err := s.readLoop(context.Background(), l, bytes.NewReader(data)); !errors.Is(err, io.EOF) {
			t.Fatalf("readLoop = %v, want io.EOF at the end of the input", err)
		}
		for range 60 {
			clk.Advance(time.Second)
			s.mu.Lock()
			s.advance(clk.Now())
			s.mu.Unlock()
		}
		st := s.State()
		for _, x := range []float64{st.Lat, st.Lon, st.AltM, st.GroundSpeedMPS, st.BatteryPct} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("state not finite after the input: %+v", st)
			}
		}
		if st.AltM < 1650 {
			t.Fatalf("below ground: %.1f m", st.AltM)
		}
	})
}
