package app

import (
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink/router"
)

// newForwarder relays the vehicle link to the configured ground stations
// (QGroundControl): the vehicle's frames and the agent's own go out, the
// ground stations' frames go through the inbound guard to the vehicle (and
// into the flight log). It returns nil when no forward is configured.
func newForwarder(cfg *config.Config, veh *vehicleLink, guard *inboundGuard, clock clockwork.Clock, log *slog.Logger) (*router.Router, error) {
	if len(cfg.Vehicle.Forward) == 0 {
		return nil, nil
	}
	var eps []router.Endpoint
	for _, f := range cfg.Vehicle.Forward {
		lk, err := f.Link() // config.ParseLink, the one parser of link strings
		if err != nil {
			return nil, fmt.Errorf("ground station forward: %w", err)
		}
		ep := router.Endpoint{Name: forwardSource(f), Listen: lk.Kind == config.LinkUDPIn, Addr: lk.Address}
		for _, id := range f.AllowMsgIDs {
			ep.Filter.AllowMsgIDs = append(ep.Filter.AllowMsgIDs, uint32(id))
		}
		for _, id := range f.BlockMsgIDs {
			ep.Filter.BlockMsgIDs = append(ep.Filter.BlockMsgIDs, uint32(id))
		}
		for _, id := range f.SysIDs {
			ep.Filter.AllowSysIDs = append(ep.Filter.AllowSysIDs, uint8(id))
		}
		eps = append(eps, ep)
	}
	r, err := router.New(router.Options{Endpoints: eps, Clock: clock, Log: log}, guardSender{guard})
	if err != nil {
		return nil, fmt.Errorf("ground station forward: %w", err)
	}
	// The router passes ground-station frames to the other endpoints
	// itself; it forwards the vehicle's and the agent's. The vehicle's
	// come on the link's reader, a read's worth at a time: they are queued
	// and leave together once the read is done (one sendmmsg per ground
	// station instead of one sendto per frame). The agent's own frames
	// come from other goroutines and go at once.
	veh.addTap(func(raw []byte, src frameSource) {
		switch src {
		case fromVehicle:
			r.Queue(raw)
		case fromAgent:
			r.Forward(raw)
		}
	})
	veh.addReadDone(r.Flush)
	return r, nil
}

// forwardSource names a ground-station endpoint as a source of frames to
// the vehicle (the router's endpoint name, the metrics' source label).
func forwardSource(f config.Forward) string { return "gcs:" + f.URL }

// guardSender hands the forward's frames to the inbound guard, naming
// their endpoint (router.GateSender).
type guardSender struct{ g *inboundGuard }

func (s guardSender) WriteFrom(endpoint string, raw []byte) ([]byte, error) {
	return s.g.send(endpoint, raw)
}

func (s guardSender) Write(raw []byte) error {
	_, err := s.g.send("gcs", raw)
	return err
}

var _ router.GateSender = guardSender{}
