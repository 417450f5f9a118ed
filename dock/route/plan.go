package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// MAVLink MAV_CMD values of the mission items DecodePlan understands.
const (
	MAV_CMD_NAV_WAYPOINT         = 16
	MAV_CMD_NAV_LOITER_TIME      = 19
	MAV_CMD_NAV_RETURN_TO_LAUNCH = 20
	MAV_CMD_NAV_LAND             = 21
	MAV_CMD_NAV_TAKEOFF          = 22
	MAV_CMD_DO_CHANGE_SPEED      = 178
)

// MAVLink MAV_FRAME values accepted for positions in a .plan.
const (
	MAV_FRAME_GLOBAL                  = 0
	MAV_FRAME_MISSION                 = 2
	MAV_FRAME_GLOBAL_RELATIVE_ALT     = 3
	MAV_FRAME_GLOBAL_INT              = 5
	MAV_FRAME_GLOBAL_RELATIVE_ALT_INT = 6
)

// Errors of DecodePlan that callers may branch on; each arrives wrapped in
// an *ItemError naming the mission item.
var (
	// ErrComplexItem: QGroundControl complex items (survey, corridor scan,
	// structure scan) are refused: convert them to waypoints in QGC first.
	ErrComplexItem = errors.New("complex items (survey, corridor, structure scan) are not supported: convert them to waypoints in QGroundControl")
	// ErrUnsupportedCommand: a MAV_CMD the dock does not fly.
	ErrUnsupportedCommand = errors.New("unsupported command")
	// ErrUnsupportedFrame: e.g. terrain-relative altitude.
	ErrUnsupportedFrame = errors.New("unsupported frame")
)

// landAtHomeM is how far from the planned home a LAND item may be and still
// be read as "land at the dock".
const landAtHomeM = 10

// Plan is what DecodePlan extracts from a QGroundControl .plan file.
type Plan struct {
	Waypoints []Waypoint
	// Home is mission.plannedHomePosition when present (HasHome); HomeAltM
	// is its AMSL altitude, used to convert absolute-altitude items.
	Home     Point
	HomeAltM float64
	HasHome  bool
}

type planFile struct {
	FileType string       `json:"fileType"`
	Version  *int         `json:"version"`
	Mission  *planMission `json:"mission"`
}

type planMission struct {
	Version             int        `json:"version"`
	Items               []planItem `json:"items"`
	PlannedHomePosition []*float64 `json:"plannedHomePosition"`
}

type planItem struct {
	Type            string     `json:"type"`
	ComplexItemType string     `json:"complexItemType"`
	Command         *int       `json:"command"`
	Frame           int        `json:"frame"`
	Params          []*float64 `json:"params"`
}

