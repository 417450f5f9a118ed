package app

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/router"
	"github.com/dockagent/dock-agent/mavlink/transport"
	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/telemetry"
	"github.com/dockagent/dock-agent/telemetry/metrics"
)

// deadPort is an RS-485 line whose writes fail (an unplugged adapter).
type deadPort struct{}

func (deadPort) Read([]byte) (int, error)           { return 0, nil }
func (deadPort) Write([]byte) (int, error)          { return 0, errors.New("input/output error") }
func (deadPort) SetReadTimeout(time.Duration) error { return nil }

// TestModbusStats: every unit a client asked, by bus, and each I/O module
// at zero before its first request.
func TestModbusStats(t *testing.T) {
	client := func() *modbus.Client {
		c, err := modbus.NewClient(modbus.ClientOptions{Clock: clockwork.NewFakeClock()}, deadPort{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	io, weather := client(), client()
	h := &hardware{
		clients: map[string]*modbus.Client{"io": io, "weather": weather},
		modules: []*ioModule{{bus: "io", unit: 1}, {bus: "io", unit: 2}},
	}
	if _, err := io.ReadCoils(t.Context(), 2, 0, 8); err == nil {
		t.Fatal("ReadCoils on a dead port = nil error")
	}
	if _, err := weather.ReadHoldingRegisters(t.Context(), 1, 0, 4); err == nil {
		t.Fatal("ReadHoldingRegisters on a dead port = nil error")
	}
	want := []metrics.ModbusStats{
		{Bus: "io", Unit: 1},
		{Bus: "io", Unit: 2, Requests: 1, PortErrors: 1},
		{Bus: "weather", Unit: 1, Requests: 1, PortErrors: 1},
	}
	if diff := cmp.Diff(want, h.modbusStats()); diff != "" {
		t.Errorf("modbusStats() (-want +got):\n%s", diff)
	}
}

// TestForwardStats: a frame forwarded to a ground station is counted under
// the endpoint's URL; no forward, no source.
func TestForwardStats(t *testing.T) {
	if forwardStats(nil) != nil {
		t.Error("forwardStats(nil) != nil, want no source without a forward")
	}
	gcs, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gcs.Close()
	url := "udp://" + gcs.LocalAddr().String()
	r, err := router.New(router.Options{Endpoints: []router.Endpoint{{Addr: gcs.LocalAddr().String()}}, Clock: clockwork.NewFakeClock()},
		discardSender{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1}, &mavlink.Heartbeat{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Forward(raw)
	want := []metrics.ForwardStats{{Endpoint: url, FramesOut: 1, BytesOut: uint64(len(raw))}}
	if diff := cmp.Diff(want, forwardStats(r)()); diff != "" {
		t.Errorf("forwardStats() (-want +got):\n%s", diff)
	}
}

// TestMotionCounter: the controller's steps count under their part.
func TestMotionCounter(t *testing.T) {
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	count := motionCounter(m)
	count("lid.open", dock.ProgressOK)
	count("lid.close", dock.ProgressOK)
	count("arms.clamp", dock.ProgressTimeout)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.Name != "dock_agent_actuator_motions_total" || mf.Type != metrics.Counter {
			continue
		}
		for _, s := range mf.Series {
			key := ""
			for i, l := range mf.Labels {
				key += l + "=" + s.LabelValues[i] + " "
			}
			got[key] = s.Value
		}
	}
	for key, v := range map[string]float64{
		"actuator=lid result=ok ":       2,
		"actuator=arms result=timeout ": 1,
		"actuator=arms result=ok ":      0,
		"actuator=lid result=canceled ": 0,
	} {
		if got[key] != v {
			t.Errorf("actuator_motions_total{%s} = %v, want %v (all: %v)", key, got[key], v, got)
		}
	}
	if len(got) != 8 {
		t.Errorf("actuator_motions_total has %d series, want 8 (2 parts x 4 results): %v", len(got), got)
	}
}

// discardSender is a router.Sender that drops what the vehicle would get.
type discardSender struct{}

func (discardSender) Write([]byte) error { return nil }

// TestRelayCollectorNeverBridgeAhead: frames move from the parser to the
// bridge while a scrape runs (each counter read lets one more frame through
// both stages); the scrape may show frames in flight, never more published
// than read.
func TestRelayCollectorNeverBridgeAhead(t *testing.T) {
	var parsed, published uint64
	step := func() { parsed++; published++ }
	link := func() transport.Stats { defer step(); return transport.Stats{FramesIn: parsed} }
	mqtt := func() telemetry.Health { defer step(); return telemetry.Health{FramesOut: published} }
	reg := metrics.NewRegistry()
	if err := reg.Register(relayCollector(link, mqtt)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			got[mf.Name] = mf.Series[0].Value
		}
		in, out := got["dock_agent_mavlink_link_frames_in_total"], got["dock_agent_mavlink_bridge_frames_out_total"]
		if out > in {
			t.Fatalf("scrape: %v frames published, %v read: the bridge ahead of the parser", out, in)
		}
	}
}
