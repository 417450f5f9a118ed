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
