package campaign

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/world"
	"go.uber.org/goleak"
)

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func frame(t *testing.T, sys uint8, seq uint8, m mavlink.Message) []byte {
	t.Helper()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Version: 2, Seq: seq, SysID: sys, CompID: 1}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// badStreams are the kinds of bad MAVLink input, each a list of writes.
// The spoofed autopilot (system 42) claims to be armed, flying far away on
// an empty battery: none of it may reach the agent's vehicle state.
func badStreams(t *testing.T, rng *rand.Rand) map[string][][]byte {
	spoof := func(seq uint8) [][]byte {
		return [][]byte{
			frame(t, 42, seq, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
				BaseMode: mavlink.MAV_MODE_FLAG_SAFETY_ARMED | 1, CustomMode: 6, SystemStatus: 4, MavlinkVersion: 3}),
			frame(t, 42, seq+1, &mavlink.GlobalPositionInt{Lat: 481000000, Lon: 116000000, Alt: 900000, RelativeAlt: 400000}),
			frame(t, 42, seq+2, &mavlink.SysStatus{BatteryRemaining: 3, VoltageBattery: 13000}),
		}
	}
	hb := frame(t, 1, 200, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
		BaseMode: mavlink.MAV_MODE_FLAG_SAFETY_ARMED | 1, SystemStatus: 4, MavlinkVersion: 3})
	s := map[string][][]byte{}
	for i := range 40 {
		noise := make([]byte, 64+rng.IntN(200))
		for j := range noise {
			noise[j] = byte(rng.UintN(256))
		}
		s["noise"] = append(s["noise"], noise)
		// Truncated: a real-looking frame cut short (an armed heartbeat
		// of the real system id that must not count).
		s["truncated"] = append(s["truncated"], hb[:1+rng.IntN(len(hb)-1)])
		// Wrong CRC: complete frames claiming armed, checksum damaged.
		bad := append([]byte(nil), hb...)
		bad[len(bad)-1-rng.IntN(2)] ^= byte(1 + rng.IntN(255))
		s["wrong_crc"] = append(s["wrong_crc"], bad)
		s["spoofed_sysid"] = append(s["spoofed_sysid"], spoof(uint8(3*i))...)
	}
	return s
}

