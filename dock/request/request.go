package request

import (
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// Dispatch is a dispatch to a point.
type Dispatch struct {
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

// QuoteResult answers "how fast could you be there?" for the dock as it
// is now: what a dispatch to the point would promise and what would block
// it. Energy is nil while the battery is unknown.
type QuoteResult struct {
	ETAS      float64
	DistanceM float64
	CircleMin *int
	Energy    *QuoteEnergy
	Ready     bool
	Gates     []dock.Gate
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
	Phase        dock.Phase
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

// Priority orders work: alarm dispatches preempt routine work.
type Priority string

// Priorities of the dispatch command.
const (
	PriorityAlarm   Priority = "alarm"
	PriorityRoutine Priority = "routine"
)
