package vehicle_test

import (
	"testing"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
	"github.com/jonboulle/clockwork"
)

// FuzzHandle feeds arbitrary frames from a discovered autopilot to a client:
// whatever the payloads, Handle must not panic and State must stay sane.
func FuzzHandle(f *testing.F) {
	enc := func(m mavlink.Message) []byte {
		b, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1}, m, nil)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(enc(&mavlink.SysStatus{BatteryRemaining: -1, VoltageBattery: 65535, CurrentBattery: -1}))
	f.Add(enc(&mavlink.GPSRawInt{SatellitesVisible: 255, Eph: 65535}))
	f.Add(enc(&mavlink.Statustext{Text: [50]byte{'a', 'b'}}))
	f.Add(enc(&mavlink.GlobalPositionInt{Hdg: 65535, TimeBootMS: 1 << 31}))
	f.Add(enc(&mavlink.Heartbeat{Autopilot: mavlink.MAV_AUTOPILOT_PX4, CustomMode: 0xFFFFFFFF}))
	f.Add(enc(&mavlink.CommandAck{Command: 400}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := vehicle.New(vehicle.Options{Clock: clockwork.NewFakeClock()}, nopSender{})
		hb := enc(&mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA})
		p := mavlink.NewParser(mavlink.ParserOptions{})
		var fr mavlink.Frame
		if _, err := p.Next(hb, true, &fr); err != nil {
			t.Fatal(err)
		}
		c.Handle(&fr)
		for len(data) > 0 {
			n, err := p.Next(data, true, &fr)
			data = data[n:]
			if err == nil {
				fr.SysID = 1 // as if from the autopilot
				c.Handle(&fr)
			} else if n == 0 {
				break
			}
		}
		s := c.State()
		if !s.Discovered || s.Battery.Pct < -1 || s.Battery.Pct > 127 || len(s.StatusTexts) > 10 || s.LossPct < 0 || s.LossPct > 100 {
			t.Fatalf("state out of range: %+v", s)
		}
	})
}
