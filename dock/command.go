package dock

import (
	"context"
	"encoding/json"
	"time"
)

// CommandName is the last topic segment of an MQTT command
// (`dock/<id>/cmd/<name>`).
type CommandName string

// Commands of the MQTT contract v1 (DESIGN.md §5).
const (
	CmdDispatch     CommandName = "dispatch"
	CmdPatrol       CommandName = "patrol"
	CmdRecall       CommandName = "recall"
	CmdAbort        CommandName = "abort"
	CmdBattery      CommandName = "battery"
	CmdRoutePut     CommandName = "route.put"
	CmdRouteDelete  CommandName = "route.delete"
	CmdRouteList    CommandName = "route.list"
	CmdSchedulePut  CommandName = "schedule.put"
	CmdScheduleList CommandName = "schedule.list"
	CmdLid          CommandName = "lid"
	CmdArms         CommandName = "arms"
	CmdCharger      CommandName = "charger"
	CmdMode         CommandName = "mode"
	CmdReset        CommandName = "reset"
	CmdStatus       CommandName = "status"
	CmdQuote        CommandName = "quote"
	CmdRetarget     CommandName = "retarget"
	CmdAlert        CommandName = "alert"
)

// Request is one validated command handed to the Commander. Args is a
// pointer to the command's Args type below (nil for commands without
// arguments). ID is the request id; Expires is zero when not given.
type Request struct {
	ID      string
	Name    CommandName
	Args    any
	Expires time.Time
}

// Commander executes validated commands. Do returns the reply's result
// (JSON-marshallable) or an error whose contract code CodeOf gives. Long
// jobs return once accepted and report command.progress events carrying the
// request ID. Do must not block longer than its ctx allows.
type Commander interface {
	Do(ctx context.Context, req Request) (any, error)
}

// DispatchArgs are the arguments of `dispatch`.
type DispatchArgs struct {
	Lat      float64  `json:"lat"`
	Lon      float64  `json:"lon"`
	AltM     *float64 `json:"alt_m,omitempty"`
	LoiterS  *float64 `json:"loiter_s,omitempty"`
	Priority Priority `json:"priority,omitempty"`
	Ref      string   `json:"ref,omitempty"`
	DryRun   bool     `json:"dry_run,omitempty"`
}

// DispatchResult is the reply of an accepted dispatch.
type DispatchResult struct {
	SortieID  string  `json:"sortie_id"`
	ETAS      float64 `json:"eta_s"`
	DistanceM float64 `json:"distance_m"`
	CircleMin *int    `json:"circle_min"`
	Queued    bool    `json:"queued,omitempty"`
}

// PatrolArgs are the arguments of `patrol`.
type PatrolArgs struct {
	Route  string `json:"route"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// PatrolResult is the reply of an accepted patrol.
type PatrolResult struct {
	SortieID string  `json:"sortie_id"`
	ETAS     float64 `json:"eta_s"`
}

// RecallArgs are the arguments of `recall`.
type RecallArgs struct {
	Reason string `json:"reason,omitempty"`
}

// BatteryArgs are the arguments of `battery`: "ready" or "storage".
type BatteryArgs struct {
	Mode string `json:"mode"`
}

// ActuatorArgs are the arguments of `lid` ("open", "close", "stop"), `arms`
// ("release", "clamp", "stop") and `charger` ("on", "off").
type ActuatorArgs struct {
	Action string `json:"action"`
}

// ModeArgs are the arguments of `mode`.
type ModeArgs struct {
	Mode Mode `json:"mode"`
}

// RoutePutArgs are the arguments of `route.put`: a name and either
// waypoints or a QGroundControl .plan document. They stay raw JSON here; the
// route package decodes and validates them (dock/route).
type RoutePutArgs struct {
	Name      string          `json:"name"`
	Waypoints json.RawMessage `json:"waypoints,omitempty"`
	Plan      json.RawMessage `json:"plan,omitempty"`
}

// RouteNameArgs are the arguments of `route.delete`.
type RouteNameArgs struct {
	Name string `json:"name"`
}

// SchedulePutArgs are the arguments of `schedule.put`: the schedule entries,
// decoded and validated by the schedule package (dock/schedule).
type SchedulePutArgs struct {
	Entries json.RawMessage `json:"entries"`
}

// QuoteArgs are the arguments of quote: a point, as for dispatch.
type QuoteArgs struct {
	Lat  float64  `json:"lat"`
	Lon  float64  `json:"lon"`
	AltM *float64 `json:"alt_m,omitempty"`
}

// RetargetArgs are the arguments of retarget: the new point of the active
// dispatch (or of SortieID, active or queued).
type RetargetArgs struct {
	SortieID string   `json:"sortie_id,omitempty"`
	Lat      float64  `json:"lat"`
	Lon      float64  `json:"lon"`
	AltM     *float64 `json:"alt_m,omitempty"`
}

// AlertArgs are the arguments of alert: the call's reference, its point
// when known (a provisional mission), and the window to wait for the
// dispatch (nil: the configured one).
type AlertArgs struct {
	Ref     string   `json:"ref,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	WindowS *float64 `json:"window_s,omitempty"`
}
