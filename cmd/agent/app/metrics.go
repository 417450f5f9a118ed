package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/router"
	"github.com/dockagent/dock-agent/mavlink/transport"
	"github.com/dockagent/dock-agent/telemetry"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/dockagent/dock-agent/telemetry/metrics"
)

// agentMetrics is the Prometheus side: collectors fed by the vehicle link's
// taps, the event wrapper and command count, and the /metrics + /healthz server
// (nil when metrics.listen is empty, in which case nothing is counted).
type agentMetrics struct {
	m      *metrics.Metrics
	server *metrics.Server
}

// newMetrics is made before the controller (it counts the controller's
// motions and events) and the MQTT service: mqtt and state are read per
// scrape, and the server runs only once every part is built.
func newMetrics(cfg *config.Config, version string, veh *vehicleLink, mqtt func() telemetry.Health, state func() dock.State, wd *watchdog, hw *hardware, fwd *router.Router, page http.Handler, clock clockwork.Clock, log *slog.Logger) (*agentMetrics, error) {
	if cfg.Metrics.Listen == "" {
		return &agentMetrics{}, nil
	}
	m, err := metrics.New(metrics.Options{
		Version: version,
		Link: func() metrics.LinkStats {
			s := veh.State()
			return metrics.LinkStats{Up: s.Link, LossPct: s.LossPct, BadCRC: veh.link.Stats().BadCRC}
		},
		MQTT: func() metrics.MQTTStats {
			h := mqtt()
			return metrics.MQTTStats{
				Connected: h.Connected, ConnectionLosses: h.ConnectionLosses, OutboxDepth: h.OutboxDepth,
				EventsPublished: h.EventsPublished, EventsDropped: h.EventsDropped, CommandsRejected: h.CommandsRejected,
			}
		},
		State:   state,
		Modbus:  hw.modbusStats,
		Forward: forwardStats(fwd),
		Runtime: true,
	})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := m.Registry().Register(relayCollector(veh.link.Stats, mqtt)); err != nil {
		return nil, fmt.Errorf("metrics: relay counters: %w", err)
	}
	srv, err := metrics.NewServer(metrics.ServerOptions{
		Listen: cfg.Metrics.Listen,
		Health: func() error {
			if !wd.Healthy(4 * loopBeat) {
				return errors.New("dock controller loop not running")
			}
			return nil
		},
		Ready:  func() []metrics.Blocker { return metrics.Readiness(state()) },
		Page:   page,
		Logger: log,
		Clock:  clock,
	}, m)
	if err != nil {
		return nil, fmt.Errorf("metrics on %s: %w", cfg.Metrics.Listen, err)
	}
	veh.addTap(func(raw []byte, src frameSource) {
		name := messageName(raw)
		if src == fromVehicle {
			m.FrameIn(name)
		} else {
			m.FrameOut(name)
		}
	})
	return &agentMetrics{m: m, server: srv}, nil
}

// relayCollector counts the raw MAVLink relay stage by stage, so that a
// frame lost between the vehicle and MQTT can be placed: the link's parser
// (frames in, damaged, refused, bytes outside frames), then the MQTT
// bridge (published, dropped on a full queue or a broker away).
func relayCollector(link func() transport.Stats, mqtt func() telemetry.Health) metrics.Collector {
	desc := func(name, help string) *metrics.Desc {
		return &metrics.Desc{Name: "dock_agent_" + name, Help: help, Type: metrics.Counter}
	}
	return &relayStats{link: link, mqtt: mqtt, descs: [...]*metrics.Desc{
		desc("mavlink_link_frames_in_total", "Good MAVLink frames read from the vehicle link."),
		desc("mavlink_link_rejected_total", "Checksum-valid MAVLink frames refused (flags, length, signature)."),
		desc("mavlink_link_bytes_skipped_total", "Bytes read from the vehicle link that were part of no frame."),
		desc("mavlink_bridge_frames_out_total", "Raw MAVLink frames published on mavlink/out."),
		desc("mavlink_bridge_frames_dropped_total", "Raw MAVLink frames the MQTT bridge dropped (queue full, broker away)."),
	}}
}

type relayStats struct {
	link  func() transport.Stats
	mqtt  func() telemetry.Health
	descs [5]*metrics.Desc
}

func (r *relayStats) Describe() []*metrics.Desc { return r.descs[:] }

// Collect reads the later stage first. A frame is counted by the parser
// before the bridge sees it, so with the bridge's counters read before
// the parser's a scrape never shows the bridge ahead of the parser:
// frames that move on while the scrape runs show as read and not yet
// published (in flight), as do frames waiting in the bridge's queue.
// Read the other way round, a frame read and published between the two
// reads counted as published and not read, and two scrapes could show
// the bridge publishing more frames than the link read.
func (r *relayStats) Collect(s *metrics.Scrape) {
	h := r.mqtt()
	ls := r.link()
	for i, v := range [...]uint64{ls.FramesIn, ls.Rejected, ls.Skipped, h.FramesOut, h.FramesDropped} {
		s.Add(r.descs[i], float64(v))
	}
}

// forwardStats reads the ground-station forward's endpoints; nil without
// a forward.
func forwardStats(fwd *router.Router) func() []metrics.ForwardStats {
	if fwd == nil {
		return nil
	}
	return func() []metrics.ForwardStats {
		var out []metrics.ForwardStats
		for _, s := range fwd.Stats() {
			out = append(out, metrics.ForwardStats{Endpoint: s.Name, FramesOut: s.FramesOut, FramesIn: s.FramesIn,
				BytesOut: s.BytesOut, BytesIn: s.BytesIn, Filtered: s.Filtered, WriteErrors: s.WriteErrors, Clients: s.Clients})
		}
		return out
	}
}

// motionCounter counts a finished motion by its part: the controller's
// step "lid.open" counts as actuator "lid".
func motionCounter(m *metrics.Metrics) func(step string, status dock.ProgressStatus) {
	return func(step string, status dock.ProgressStatus) {
		actuator, _, _ := strings.Cut(step, ".")
		m.Motion(actuator, string(status))
	}
}

// messageName names the message of a raw frame for the frame counters.
func messageName(raw []byte) string {
	h, ok := mavlink.PeekHeader(raw)
	if !ok {
		return "invalid"
	}
	id := h.MsgID
	if info := mavlink.LookupMessage(id); info != nil {
		return info.Name
	}
	return "unknown"
}

func (a *agentMetrics) eventSink(next dock.EventSink) dock.EventSink {
	if a.m == nil {
		return next
	}
	return a.m.EventSink(next)
}

// commandDone counts each executed command once (telemetry's
// Options.CommandDone); nil without metrics.
func (a *agentMetrics) commandDone() func(contract.Command, contract.Code) {
	if a.m == nil {
		return nil
	}
	return a.m.Command
}
