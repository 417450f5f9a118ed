package route

import (
	"errors"
	"fmt"
	"math"
)

// DefaultSampleM is the spacing in metres at which Geofence.CheckRoute
// samples the legs between waypoints when Geofence.SampleM is zero.
const DefaultSampleM = 10

// Geofence is the area a route must stay inside: a circle of RadiusM around
// Center, or, when Polygon has three or more vertices, that polygon (Center
// and RadiusM are then ignored). MaxAltM, when positive, caps every
// waypoint's altitude above the dock. The zero value has no area: every
// point is outside; callers that want no fence must not call it.
type Geofence struct {
	Center  Point   `json:"center"`
	RadiusM float64 `json:"radius_m"`
	// Polygon vertices in order (either winding); the ring closes itself.
	Polygon []Point `json:"polygon,omitempty"`
	MaxAltM float64 `json:"max_alt_m,omitempty"`
	// SampleM is the spacing of the checks along each leg; 0 means
	// DefaultSampleM.
	SampleM float64 `json:"-"`
}

// ErrOutsideGeofence is matched (errors.Is) by every *GeofenceError.
var ErrOutsideGeofence = errors.New("outside geofence")

// GeofenceError says where a route leaves the geofence. Waypoint is the
// index of the offending waypoint, or, for a leg, of the waypoint the leg
// leads to (len(Waypoints) for the leg home); Leg is true when the
// waypoints are inside but the straight leg between them crosses outside at
// At. AltM is set when the altitude cap is what failed.
type GeofenceError struct {
	Waypoint int
	Leg      bool
	At       Point
	AltM     float64
	MaxAltM  float64
}

func (e *GeofenceError) Error() string {
	switch {
	case e.MaxAltM > 0 && e.AltM > e.MaxAltM:
		return fmt.Sprintf("waypoint %d: altitude %.1f m above geofence ceiling %.1f m", e.Waypoint, e.AltM, e.MaxAltM)
	case e.Leg:
		return fmt.Sprintf("leg to waypoint %d leaves the geofence at %.6f,%.6f", e.Waypoint, e.At.Lat, e.At.Lon)
	default:
		return fmt.Sprintf("waypoint %d at %.6f,%.6f is outside the geofence", e.Waypoint, e.At.Lat, e.At.Lon)
	}
}

// Is makes errors.Is(err, ErrOutsideGeofence) true.
func (e *GeofenceError) Is(target error) bool { return target == ErrOutsideGeofence }

// Validate checks that the fence describes an area: a polygon of at least
// three valid vertices, or a valid centre with a positive radius.
func (g Geofence) Validate() error {
	if len(g.Polygon) > 0 {
		if len(g.Polygon) < 3 {
			return fmt.Errorf("geofence polygon: %d vertices, want at least 3", len(g.Polygon))
		}
		for i, p := range g.Polygon {
			if !p.Valid() {
				return fmt.Errorf("geofence polygon vertex %d: %g,%g is not a valid position", i, p.Lat, p.Lon)
			}
		}
		return nil
	}
	if !g.Center.Valid() {
		return fmt.Errorf("geofence centre %g,%g is not a valid position", g.Center.Lat, g.Center.Lon)
	}
	if !(g.RadiusM > 0) {
		return fmt.Errorf("geofence radius_m %g: want > 0", g.RadiusM)
	}
	return nil
}

// Contains reports whether p lies inside the fence (on the circle's edge
// counts as inside). Invalid points are outside.
func (g Geofence) Contains(p Point) bool {
	if !p.Valid() {
		return false
	}
	if len(g.Polygon) >= 3 {
		return g.inPolygon(p)
	}
	return g.RadiusM > 0 && Distance(g.Center, p) <= g.RadiusM
}

// inPolygon is the even-odd ray-casting test on the local plane around the
// first vertex, so that fences spanning a few km are exact enough and the
// test is independent of longitude wrap within the fence.
func (g Geofence) inPolygon(p Point) bool {
	o := g.Polygon[0]
	px, py := Offset(o, p)
	in := false
	n := len(g.Polygon)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		xi, yi := Offset(o, g.Polygon[i])
		xj, yj := Offset(o, g.Polygon[j])
		if (yi > py) != (yj > py) {
			x := xj + (py-yj)*(xi-xj)/(yi-yj)
			if px < x {
				in = !in
			}
		}
	}
	return in
}

// CheckRoute checks that the route stays inside the fence when flown from
// home: every waypoint, and every leg (home to the first waypoint, between
// waypoints, last waypoint home) sampled every SampleM metres along the
// great circle. It returns the first violation as a *GeofenceError, or nil.
func (g Geofence) CheckRoute(home Point, r Route) error {
	step := g.SampleM
	if step <= 0 {
		step = DefaultSampleM
	}
	for i, w := range r.Waypoints {
		if g.MaxAltM > 0 && w.AltM > g.MaxAltM {
			return &GeofenceError{Waypoint: i, At: w.Point(), AltM: w.AltM, MaxAltM: g.MaxAltM}
		}
		if !g.Contains(w.Point()) {
			return &GeofenceError{Waypoint: i, At: w.Point()}
		}
	}
	prev := home
	for i := 0; i <= len(r.Waypoints); i++ {
		next := home
		if i < len(r.Waypoints) {
			next = r.Waypoints[i].Point()
		}
		if at, ok := g.legInside(prev, next, step); !ok {
			return &GeofenceError{Waypoint: i, Leg: true, At: at}
		}
		prev = next
	}
	return nil
}

// legInside samples the great circle from a to b every step metres
// (endpoints included) and returns the first sample outside the fence.
func (g Geofence) legInside(a, b Point, step float64) (Point, bool) {
	if len(g.Polygon) < 3 {
		// A circle fence (a spherical cap) is convex along great
		// circles: a leg between two points inside stays inside.
		for _, p := range []Point{a, b} {
			if !g.Contains(p) {
				return p, false
			}
		}
		return Point{}, true
	}
	d := Distance(a, b)
	n := int(math.Ceil(d / step))
	if n > 100000 || math.IsNaN(d) {
		n = 100000 // a leg of 1000 km at 10 m: far outside any fence anyway
	}
	brg := Bearing(a, b)
	for k := 0; k <= n; k++ {
		p := b
		if k < n {
			p = Destination(a, brg, d*float64(k)/float64(max(n, 1)))
		}
		if !g.Contains(p) {
			return p, false
		}
	}
	return Point{}, true
}
