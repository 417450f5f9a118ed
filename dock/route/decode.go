package route

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Default limits applied by the decoders when a Limits field is zero.
const (
	DefaultMaxAltM     = 120 // EU open category ceiling above ground
	DefaultMaxSpeedMPS = 20
	DefaultMaxHold     = 30 * time.Minute
	DefaultMaxPoints   = 500
)

// Limits bound what the decoders accept. Zero fields take the Default
// constants above.
type Limits struct {
	MaxAltM     float64       // altitude above the dock, metres
	MaxSpeedMPS float64       // per-waypoint speed
	MaxHold     time.Duration // per-waypoint hold
	MaxPoints   int           // waypoints per route
}

func (l Limits) withDefaults() Limits {
	if l.MaxAltM <= 0 {
		l.MaxAltM = DefaultMaxAltM
	}
	if l.MaxSpeedMPS <= 0 {
		l.MaxSpeedMPS = DefaultMaxSpeedMPS
	}
	if l.MaxHold <= 0 {
		l.MaxHold = DefaultMaxHold
	}
	if l.MaxPoints <= 0 {
		l.MaxPoints = DefaultMaxPoints
	}
	return l
}

// ErrInvalid is matched (errors.Is) by every *ItemError: the input was
// understood but a value is missing or out of range.
var ErrInvalid = errors.New("invalid route")

// ItemError names the waypoint or .plan mission item (by index) and the
// field that was refused.
type ItemError struct {
	Kind  string // "waypoint" or "mission item"
	Index int
	Field string // JSON field name ("alt_m", "params[4]", "command")
	Err   error
}

func (e *ItemError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s %d: %v", e.Kind, e.Index, e.Err)
	}
	return fmt.Sprintf("%s %d: %s: %v", e.Kind, e.Index, e.Field, e.Err)
}

func (e *ItemError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ItemError) Is(target error) bool { return target == ErrInvalid }

type waypointJSON struct {
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	AltM     *float64 `json:"alt_m"`
	SpeedMPS *float64 `json:"speed_mps"`
	HoldS    *float64 `json:"hold_s"`
}

// DecodeWaypoints decodes the `waypoints` array of `route.put`:
//
//	[{"lat":52.52,"lon":13.40,"alt_m":60,"speed_mps":8,"hold_s":10}, ...]
//
// lat, lon and alt_m are required; speed_mps (0 = cruise) and hold_s
// (seconds) are optional. Decoding is strict: unknown fields, trailing data
// and values out of range (lat/lon outside the globe, alt_m outside
// 0..MaxAltM, negative speed or hold) are errors naming the waypoint index
// (*ItemError). An empty list is an error.
func DecodeWaypoints(raw json.RawMessage, lim Limits) ([]Waypoint, error) {
	lim = lim.withDefaults()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in []waypointJSON
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("decode waypoints: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode waypoints: trailing data after the array")
	}
	if len(in) == 0 {
		return nil, errors.New("decode waypoints: no waypoints")
	}
	if len(in) > lim.MaxPoints {
		return nil, fmt.Errorf("decode waypoints: %d waypoints, at most %d allowed", len(in), lim.MaxPoints)
	}
	out := make([]Waypoint, len(in))
	for i, w := range in {
		bad := func(field string, err error) error {
			return &ItemError{Kind: "waypoint", Index: i, Field: field, Err: err}
		}
		switch {
		case w.Lat == nil:
			return nil, bad("lat", errMissing)
		case w.Lon == nil:
			return nil, bad("lon", errMissing)
		case w.AltM == nil:
			return nil, bad("alt_m", errMissing)
		}
		if err := inRange(*w.Lat, -90, 90); err != nil {
			return nil, bad("lat", err)
		}
		if err := inRange(*w.Lon, -180, 180); err != nil {
			return nil, bad("lon", err)
		}
		if err := inRange(*w.AltM, 0, lim.MaxAltM); err != nil {
			return nil, bad("alt_m", err)
		}
		wp := Waypoint{Lat: *w.Lat, Lon: *w.Lon, AltM: *w.AltM}
		if w.SpeedMPS != nil {
			if err := inRange(*w.SpeedMPS, 0, lim.MaxSpeedMPS); err != nil {
				return nil, bad("speed_mps", err)
			}
			wp.SpeedMPS = *w.SpeedMPS
		}
		if w.HoldS != nil {
			if err := inRange(*w.HoldS, 0, lim.MaxHold.Seconds()); err != nil {
				return nil, bad("hold_s", err)
			}
			wp.Hold = secondsToDuration(*w.HoldS)
		}
		out[i] = wp
	}
	return out, nil
}

var errMissing = errors.New("missing")

func inRange(v, lo, hi float64) error {
	if math.IsNaN(v) || v < lo || v > hi {
		return fmt.Errorf("%g out of range %g..%g", v, lo, hi)
	}
	return nil
}

// EncodeWaypoints is the inverse of DecodeWaypoints (hold as hold_s).
func EncodeWaypoints(ws []Waypoint) (json.RawMessage, error) {
	b, err := json.Marshal(ws)
	if err != nil {
		return nil, fmt.Errorf("encode waypoints: %w", err)
	}
	return b, nil
}