// DecodePlan converts the mission of a QGroundControl .plan file (JSON,
// fileType "Plan", version 1, mission version 2) into waypoints:
//
//   - NAV_WAYPOINT (16): lat/lon/alt from params 4/5/6, hold from param 0 (s)
//   - LOITER_TIME (19): a waypoint holding param 0 seconds
//   - TAKEOFF (22): dropped (the dock flies its own take-off) unless it
//     carries a position, which then becomes a waypoint
//   - DO_CHANGE_SPEED (178): param 1 (m/s) applies to the following waypoints
//   - RETURN_TO_LAUNCH (20) or LAND (21) at the dock: end of the mission;
//     items after them are refused, as is a LAND away from the dock
//
// Altitudes in frame 3/6 (relative) are taken as they are, in frame 0/5
// (AMSL) converted with plannedHomePosition's altitude; other frames, other
// commands and complex items are refused. Every error names the item index
// (*ItemError). Limits apply as in DecodeWaypoints.
func DecodePlan(data []byte, lim Limits) (Plan, error) {
	lim = lim.withDefaults()
	var f planFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Plan{}, fmt.Errorf("decode plan: %w", err)
	}
	if f.FileType != "Plan" {
		return Plan{}, fmt.Errorf("decode plan: fileType %q, want \"Plan\"", f.FileType)
	}
	if f.Version == nil || *f.Version != 1 {
		return Plan{}, errors.New("decode plan: version must be 1")
	}
	if f.Mission == nil {
		return Plan{}, errors.New("decode plan: no mission")
	}
	m := f.Mission
	if m.Version != 2 {
		return Plan{}, fmt.Errorf("decode plan: mission version %d, want 2", m.Version)
	}
	var p Plan
	if h := m.PlannedHomePosition; len(h) > 0 {
		if len(h) != 3 || h[0] == nil || h[1] == nil {
			return Plan{}, errors.New("decode plan: plannedHomePosition must be [lat, lon, alt]")
		}
		p.Home = Point{Lat: *h[0], Lon: *h[1]}
		if !p.Home.Valid() {
			return Plan{}, fmt.Errorf("decode plan: plannedHomePosition %g,%g is not a valid position", p.Home.Lat, p.Home.Lon)
		}
		if h[2] != nil {
			p.HomeAltM = *h[2]
		}
		p.HasHome = true
	}
	speed := 0.0
	ended := -1
	for i, it := range m.Items {
		bad := func(field string, err error) error {
			return fmt.Errorf("decode plan: %w", &ItemError{Kind: "mission item", Index: i, Field: field, Err: err})
		}
		if it.Type == "ComplexItem" {
			return Plan{}, bad("complexItemType "+it.ComplexItemType, ErrComplexItem)
		}
		if it.Type != "SimpleItem" {
			return Plan{}, bad("type", fmt.Errorf("%q, want SimpleItem", it.Type))
		}
		if it.Command == nil {
			return Plan{}, bad("command", errMissing)
		}
		if ended >= 0 {
			return Plan{}, bad("command", fmt.Errorf("item after the mission ended at item %d", ended))
		}
		param := func(k int) (float64, bool) {
			if k >= len(it.Params) || it.Params[k] == nil || math.IsNaN(*it.Params[k]) {
				return 0, false
			}
			return *it.Params[k], true
		}
		cmd := *it.Command
		switch cmd {
		case MAV_CMD_DO_CHANGE_SPEED:
			v, ok := param(1)
			if !ok || v == -1 { // -1: no change (MAVLink)
				continue
			}
			if err := inRange(v, 0, lim.MaxSpeedMPS); err != nil {
				return Plan{}, bad("params[1]", err)
			}
			speed = v
			continue
		case MAV_CMD_NAV_RETURN_TO_LAUNCH:
			ended = i
			continue
		case MAV_CMD_NAV_LAND:
			lat, okLat := param(4)
			lon, okLon := param(5)
			if okLat && okLon && (lat != 0 || lon != 0) && p.HasHome &&
				Distance(p.Home, Point{Lat: lat, Lon: lon}) > landAtHomeM {
				return Plan{}, bad("params[4]", errors.New("landing away from the dock is not supported: end the mission with RTL"))
			}
			ended = i
			continue
		case MAV_CMD_NAV_WAYPOINT, MAV_CMD_NAV_LOITER_TIME, MAV_CMD_NAV_TAKEOFF:
		default:
			return Plan{}, bad("command", fmt.Errorf("%w %d", ErrUnsupportedCommand, cmd))
		}
		lat, okLat := param(4)
		lon, okLon := param(5)
		if cmd == MAV_CMD_NAV_TAKEOFF && (!okLat || !okLon || (lat == 0 && lon == 0)) {
			continue
		}
		if !okLat {
			return Plan{}, bad("params[4]", errMissing)
		}
		if !okLon {
			return Plan{}, bad("params[5]", errMissing)
		}
		alt, ok := param(6)
		if !ok {
			return Plan{}, bad("params[6]", errMissing)
		}
		switch it.Frame {
		case MAV_FRAME_GLOBAL_RELATIVE_ALT, MAV_FRAME_GLOBAL_RELATIVE_ALT_INT:
		case MAV_FRAME_GLOBAL, MAV_FRAME_GLOBAL_INT:
			if !p.HasHome {
				return Plan{}, bad("frame", errors.New("absolute altitude without plannedHomePosition"))
			}
			alt -= p.HomeAltM
		default:
			return Plan{}, bad("frame", fmt.Errorf("%w %d", ErrUnsupportedFrame, it.Frame))
		}
		if err := inRange(lat, -90, 90); err != nil {
			return Plan{}, bad("params[4]", err)
		}
		if err := inRange(lon, -180, 180); err != nil {
			return Plan{}, bad("params[5]", err)
		}
		if err := inRange(alt, 0, lim.MaxAltM); err != nil {
			return Plan{}, bad("params[6]", err)
		}
		wp := Waypoint{Lat: lat, Lon: lon, AltM: alt, SpeedMPS: speed}
		if cmd != MAV_CMD_NAV_TAKEOFF {
			hold, _ := param(0)
			if err := inRange(hold, 0, lim.MaxHold.Seconds()); err != nil {
				return Plan{}, bad("params[0]", err)
			}
			wp.Hold = secondsToDuration(hold)
		}
		if len(p.Waypoints) == lim.MaxPoints {
			return Plan{}, bad("", fmt.Errorf("more than %d waypoints", lim.MaxPoints))
		}
		p.Waypoints = append(p.Waypoints, wp)
	}
	if len(p.Waypoints) == 0 {
		return Plan{}, errors.New("decode plan: the mission has no waypoints")
	}
	return p, nil
}

// PlanOptions are the figures of an exported .plan that the route itself
// does not hold. Zero values are left out of the file (QGroundControl then
// uses its own defaults).
type PlanOptions struct {
	// CruiseSpeedMPS and HoverSpeedMPS are the mission's default speeds.
	CruiseSpeedMPS float64
	HoverSpeedMPS  float64
	// FirmwareType is the MAV_AUTOPILOT of the mission (3 ArduPilot, 12
	// PX4); 0 is written as 0 (generic).
	FirmwareType int
}

