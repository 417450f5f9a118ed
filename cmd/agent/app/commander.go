package app

import (
	"context"
	"log/slog"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
)

// commander executes the MQTT commands. Until the sortie engine is wired
// it serves the dock's own commands and refuses the sortie commands.
type commander struct {
	ctrl *dock.Controller
}

func (c *commander) init(_ *config.Config, ctrl *dock.Controller, _ *vehicleLink, _ dock.EventSink, _ clockwork.Clock, _ *slog.Logger) error {
	c.ctrl = ctrl
	return nil
}

func (c *commander) run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Do implements dock.Commander.
func (c *commander) Do(ctx context.Context, req dock.Request) (any, error) {
	switch req.Name {
	case dock.CmdLid, dock.CmdArms, dock.CmdCharger:
		a := req.Args.(*dock.ActuatorArgs)
		return nil, c.ctrl.Actuate(ctx, req.ID, req.Name, a.Action)
	case dock.CmdMode:
		return nil, c.ctrl.SetMode(ctx, req.Args.(*dock.ModeArgs).Mode)
	case dock.CmdReset:
		return nil, c.ctrl.Reset(ctx)
	case dock.CmdStatus:
		return c.ctrl.Snapshot(), nil
	}
	return nil, dock.Errorf(dock.CodePreconditionFailed, "%s: sorties are not available in this build", req.Name)
}

var _ dock.Commander = (*commander)(nil)
