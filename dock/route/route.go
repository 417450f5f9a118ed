package route

import (
	"math"
	"time"
)

// Waypoint is one point of a route. AltM is above the dock (home), in
// metres. SpeedMPS is the airspeed to fly towards this waypoint; 0 means the
// energy model's cruise speed. Hold is how long to hover at the waypoint.
type Waypoint struct {
	Lat      float64       `json:"lat"`
	Lon      float64       `json:"lon"`
	AltM     float64       `json:"alt_m"`
	SpeedMPS float64       `json:"speed_mps,omitempty"`
	Hold     time.Duration `json:"-"`
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
