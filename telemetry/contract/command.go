package contract

import "encoding/json"

// Command is a command name: the last level of its topic `cmd/<name>`.
type Command string

// The commands of contract v1.
const (
	CmdDispatch     Command = "dispatch"
	CmdPatrol       Command = "patrol"
	CmdRecall       Command = "recall"
	CmdAbort        Command = "abort"
	CmdBattery      Command = "battery"
	CmdRoutePut     Command = "route.put"
	CmdRouteDelete  Command = "route.delete"
	CmdRouteList    Command = "route.list"
	CmdSchedulePut  Command = "schedule.put"
	CmdScheduleList Command = "schedule.list"
	CmdLid          Command = "lid"
	CmdArms         Command = "arms"
	CmdCharger      Command = "charger"
	CmdMode         Command = "mode"
	CmdReset        Command = "reset"
	CmdStatus       Command = "status"
	CmdQuote        Command = "quote"
	CmdRetarget     Command = "retarget"
	CmdAlert        Command = "alert"
)

// Commands lists every command of the contract, in the order of
// docs/mqtt-api.md's command table.
func Commands() []Command {
	return []Command{CmdDispatch, CmdPatrol, CmdRecall, CmdAbort, CmdBattery,
		CmdRoutePut, CmdRouteDelete, CmdRouteList, CmdSchedulePut, CmdScheduleList,
		CmdLid, CmdArms, CmdCharger, CmdMode, CmdReset, CmdStatus,
		CmdQuote, CmdRetarget, CmdAlert}
}

// Envelope fields every command may carry beside its arguments.
const (
	FieldID      = "id"      // the request id, required
	FieldExpires = "expires" // RFC 3339: not executed at or after it
	FieldTS      = "ts"      // RFC 3339: when it was sent (required when signed)
)

// Priorities of a dispatch.
const (
	PriorityAlarm   = "alarm"
	PriorityRoutine = "routine"
)

// Modes of the `mode` command.
const (
	ModeAuto        = "auto"
	ModeMaintenance = "maintenance"
)

// DispatchArgs are the arguments of `dispatch`.
type DispatchArgs struct {
	Lat      float64  `json:"lat"`
	Lon      float64  `json:"lon"`
	AltM     *float64 `json:"alt_m,omitempty"`
	LoiterS  *float64 `json:"loiter_s,omitempty"`
	Priority string   `json:"priority,omitempty"` // PriorityAlarm (default) or PriorityRoutine
	Ref      string   `json:"ref,omitempty"`
	DryRun   bool     `json:"dry_run,omitempty"`
}

// DispatchResult is the reply of an accepted dispatch. CircleMin is null
// outside every response circle.
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

// ModeArgs are the arguments of `mode`: ModeAuto or ModeMaintenance.
type ModeArgs struct {
	Mode string `json:"mode"`
}

// RoutePutArgs are the arguments of `route.put`: a name and either
// waypoints or a QGroundControl .plan document, kept raw here: the dock's
// route package decodes and checks them against the geofence.
type RoutePutArgs struct {
	Name      string          `json:"name"`
	Waypoints json.RawMessage `json:"waypoints,omitempty"`
	Plan      json.RawMessage `json:"plan,omitempty"`
}

// RouteNameArgs are the arguments of `route.delete`.
type RouteNameArgs struct {
	Name string `json:"name"`
}

// SchedulePutArgs are the arguments of `schedule.put`: the schedule
// entries (docs/mqtt-api.md, "schedule.put"), kept raw here: the dock's
// schedule package decodes and checks them.
type SchedulePutArgs struct {
	Entries json.RawMessage `json:"entries"`
}

// Empty is the result of a command that returns nothing but success: {}.
type Empty struct{}

// QuoteArgs are the arguments of `quote`: a point, as for dispatch.
type QuoteArgs struct {
	Lat  float64  `json:"lat"`
	Lon  float64  `json:"lon"`
	AltM *float64 `json:"alt_m,omitempty"`
}

// QuoteResult is what a dispatch to the point would promise now and what
// would block it. Energy is null while the battery is unknown.
type QuoteResult struct {
	ETAS      float64      `json:"eta_s"`
	DistanceM float64      `json:"distance_m"`
	CircleMin *int         `json:"circle_min"`
	Energy    *QuoteEnergy `json:"energy"`
	Ready     bool         `json:"ready"`
	Gates     []Gate       `json:"gates"`
}

// QuoteEnergy is a quote's energy budget in percent of the battery:
// MarginPct is what is left above the reserve.
type QuoteEnergy struct {
	NeededPct  float64 `json:"needed_pct"`
	ReservePct float64 `json:"reserve_pct"`
	BatteryPct float64 `json:"battery_pct"`
	MarginPct  float64 `json:"margin_pct"`
}

// Gate is one launch gate that blocks: its reading and limit, or a note.
// It marshals as {"gate":"wind","value_mps":14.2,"limit_mps":12}.
type Gate = json.RawMessage

// RetargetArgs are the arguments of `retarget`: the new point of the
// active dispatch, or of SortieID (active or queued).
type RetargetArgs struct {
	SortieID string   `json:"sortie_id,omitempty"`
	Lat      float64  `json:"lat"`
	Lon      float64  `json:"lon"`
	AltM     *float64 `json:"alt_m,omitempty"`
}

// RetargetResult is the dispatch moved and its new promise: ETAS from now,
// PromisedETAS from the dispatch command.
type RetargetResult struct {
	SortieID     string  `json:"sortie_id"`
	Phase        string  `json:"phase"`
	ETAS         float64 `json:"eta_s"`
	DistanceM    float64 `json:"distance_m"`
	PromisedETAS float64 `json:"promised_eta_s"`
}

// AlertArgs are the arguments of `alert`: the call's reference, its point
// when known (both or neither), the window to wait for the dispatch.
type AlertArgs struct {
	Ref     string   `json:"ref,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	WindowS *float64 `json:"window_s,omitempty"`
}

// AlertResult says until when the dock waits for its dispatch.
type AlertResult struct {
	Until    Time    `json:"until"`
	WindowS  float64 `json:"window_s"`
	Extended bool    `json:"extended"`
}

// Telemetry is the `telemetry` message: the vehicle, at the configured
// rate. Battery.Pct is null while unknown.
type Telemetry struct {
	TS             string  `json:"ts"`
	Lat            float64 `json:"lat"`
	Lon            float64 `json:"lon"`
	AltM           float64 `json:"alt_m"`
	RelAltM        float64 `json:"rel_alt_m"`
	HeadingDeg     float64 `json:"heading_deg"`
	GroundSpeedMPS float64 `json:"ground_speed_mps"`
	ClimbMPS       float64 `json:"climb_mps"`
	RollDeg        float64 `json:"roll_deg"`
	PitchDeg       float64 `json:"pitch_deg"`
	Mode           string  `json:"mode"`
	Armed          bool    `json:"armed"`
	Battery        Battery `json:"battery"`
	GPS            GPS     `json:"gps"`
	Link           Link    `json:"link"`
}

// Battery is the vehicle's battery in Telemetry.
type Battery struct {
	Pct      *float64 `json:"pct"`
	VoltageV float64  `json:"voltage_v"`
	CurrentA float64  `json:"current_a"`
}

// GPS is the vehicle's fix in Telemetry.
type GPS struct {
	Fix  int     `json:"fix"`
	Sats int     `json:"sats"`
	HDOP float64 `json:"hdop"`
}

// Link is the radio link's quality in Telemetry.
type Link struct {
	LossPct float64 `json:"loss_pct"`
	RSSI    int     `json:"rssi"`
}
