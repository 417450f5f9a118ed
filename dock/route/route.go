package route

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Waypoint is one point of a route. AltM is above the dock (home), in
// metres. SpeedMPS is the airspeed to fly towards this waypoint; 0 means the
// energy model's cruise speed. Hold is how long to hover at the waypoint.
// Its JSON form is that of `route.put` (hold as hold_s seconds); use
// DecodeWaypoints for input that still needs validating.
type Waypoint struct {
	Lat      float64
	Lon      float64
	AltM     float64
	SpeedMPS float64
	Hold     time.Duration
}

type waypointWire struct {
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	AltM     float64 `json:"alt_m"`
	SpeedMPS float64 `json:"speed_mps,omitempty"`
	HoldS    float64 `json:"hold_s,omitempty"`
}

// MarshalJSON writes {"lat":..,"lon":..,"alt_m":..,"speed_mps":..,"hold_s":..}.
func (w Waypoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(waypointWire{Lat: w.Lat, Lon: w.Lon, AltM: w.AltM, SpeedMPS: w.SpeedMPS, HoldS: w.Hold.Seconds()})
}

// UnmarshalJSON reads the form MarshalJSON writes, without range checks
// (for routes stored after DecodeWaypoints accepted them).
func (w *Waypoint) UnmarshalJSON(b []byte) error {
	var ww waypointWire
	if err := json.Unmarshal(b, &ww); err != nil {
		return fmt.Errorf("decode waypoint: %w", err)
	}
	*w = Waypoint{Lat: ww.Lat, Lon: ww.Lon, AltM: ww.AltM, SpeedMPS: ww.SpeedMPS, Hold: secondsToDuration(ww.HoldS)}
	return nil
}

// secondsToDuration converts seconds to a Duration rounded to the
// nanosecond, so that hold_s round-trips through Duration.Seconds.
func secondsToDuration(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// Point returns the waypoint's horizontal position.
func (w Waypoint) Point() Point { return Point{Lat: w.Lat, Lon: w.Lon} }

// Route is a named patrol route. The vehicle takes off from the dock, flies
// the waypoints in order and returns to the dock; the take-off, the leg home
// and the landing are implied and not listed.
type Route struct {
	Name      string     `json:"name"`
	Waypoints []Waypoint `json:"waypoints"`
}

// Wind is a steady horizontal wind: SpeedMPS and the direction it blows
// FROM in degrees clockwise from true north (meteorological convention, as
// the weather station reports it). The zero value is calm.
type Wind struct {
	SpeedMPS float64 `json:"speed_mps"`
	FromDeg  float64 `json:"from_deg"`
}

// Vector returns the wind's velocity as east and north components in m/s:
// the direction the air moves to, opposite to FromDeg.
func (w Wind) Vector() (eastMPS, northMPS float64) {
	to := rad(w.FromDeg + 180)
	return w.SpeedMPS * math.Sin(to), w.SpeedMPS * math.Cos(to)
}
