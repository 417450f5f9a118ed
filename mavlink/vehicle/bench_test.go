package vehicle_test

import (
	"testing"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
	"github.com/jonboulle/clockwork"
)

// BenchmarkHandle is the client's cost per telemetry frame (state update,
// sequence accounting) with no operation waiting.
func BenchmarkHandle(b *testing.B) {
	c := vehicle.New(vehicle.Options{Clock: clockwork.NewRealClock()}, nopSender{})
	var raw []byte
	for _, m := range []mavlink.Message{
		&mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR, Autopilot: mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, CustomMode: 3},
		&mavlink.GlobalPositionInt{TimeBootMS: 1, Lat: 525200000, Lon: 134050000, Alt: 54000, RelativeAlt: 20000, Hdg: 9000},
		&mavlink.Attitude{TimeBootMS: 1, Roll: 0.1},
		&mavlink.VFRHUD{Groundspeed: 5},
		&mavlink.SysStatus{VoltageBattery: 16000, BatteryRemaining: 80},
		&mavlink.GPSRawInt{FixType: 3, SatellitesVisible: 12, Eph: 90},
	} {
		var err error
		raw, err = mavlink.AppendMessage(raw, mavlink.Header{SysID: 1, CompID: 1, Seq: uint8(len(raw))}, m, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	p := mavlink.NewParser(mavlink.ParserOptions{})
	var frames []mavlink.Frame
	for buf := raw; len(buf) > 0; {
		var f mavlink.Frame
		n, err := p.Next(buf, true, &f)
		if err != nil {
			b.Fatal(err)
		}
		buf = buf[n:]
		frames = append(frames, f)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		for i := range frames {
			c.Handle(&frames[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/frame")
}