// TestMAVLinkBadInput writes noise, truncated frames, frames with a wrong
// CRC and a second "autopilot" (system 42) on the vehicle line next to the
// simulated drone. The agent keeps its vehicle state from the real drone
// only, counts the damaged frames, keeps running (same pid) and no
// invariant breaks.
func TestMAVLinkBadInput(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	maddr := freeAddr(t)
	w, err := world.Start(ctx, world.Options{Speed: 5, BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: t.TempDir(),
		Edit: func(c *config.Config) { c.Metrics.Listen = maddr }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	obs, err := w.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	linked := func() bool {
		st := obs.State()
		return st != nil && world.Lookup(st, "vehicle.link") == true && world.Lookup(st, "vehicle.battery_pct") != nil
	}
	if err := obs.Wait(ctx, linked); err != nil {
		t.Fatalf("vehicle never linked: %v", err)
	}
	pid := w.Agent.PID()
	crc0, err := scrape(ctx, maddr, "dock_agent_mavlink_bad_crc_total")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	streams := badStreams(t, rng)
	tried := 0
	for _, kind := range []string{"noise", "truncated", "wrong_crc", "spoofed_sysid"} {
		for _, b := range streams[kind] {
			if err := w.InjectVehicle(b); err != nil {
				t.Fatal(err)
			}
			tried++
		}
		// Let the agent read and judge this kind before the next; the
		// world's clock paces the drone's frames in between.
		tm := w.Clock().NewTimer(2 * time.Second)
		select {
		case <-tm.Chan():
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	// Hold the spoofer's claims up for a while longer: a state fed by it
	// would show within a few telemetry periods.
	deadline := w.Clock().Now().Add(10 * time.Second)
	for w.Clock().Now().Before(deadline) {
		for _, b := range streams["spoofed_sysid"][:3] {
			if err := w.InjectVehicle(b); err != nil {
				t.Fatal(err)
			}
		}
		tm := w.Clock().NewTimer(500 * time.Millisecond)
		select {
		case <-tm.Chan():
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		st := obs.State()
		if world.Lookup(st, "vehicle.armed") != false {
			t.Fatalf("state vehicle.armed = %v while only the spoofer (system 42) claims armed", world.Lookup(st, "vehicle.armed"))
		}
		if b, _ := world.Lookup(st, "vehicle.battery_pct").(float64); b < 50 {
			t.Fatalf("state vehicle.battery_pct = %v: taken from the spoofer's 3 %%", b)
		}
	}
	for _, m := range obs.Messages("telemetry") {
		var tm struct {
			Lat, Lon float64
			Armed    bool
		}
		if json.Unmarshal(m.Payload, &tm) == nil && (tm.Lat > 40 || tm.Armed) {
			t.Fatalf("telemetry from the spoofer reached MQTT: %s", m.Payload)
		}
	}
	crc1, err := scrape(ctx, maddr, "dock_agent_mavlink_bad_crc_total")
	if err != nil {
		t.Fatalf("agent gone after bad MAVLink input: %v", err)
	}
	if got, want := crc1-crc0, float64(len(streams["wrong_crc"])); got < want {
		t.Errorf("bad CRC counter rose by %v after %v damaged frames", got, want)
	}
	if !linked() {
		t.Errorf("vehicle link lost after bad input: %v", obs.State()["vehicle"])
	}
	if w.Agent.PID() != pid {
		t.Errorf("agent pid %d -> %d: it crashed", pid, w.Agent.PID())
	}
	if v := w.Witness().Violations(); len(v) > 0 {
		t.Errorf("invariants violated: %v", v)
	}
	t.Logf("%d bad writes (%d noise, %d truncated, %d wrong CRC, %d spoofed frames); bad CRC counter +%v",
		tried, len(streams["noise"]), len(streams["truncated"]), len(streams["wrong_crc"]), len(streams["spoofed_sysid"]), crc1-crc0)
}

// TestMAVLinkUnsignedRefused runs the agent with vehicle.signing required
// against the simulated drone, which does not sign: every frame it sends is
// refused, so the vehicle never counts as linked, a dispatch is refused by
// its heartbeat gate, and the agent keeps running.
func TestMAVLinkUnsignedRefused(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	key := filepath.Join(dir, "mavlink.key")
	if err := os.WriteFile(key, []byte(hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := world.Start(ctx, world.Options{Speed: 5, BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: dir,
		Edit: func(c *config.Config) { c.Vehicle.Signing = &config.Signing{KeyFile: key, Require: true} }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Config.Vehicle.Signing == nil || len(w.Config.Vehicle.Signing.Key()) != 32 {
		t.Fatalf("signing key not loaded from %s", key)
	}
	obs, err := w.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	pid := w.Agent.PID()
	// 30 s of simulated time: the drone sends heartbeats at 1 Hz.
	until := w.Clock().Now().Add(30 * time.Second)
	err = obs.Wait(ctx, func() bool {
		return world.Lookup(obs.State(), "vehicle.link") == true || w.Clock().Now().After(until)
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := obs.State(); world.Lookup(st, "vehicle.link") != false {
		t.Fatalf("vehicle.link = %v with unsigned frames and signing required", world.Lookup(st, "vehicle.link"))
	}
	rep, err := obs.Send(ctx, "dispatch", map[string]any{"lat": 24.3560, "lon": 102.5480})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Error == nil || rep.Error.Code != "precondition_failed" {
		t.Fatalf("dispatch with no signed vehicle: %+v, want precondition_failed", rep)
	}
	if !strings.Contains(string(rep.Error.Details)+rep.Error.Message, "heartbeat") {
		t.Errorf("dispatch refused without naming the heartbeat gate: %s %s", rep.Error.Message, rep.Error.Details)
	}
	if w.Agent.PID() != pid {
		t.Errorf("agent pid %d -> %d: it crashed", pid, w.Agent.PID())
	}
	if v := w.Witness().Violations(); len(v) > 0 {
		t.Errorf("invariants violated: %v", v)
	}
}
