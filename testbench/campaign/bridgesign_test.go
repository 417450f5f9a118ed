package campaign

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/dockagent/dock-agent/testbench/world"
)

// TestBridgeSignedOnBench: with command signing on, the raw bridge's
// mavlink/in obeys the signature as commands do. With the dock open and
// the bridge allowed to arm, a bare ARM frame and a replayed signed one
// never arm the drone and are counted as unsigned; a freshly signed ARM
// arms it (issue 21).
func TestBridgeSignedOnBench(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "command.key")
	key := []byte("0123456789abcdef0123456789abcdef")
	// Written in hex: the agent signs with the bytes it spells (config.DecodeKey).
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	metricsAddr := freeAddr(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	w, obs := benchWorld(ctx, t, world.Options{Speed: 20, BrokerAddr: "127.0.0.1:0", GCS: "none", Dir: filepath.Join(dir, "world"),
		Edit: func(c *config.Config) {
			c.MQTT.CommandSigning = &config.CommandSigning{KeyFile: keyFile, Window: 30 * time.Second}
			c.MQTT.MAVLinkBridge = true
			c.MQTT.MAVLinkBridgeInbound = allowedInbound
			c.Metrics.Listen = metricsAddr
		}})
	if err := obs.Wait(ctx, obs.ReadyToFly); err != nil {
		t.Fatal(err)
	}
	// Signed commands open the dock (the agent's clock is the world's).
	n := 0
	send := func(name string, args map[string]any) {
		t.Helper()
		n++
		id := fmt.Sprintf("signed-%d", n)
		body := map[string]any{"id": id, "ts": w.Clock().Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")}
		for k, v := range args {
			body[k] = v
		}
		raw, _ := json.Marshal(body)
		payload, err := contract.Sign(key, raw)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := obs.SendRaw(ctx, name, id, payload)
		if err != nil || !rep.OK {
			t.Fatalf("signed %s %v: %+v %v", name, args, rep, err)
		}
	}
	send("mode", map[string]any{"mode": "maintenance"})
	send("lid", map[string]any{"action": "open"})
	send("arms", map[string]any{"action": "release"})
	if err := obs.Wait(ctx, func() bool { st := obs.State(); return st["lid"] == "open" && st["arms"] == "released" }); err != nil {
		t.Fatalf("dock never opened: %v", err)
	}

	enc := func(m mavlink.Message) []byte {
		b, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: 250, CompID: 190}, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	arm := enc(&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1})
	disarm := enc(&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM})
	unsigned := func(want float64) {
		t.Helper()
		err := obs.Wait(ctx, func() bool {
			v, err := scrape(ctx, metricsAddr, `dock_agent_mavlink_inbound_refused_total{reason="unsigned",source="mqtt"}`)
			return err == nil && v == want
		})
		if err != nil {
			t.Fatalf("unsigned bridge refusals never reached %g: %v", want, err)
		}
	}

	// A bare frame: refused as unsigned, the drone stays disarmed.
	if err := obs.PublishFrame(ctx, arm); err != nil {
		t.Fatal(err)
	}
	unsigned(1)
	if w.DroneState().Armed {
		t.Fatal("a bare ARM frame on mavlink/in armed the drone while signing is on")
	}
	// Signed: it arms.
	signedArm, err := contract.SignFrame(key, arm, w.Clock().Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.PublishFrame(ctx, signedArm); err != nil {
		t.Fatal(err)
	}
	if err := obs.Wait(ctx, func() bool { return w.DroneState().Armed }); err != nil {
		t.Fatalf("a signed ARM from an allowed bridge with the dock open did not arm the drone: %v", err)
	}
	signedDisarm, _ := contract.SignFrame(key, disarm, w.Clock().Now())
	if err := obs.PublishFrame(ctx, signedDisarm); err != nil {
		t.Fatal(err)
	}
	if err := obs.Wait(ctx, func() bool { return !w.DroneState().Armed }); err != nil {
		t.Fatalf("signed DISARM: %v", err)
	}
	// The same signed ARM again: a replay, refused.
	if err := obs.PublishFrame(ctx, signedArm); err != nil {
		t.Fatal(err)
	}
	unsigned(2)
	if w.DroneState().Armed {
		t.Fatal("a replayed signed ARM armed the drone")
	}
	if v := w.Witness().Violations(); len(v) > 0 {
		t.Errorf("invariants violated: %v", v)
	}
}
