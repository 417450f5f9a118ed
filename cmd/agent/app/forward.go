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
// ground stations' frames go to the vehicle (and into the flight log). It
// returns nil when no forward is configured.
func newForwarder(cfg *config.Config, veh *vehicleLink, clock clockwork.Clock, log *slog.Logger) (*router.Router, error) {
	if len(cfg.Vehicle.Forward) == 0 {
		return nil, nil
	}
	var eps []router.Endpoint
	for _, f := range cfg.Vehicle.Forward {
		ep := router.Endpoint{URL: f.URL}
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
	r, err := router.New(router.Options{Endpoints: eps, Clock: clock, Log: log}, router.Sender(senderFunc(veh.write)))
	if err != nil {
		return nil, fmt.Errorf("ground station forward: %w", err)
	}
	// The router passes ground-station frames to the other endpoints
	// itself; it forwards the vehicle's and the agent's.
	veh.addTap(func(raw []byte, src frameSource) {
		if src != fromOthers {
			r.Forward(raw)
		}
	})
	return r, nil
}

// senderFunc adapts a write function to router.Sender.
type senderFunc func([]byte) error

func (f senderFunc) Write(raw []byte) error { return f(raw) }
