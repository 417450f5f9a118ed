package campaign

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/world"
)

// TestGroundStationSeesVehicleThroughAgent: a ground station listening on
// UDP (as QGroundControl does on 14550) gets the vehicle's heartbeats and
// telemetry forwarded by the running agent, intact, and the agent's own
// heartbeat beside them.
func TestGroundStationSeesVehicleThroughAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	gcs, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer gcs.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	w, err := world.Start(ctx, world.Options{BrokerAddr: "127.0.0.1:0", GCS: "udp://" + gcs.LocalAddr().String(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	p := mavlink.NewParser(mavlink.ParserOptions{})
	buf := make([]byte, 65536)
	vehicleHB, agentHB, frames := 0, 0, 0
	deadline := time.Now().Add(20 * time.Second)
	for (vehicleHB < 3 || agentHB < 1) && time.Now().Before(deadline) {
		_ = gcs.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := gcs.ReadFromUDP(buf)
		if err != nil {
			continue
		}
		for b := buf[:n]; len(b) > 0; {
			var f mavlink.Frame
			k, err := p.Next(b, true, &f)
			b = b[k:]
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("damaged frame forwarded: %v", err)
				continue
			}
			frames++
			if f.MsgID == 0 { // HEARTBEAT
				switch {
				case f.SysID == 1 && f.CompID == 1:
					vehicleHB++
				case int(f.SysID) == w.Config.Vehicle.SystemID:
					agentHB++
				}
			}
		}
	}
	t.Logf("ground station: %d frames, %d vehicle heartbeats, %d agent heartbeats; parser %+v", frames, vehicleHB, agentHB, p.Stats())
	if vehicleHB < 3 || agentHB < 1 {
		t.Fatalf("ground station saw %d vehicle and %d agent heartbeats in 20 s, want at least 3 and 1", vehicleHB, agentHB)
	}
}
