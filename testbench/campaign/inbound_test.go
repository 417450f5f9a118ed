package campaign

import (
	"context"
	"testing"
	"time"
)

// TestInboundGuardedOnBench: against the real agent, ARM (COMMAND_LONG with
// force, COMMAND_INT), SET_MODE with the armed flag and MISSION_START from
// a ground station on the UDP forward, from an allowed laptop and from the
// raw MQTT bridge never arm the vehicle in the closed dock (the witness
// counts no violation) and each is answered COMMAND_ACK
// MAV_RESULT_DENIED; with the lid open and the arms released the allowed
// sources arm it and the read-only one still cannot (issue 21).
func TestInboundGuardedOnBench(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	res, err := RunInbound(ctx, Options{Speed: 20, Log: t.Logf}, 5)
	t.Log("\n" + res.String())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pass() {
		t.Errorf("inbound campaign failed: %v", res.Violations)
	}
	if want := float64(res.Sent + 1); res.RefusedMetric != want {
		t.Errorf("dock_agent_mavlink_inbound_refused_total = %g, want %g (every closed-dock frame and the read-only ARM)", res.RefusedMetric, want)
	}
}
