package sortie

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// Outcomes of a sortie report.
// complete is the only outcome in which every promise was kept; a sortie
// with any other outcome but aborted and dry_run_ok ends in phase failed.
const (
	OutcomeComplete   = "complete"
	OutcomeAborted    = "aborted"     // stopped before take-off
	OutcomeFailed     = "failed"      // the dock could not launch or secure
	OutcomeNotReached = "not_reached" // a dispatch never on station (recall, abort, weather, link, landed away)
	OutcomeLate       = "late"        // on station, but after its ETA (plus tolerance) or its circle
	OutcomeLandedAway = "landed_away" // the vehicle came down away from the pad
	OutcomeDryRunOK   = "dry_run_ok"
)

// Reasons the engine gives itself.
const (
	ReasonAgentRestart = "agent_restart"
)

// Target is where a dispatch flies: AltM above home.
type Target struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	AltM float64 `json:"alt_m"`
}

// Point is the target's position.
func (t Target) Point() route.Point { return route.Point{Lat: t.Lat, Lon: t.Lon} }

// PhaseTime is when a sortie entered a phase.
type PhaseTime struct {
	Phase dock.Phase `json:"phase"`
	At    time.Time  `json:"at"`
}

// Record is one sortie as persisted while it runs (active.json, on every
// phase change) and, once it ended, its report (sorties/<id>.json and the
// `sortie.report` event). Durations are in seconds, percent of a full
// battery, distances and altitudes in metres.
type Record struct {
	ID        string          `json:"sortie_id"`
	Kind      dock.SortieKind `json:"kind"`
	Priority  dock.Priority   `json:"priority,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Route     string          `json:"route,omitempty"`
	Schedule  string          `json:"schedule,omitempty"`
	Ref       string          `json:"ref,omitempty"`
	Target    *Target         `json:"target,omitempty"`
	LoiterS   float64         `json:"loiter_s,omitempty"`
	DryRun    bool            `json:"dry_run,omitempty"`

	Phase  dock.Phase  `json:"phase"`
	Phases []PhaseTime `json:"phases"`

	// ETAS and CircleMin are what the dispatch reply promised.
	ETAS      float64 `json:"eta_s,omitempty"`
	CircleMin *int    `json:"circle_min,omitempty"`
	// Retargeted counts the moves of the target in flight; each made the
	// promise the time so far plus the ETA from where the vehicle was.
	Retargeted int `json:"retargeted,omitempty"`

	CommandAt      time.Time `json:"command_at"`
	TakeoffAt      time.Time `json:"takeoff_at,omitzero"`
	StationAt      time.Time `json:"station_at,omitzero"`
	LaunchLatencyS float64   `json:"launch_latency_s,omitempty"`
	TimeToStationS float64   `json:"time_to_station_s,omitempty"`
	// ETAErrorPct is (time to station - ETA) / ETA in percent: positive
	// when late.
	ETAErrorPct *float64 `json:"eta_error_pct,omitempty"`
	// Broken lists the promises broken (PromiseETA, ...), in order.
	Broken       []string `json:"broken,omitempty"`
	LandedAway   *Target  `json:"landed_away,omitempty"`
	DistanceM    float64  `json:"distance_m"`
	MaxAltM      float64  `json:"max_alt_m"`
	BatteryStart float64  `json:"battery_start_pct"`
	BatteryEnd   float64  `json:"battery_end_pct"`
	BatteryUsed  float64  `json:"battery_used_pct"`
	Outcome      string   `json:"outcome,omitempty"`
	Reasons      []string `json:"reasons,omitempty"`
	TLog         string   `json:"tlog,omitempty"`
	DivertedFrom string   `json:"diverted_from,omitempty"`
	DivertedTo   string   `json:"diverted_to,omitempty"`
}

// fields flattens r for an event.
func (r Record) fields() map[string]any {
	b, err := json.Marshal(r)
	if err != nil {
		return map[string]any{"sortie_id": r.ID, "error": err.Error()}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return map[string]any{"sortie_id": r.ID, "error": err.Error()}
	}
	return m
}

// sortie is a sortie the engine handles: its record plus what only the
// running engine knows. Owned by the loop goroutine.
type sortie struct {
	rec     Record
	mission []dock.MissionItem
	rt      route.Route // the route flown (dispatch: the target as one waypoint)

	queuedAt    time.Time
	launchAt    time.Time // the launch began
	blockedNote string    // last preflight.blocked text, to report changes once

	job      context.CancelFunc // launch or secure job, nil when none
	aborting bool               // abort requested before take-off
	launched bool               // take-off acknowledged
	gotoSent bool
	// staged: launched from a dock an alert had opened and prepared.
	staged    bool
	legAt     time.Time     // when it was sent
	legPlan   time.Duration // its planned duration
	loiterEnd time.Time
	preempted bool      // recalled for a waiting alarm
	recalled  bool      // RTL commanded
	rtlWanted bool      // RTL asked for and not yet acknowledged
	rtlBusy   bool      // an RTL / GoTo / Hold command in flight
	holding   bool      // told to hold until the lid is open (invariant 7)
	lidBusy   bool      // a lid motion for this flight in progress
	lidOpenAt time.Time // the lid began opening for the return
	linkLost  time.Time
	linkNoted bool
	lastPos   *route.Point
	recovered bool
	// airSeen: since take-off the vehicle was seen armed or in the air.
	// Until then a disarmed, on-ground snapshot may be the one from before
	// the take-off (a heartbeat late, the link lost at once), not a landing.
	airSeen bool
}

func (s *sortie) ref() *dock.SortieRef {
	ref := &dock.SortieRef{ID: s.rec.ID, Kind: s.rec.Kind, Phase: s.rec.Phase, Route: s.rec.Route}
	if t := s.rec.Target; t != nil {
		ref.Target = &dock.SortieTarget{Lat: t.Lat, Lon: t.Lon, AltM: t.AltM}
	}
	return ref
}

func (s *sortie) inFlight() bool {
	switch s.rec.Phase {
	case dock.PhaseAirborne, dock.PhaseOnStation, dock.PhaseReturning, dock.PhaseLanding:
		return true
	}
	return false
}

func (s *sortie) beforeTakeoff() bool {
	switch s.rec.Phase {
	case dock.PhaseQueued, dock.PhasePreflight, dock.PhaseLaunching:
		return !s.launched
	}
	return false
}

func (s *sortie) reason(r string) {
	for _, x := range s.rec.Reasons {
		if x == r {
			return
		}
	}
	s.rec.Reasons = append(s.rec.Reasons, r)
}