// EncodePlan writes p as a QGroundControl .plan (fileType "Plan", version
// 1, mission version 2) that DecodePlan reads back to p:
//
//   - a TAKEOFF (22) without a position to the first waypoint's altitude,
//     which DecodePlan drops (the dock flies its own take-off);
//   - a DO_CHANGE_SPEED (178, airspeed) before each waypoint whose SpeedMPS
//     differs from the one before (0, the dock's cruise speed, included;
//     the dock reads 0 as "cruise", an autopilot flying the file keeps the
//     previous speed);
//   - one NAV_WAYPOINT (16) per waypoint in frame 3 (altitude relative to
//     home), hold in param 1 (seconds);
//   - RETURN_TO_LAUNCH (20) at the end: routes end at the dock.
//
// plannedHomePosition is p.Home and p.HomeAltM (AMSL); without HasHome it
// is left out, as DecodePlan then reads no home (QGroundControl wants one:
// give it). The geofence and rally points are empty. Waypoints must be valid
// positions (DecodePlan's limits are not checked here).
func EncodePlan(p Plan, opts PlanOptions) ([]byte, error) {
	if len(p.Waypoints) == 0 {
		return nil, errors.New("encode plan: no waypoints")
	}
	type item struct {
		AMSLAltAboveTerrain *float64   `json:"AMSLAltAboveTerrain,omitempty"`
		Altitude            *float64   `json:"Altitude,omitempty"`
		AltitudeMode        int        `json:"AltitudeMode,omitempty"`
		AutoContinue        bool       `json:"autoContinue"`
		Command             int        `json:"command"`
		DoJumpID            int        `json:"doJumpId"`
		Frame               int        `json:"frame"`
		Params              []*float64 `json:"params"`
		Type                string     `json:"type"`
	}
	f := func(v float64) *float64 { return &v }
	var items []item
	add := func(it item) {
		it.AutoContinue, it.Type, it.DoJumpID = true, "SimpleItem", len(items)+1
		items = append(items, it)
	}
	for _, w := range p.Waypoints {
		if !w.Point().Valid() || math.IsNaN(w.AltM) || math.IsInf(w.AltM, 0) {
			return nil, fmt.Errorf("encode plan: waypoint %g,%g alt %g m is not a valid position", w.Lat, w.Lon, w.AltM)
		}
	}
	first := p.Waypoints[0].AltM
	// AltitudeMode 1: relative to home, as frame 3 says.
	add(item{Altitude: f(first), AltitudeMode: 1, Command: MAV_CMD_NAV_TAKEOFF, Frame: MAV_FRAME_GLOBAL_RELATIVE_ALT,
		Params: []*float64{f(0), f(0), f(0), nil, f(0), f(0), f(first)}})
	speed := 0.0
	for _, w := range p.Waypoints {
		if w.SpeedMPS != speed {
			// param 1: speed type 0 (airspeed); param 3: throttle -1 (no change).
			add(item{Command: MAV_CMD_DO_CHANGE_SPEED, Frame: MAV_FRAME_MISSION,
				Params: []*float64{f(0), f(w.SpeedMPS), f(-1), f(0), f(0), f(0), f(0)}})
			speed = w.SpeedMPS
		}
		add(item{Altitude: f(w.AltM), AltitudeMode: 1, Command: MAV_CMD_NAV_WAYPOINT, Frame: MAV_FRAME_GLOBAL_RELATIVE_ALT,
			Params: []*float64{f(w.Hold.Seconds()), f(0), f(0), nil, f(w.Lat), f(w.Lon), f(w.AltM)}})
	}
	add(item{Command: MAV_CMD_NAV_RETURN_TO_LAUNCH, Frame: MAV_FRAME_MISSION,
		Params: []*float64{f(0), f(0), f(0), f(0), f(0), f(0), f(0)}})
	var home []float64
	if p.HasHome {
		home = []float64{p.Home.Lat, p.Home.Lon, p.HomeAltM}
	}
	type mission struct {
		CruiseSpeed            float64   `json:"cruiseSpeed,omitempty"`
		FirmwareType           int       `json:"firmwareType"`
		GlobalPlanAltitudeMode int       `json:"globalPlanAltitudeMode"`
		HoverSpeed             float64   `json:"hoverSpeed,omitempty"`
		Items                  []item    `json:"items"`
		PlannedHomePosition    []float64 `json:"plannedHomePosition,omitempty"`
		Version                int       `json:"version"`
	}
	out := struct {
		FileType      string  `json:"fileType"`
		GeoFence      any     `json:"geoFence"`
		GroundStation string  `json:"groundStation"`
		Mission       mission `json:"mission"`
		RallyPoints   any     `json:"rallyPoints"`
		Version       int     `json:"version"`
	}{
		FileType:      "Plan",
		GeoFence:      map[string]any{"circles": []any{}, "polygons": []any{}, "version": 2},
		GroundStation: "QGroundControl",
		Mission: mission{CruiseSpeed: opts.CruiseSpeedMPS, FirmwareType: opts.FirmwareType, GlobalPlanAltitudeMode: 1,
			HoverSpeed: opts.HoverSpeedMPS, Items: items, PlannedHomePosition: home, Version: 2},
		RallyPoints: map[string]any{"points": []any{}, "version": 2},
		Version:     1,
	}
	b, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return append(b, '\n'), nil
}
