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
func buildEngine(cfg *config.Config, ctrl *dock.Controller, veh dock.Vehicle, events dock.EventSink, flog *flightLog, clock clockwork.Clock, log *slog.Logger) (*sortie.Engine, error) {
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
		Hardware:  ctrl,
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
