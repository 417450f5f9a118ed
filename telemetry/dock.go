package telemetry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// The dock as the command intake sees it: typed methods, one per command,
// called by the command table (decode.go) with arguments already decoded
// and their shape checked. The implementations check what depends on the
// dock (limits, interlocks, state) and refuse with dock's typed errors,
// which wireError maps to contract codes.

// Sorties runs the sortie commands: dock/sortie's Engine.
type Sorties interface {
	Dispatch(ctx context.Context, reqID string, a dock.DispatchRequest) (dock.DispatchResult, error)
	Patrol(ctx context.Context, reqID, route string, dryRun bool) (dock.PatrolResult, error)
	Recall(ctx context.Context, reason string) error
	Abort(ctx context.Context) error
	SetBattery(ctx context.Context, mode string) error
	// The route, schedule and status views return what the reply's result
	// carries, as is: the engine's own JSON types.
	PutRoute(ctx context.Context, name string, waypoints, plan json.RawMessage) (any, error)
	DeleteRoute(ctx context.Context, name string) error
	Routes(ctx context.Context) (any, error)
	PutSchedule(ctx context.Context, entries json.RawMessage) (any, error)
	Schedules(ctx context.Context) (any, error)
	Status(ctx context.Context) (any, error)
	// The command centre's commands (docs/mqtt-api.md).
	Quote(ctx context.Context, lat, lon float64, altM *float64) (dock.QuoteResult, error)
	Retarget(ctx context.Context, sortieID string, lat, lon float64, altM *float64) (dock.RetargetResult, error)
	Alert(ctx context.Context, ref string, lat, lon *float64, window time.Duration) (dock.AlertResult, error)
}

// Maintenance runs the manual and mode commands: the dock's Controller.
type Maintenance interface {
	ManualLid(ctx context.Context, jobID string, a dock.LidAction) error
	ManualArms(ctx context.Context, jobID string, a dock.ArmsAction) error
	ManualCharger(ctx context.Context, on bool) error
	SetMode(ctx context.Context, mode dock.Mode) error
	Reset(ctx context.Context) error
}

// Dock is what commands act on; both are required.
type Dock struct {
	Sorties     Sorties
	Maintenance Maintenance
}

var _ Maintenance = (*dock.Controller)(nil)
