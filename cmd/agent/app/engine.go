package app

import (
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/sortie"
)

// buildEngine makes the sortie engine over the controller and the vehicle.
// The active sortie also keeps the vehicle's flight stream rates and, with
// pace (not nil), the I/O modules' fast poll.
func buildEngine(cfg *config.Config, ctrl *dock.Controller, pace *ioPace, veh *vehicleLink, events dock.EventSink, flog *flightLog, clock clockwork.Clock, log *slog.Logger) (*sortie.Engine, error) {
	hw := sortieWatch{Hardware: ctrl, hooks: []func(bool){veh.streams.setSortie}}
	if pace != nil {
		hw.hooks = append(hw.hooks, pace.setSortie)
	}
	opts := sortie.Options{
		Clock:     clock,
		Logger:    log,
		DockID:    cfg.ID,
		Dock:      cfg.Position,
		Limits:    cfg.Limits,
		Flight:    cfg.Flight,
		Actuators: cfg.Actuators,
		Routes:    cfg.Routes,
		Schedules: cfg.Schedules,
		StateDir:  cfg.StateDir,
		Hardware:  hw,
		Vehicle:   veh,
		Events:    events,
	}
	if flog != nil {
		opts.FlightLog = flog
	}
	e, err := sortie.New(opts)
	if err != nil {
		return nil, fmt.Errorf("sortie engine: %w", err)
	}
	return e, nil
}
