package sortie

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// Hardware is what the engine needs from the dock hardware controller;
// *dock.Controller satisfies it. The controller enforces the hardware
// invariants itself; the engine still asks ArmPermitted right before
// arming (invariant 2).
type Hardware interface {
	Snapshot() dock.State
	Refresh(ctx context.Context) (dock.State, error)
	StartMotion(ctx context.Context, m dock.Motion, jobID string) (<-chan error, error)
	ArmPermitted() error
	LidOpenEstimate() time.Duration
	SetCharger(ctx context.Context, on bool) error
	SetSortie(ref *dock.SortieRef)
	SetCircles(c dock.Circles)
	SetReadiness(r dock.Readiness)
	Subscribe() (<-chan dock.State, func())
	RaiseFault(ctx context.Context, code dock.FaultCode, message string) error
}

var _ Hardware = (*dock.Controller)(nil)

// FlightLog records the vehicle link of one sortie (a .tlog). Start begins
// a file for the sortie name and returns its file name; Stop ends it. Both
// must return promptly.
type FlightLog interface {
	Start(name string) (file string, err error)
	Stop() error
}

// Options configure an Engine. Zero fields take the defaults named; Clock,
// Hardware, Vehicle, Events and StateDir are required.
type Options struct {
	Clock  clockwork.Clock
	Logger *slog.Logger // nil: discard

	DockID string
	// Dock is the surveyed dock position: home of every sortie.
	Dock      config.Position
	Limits    config.Limits
	Flight    config.Flight
	Actuators config.Actuators
	// Routes from the config; PlanFile paths are read by New.
	Routes    map[string]config.Route
	Schedules []config.Schedule
	// StateDir holds routes.json, schedules.json, lastrun.json,
	// battery.json, launch.json, active.json and sorties/<id>.json, each
	// written atomically (temporary file, fsync, rename).
	StateDir string

	Hardware  Hardware
	Vehicle   dock.Vehicle
	Events    dock.EventSink
	FlightLog FlightLog // optional

	// Energy overrides the battery model derived from Flight (zero: derived:
	// cruise and climb speeds, HoverPctPerMin, CruisePctPerKm converted to
	// per minute at cruise speed, 1 % overhead).
	Energy route.Energy

	// Tick is the period of in-flight monitoring, charger control and
	// queue handling. Default 1s.
	Tick time.Duration
	// ArriveM is how close to its target the vehicle counts as on station
	// (and over the dock as home). Default 15 m.
	ArriveM float64
	// ETATolerancePct is how much later than its promised ETA a dispatch
	// may be on station before the ETA counts as broken. Default 15.
	ETATolerancePct float64
	// LidMargin is how much earlier than strictly needed the lid starts
	// opening for a returning vehicle (invariant 7). Default 10s.
	LidMargin time.Duration
	// HoldETA: a returning vehicle this close (in time) to home while the
	// lid is not yet open is told to hold until it is (invariant 7), even
	// when the lid's estimate says it should be open by then. Default 5s.
	HoldETA time.Duration
	// LinkLostAfter is how long the vehicle link may be silent in flight
	// before the engine reports it. Default 5s.
	LinkLostAfter time.Duration
	// QueueTimeout is how long a queued dispatch waits for its gates to
	// clear before it fails. Default 10m.
	QueueTimeout time.Duration
	// RecoverWait is how long Run waits at start for the vehicle link
	// before recovering an interrupted sortie without it. Default 15s.
	RecoverWait time.Duration
	// CirclesEvery is how often the response circles are recomputed (and
	// at once when the wind changes). Default 5s.
	CirclesEvery time.Duration
	// SecureRetry is how often the engine tries again to secure a dock
	// left open by a securing that failed (mains lost, vehicle link lost,
	// a fault since reset), once its blocking condition is gone.
	// Default 30s.
	SecureRetry time.Duration
	// ScheduleRetry is the scheduler's retry period within grace. Default
	// schedule.DefaultRetry.
	ScheduleRetry time.Duration
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Clock == nil {
		errs = append(errs, errors.New("new sortie engine: Clock is required"))
	}
	if o.Hardware == nil {
		errs = append(errs, errors.New("new sortie engine: Hardware is required"))
	}
	if o.Vehicle == nil {
		errs = append(errs, errors.New("new sortie engine: Vehicle is required"))
	}
	if o.Events == nil {
		errs = append(errs, errors.New("new sortie engine: Events is required"))
	}
	if o.StateDir == "" {
		errs = append(errs, errors.New("new sortie engine: StateDir is required"))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Tick, time.Second)
	def(&o.LidMargin, 10*time.Second)
	def(&o.HoldETA, 5*time.Second)
	def(&o.LinkLostAfter, 5*time.Second)
	def(&o.QueueTimeout, 10*time.Minute)
	def(&o.RecoverWait, 15*time.Second)
	def(&o.SecureRetry, 30*time.Second)
	def(&o.CirclesEvery, 5*time.Second)
	def(&o.Flight.LaunchTime, 15*time.Second)
	def(&o.Flight.DefaultLoiter, 2*time.Minute)
	def(&o.Flight.AlertWindow, 90*time.Second)
	def(&o.Limits.HeartbeatMaxAge, 3*time.Second)
	if o.ETATolerancePct <= 0 {
		o.ETATolerancePct = 15
	}
	if o.Dock.PadRadiusM <= 0 {
		o.Dock.PadRadiusM = 5
	}
	if o.ArriveM <= 0 {
		o.ArriveM = 15
	}
	if o.Limits.ClearanceAltM <= 0 {
		o.Limits.ClearanceAltM = 15
	}
	if o.Flight.CruiseSpeedMPS <= 0 {
		o.Flight.CruiseSpeedMPS = 15
	}
	if o.Flight.ClimbMPS <= 0 {
		o.Flight.ClimbMPS = 5
	}
	if o.Flight.PatrolAltM <= 0 {
		o.Flight.PatrolAltM = 60
	}
	if o.Flight.HoverPctPerMin <= 0 {
		o.Flight.HoverPctPerMin = 3
	}
	if o.Energy == (route.Energy{}) {
		o.Energy = route.Energy{
			CruiseSpeedMPS:  o.Flight.CruiseSpeedMPS,
			ClimbMPS:        o.Flight.ClimbMPS,
			HoverPctPerMin:  o.Flight.HoverPctPerMin,
			CruisePctPerMin: o.Flight.CruisePctPerKm * o.Flight.CruiseSpeedMPS * 60 / 1000,
			OverheadPct:     1,
		}
	}
	return o, errors.Join(errs...)
}
