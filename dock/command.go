package dock

import "time"

// The requests a command centre makes of the dock, as plain values: the
// wire types (JSON names, topics) belong to telemetry/contract, and
// telemetry maps one to the other. Shapes are checked before a request gets
// here (a priority is alarm or routine, a name is a name); limits that
// depend on the dock (altitude, loiter, the geofence) are checked by whoever
// takes the request.

// DispatchRequest is a dispatch to a point.
type DispatchRequest struct {
	Lat, Lon float64
	AltM     *float64 // m above home; nil: the patrol altitude
	LoiterS  *float64 // hold at the scene; nil: the default loiter
	Priority Priority // empty: PriorityAlarm
	Ref      string   // the command centre's reference, carried into events
	DryRun   bool     // everything but the motors
}

// DispatchResult is the answer to an accepted dispatch: the sortie that
// will fly it, its ETA and distance, its response circle (nil outside every
// circle) and whether it waits behind another sortie.
type DispatchResult struct {
	SortieID  string
	ETAS      float64
	DistanceM float64
	CircleMin *int
	Queued    bool
}

// PatrolResult is the answer to an accepted patrol.
type PatrolResult struct {
	SortieID string
	ETAS     float64
}

// LidAction is a manual lid command (maintenance mode).
type LidAction string

// Manual lid actions.
const (
	ActionLidOpen  LidAction = "open"
	ActionLidClose LidAction = "close"
	ActionLidStop  LidAction = "stop"
)

// ArmsAction is a manual arms command (maintenance mode).
type ArmsAction string

// Manual arms actions.
const (
	ActionArmsRelease ArmsAction = "release"
	ActionArmsClamp   ArmsAction = "clamp"
	ActionArmsStop    ArmsAction = "stop"
)

// QuoteResult answers "how fast could you be there?" for the dock as it
// is now: what a dispatch to the point would promise and what would block
// it. Energy is nil while the battery is unknown.
type QuoteResult struct {
	ETAS      float64
	DistanceM float64
	CircleMin *int
	Energy    *QuoteEnergy
	Ready     bool
	Gates     []Gate
}

// QuoteEnergy is a quote's energy budget of the round trip with the
// default loiter, in percent of the battery: MarginPct is what is left
// above the reserve (negative: the battery gate blocks).
type QuoteEnergy struct {
	NeededPct, ReservePct, BatteryPct, MarginPct float64
}

// RetargetResult is a dispatch moved to a new point and its new promise:
// ETAS counts from now, PromisedETAS from the dispatch command.
type RetargetResult struct {
	SortieID     string
	Phase        Phase
	ETAS         float64
	DistanceM    float64
	PromisedETAS float64
}

// AlertResult says until when a dock staged by an alert waits for its
// dispatch, and whether an alert already staged was only extended.
type AlertResult struct {
	Until    time.Time
	Window   time.Duration
	Extended bool
}
