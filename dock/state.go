package dock

import "time"

// State is an immutable snapshot of the whole dock, as published on the
// `state` topic (DESIGN.md §5). The controller builds a new value on every
// change; readers never see it mutate. The JSON tags are the contract.
type State struct {
	Lid     LidState  `json:"lid"`
	Arms    ArmsState `json:"arms"`
	Charger bool      `json:"charger"`
	// Charging is the charger's status input where wired (else equal to Charger).
	Charging bool `json:"charging"`
	EStop    bool `json:"estop"`
	// EStopLatched stays true after the button is released until a reset.
	EStopLatched bool `json:"estop_latched"`
	Power        bool `json:"power"`
	// Fault is empty when the dock is healthy, else the message of the
	// first of Faults ("lid: open timeout after 20s"). Kept for consumers
	// from before fault codes; branch on Faults' codes instead.
	Fault string `json:"fault"`
	// Faults lists the active faults, oldest first; empty (never null once
	// the controller runs) when healthy.
	Faults  []Fault        `json:"faults"`
	Mode    Mode           `json:"mode"`
	Heater  bool           `json:"heater"`
	Fan     bool           `json:"fan"`
	Strobe  bool           `json:"strobe"`
	InsideC *float64       `json:"inside_temp_c"`
	Weather Weather        `json:"weather"`
	Vehicle VehicleSummary `json:"vehicle"`
	Sortie  *SortieRef     `json:"sortie"`
	Circles Circles        `json:"circles"`
	// Readiness is set by the sortie engine; the controller only carries it.
	Readiness Readiness `json:"readiness"`
	// ClockSynced says whether the system clock is NTP-synchronised, since
	// expiries and schedules depend on it.
	ClockSynced bool      `json:"clock_synced"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Weather is the latest weather station reading. Stale readings are
// reported as stale, never as zero wind.
type Weather struct {
	WindMPS     float64   `json:"wind_mps"`
	GustMPS     float64   `json:"gust_mps"`
	DirDeg      float64   `json:"dir_deg"`
	Rain        bool      `json:"rain"`
	TempC       float64   `json:"temp_c"`
	HumidityPct float64   `json:"humidity_pct"`
	Stale       bool      `json:"stale"`
	At          time.Time `json:"at"`
}

// VehicleSummary is the part of the vehicle state that `state` carries.
type VehicleSummary struct {
	Link       bool    `json:"link"`
	Armed      bool    `json:"armed"`
	Landed     bool    `json:"landed"`
	Docked     bool    `json:"docked"`
	BatteryPct float64 `json:"battery_pct"`
}

// SortieRef names the active sortie in `state`.
type SortieRef struct {
	ID    string     `json:"id"`
	Kind  SortieKind `json:"kind"`
	Phase Phase      `json:"phase"`
	// Route is the patrol's route name; empty for a dispatch.
	Route string `json:"route,omitempty"`
	// Target is where a dispatch flies; nil for a patrol. It is in the
	// state so that a map (the dock page, dockctl map -live) can show it
	// from the retained message alone.
	Target *SortieTarget `json:"target,omitempty"`
}

// SortieTarget is a dispatch's target: WGS84, AltM above home.
type SortieTarget struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	AltM float64 `json:"alt_m"`
}

// Circles are the 1-, 3- and 5-minute response circles now: RadiiM without
// wind (in `state`), and GeoJSON of the wind-shifted reachable areas, which
// is published on a topic of its own (`circles`) since it is 90 % of the
// bytes and changes only with the wind.
type Circles struct {
	RadiiM  [3]float64 `json:"radii_m"`
	GeoJSON any        `json:"-"`
}

// Readiness says whether the dock could launch now, computed continuously
// from the same gates a launch checks, without moving anything: Gates lists
// each that would block (the objects of a precondition_failed reply).
type Readiness struct {
	Ready bool   `json:"ready"`
	Gates []Gate `json:"gates"`
}
