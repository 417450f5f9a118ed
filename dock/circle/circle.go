package circle

import (
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock/route"
)

// Minutes are the response circles published in `state` and used for
// `circle_min`, smallest first.
var Minutes = [3]int{1, 3, 5}

// Params describe the dock and the drone for the response circles.
type Params struct {
	Dock        route.Point
	AirspeedMPS float64 // cruise airspeed
	ClimbMPS    float64 // vertical speed to patrol altitude
	PatrolAltM  float64 // altitude above the dock flown to the target
	// Launch is the time from the dispatch to take-off (lid, arms, arming),
	// e.g. LaunchEstimator.Estimate.
	Launch time.Duration
	// DepartAltM is the altitude at which the vehicle leaves for the
	// target, climbing the rest of the way to PatrolAltM on the leg (the
	// sortie engine sends the go-to at the clearance altitude). 0 or more
	// than PatrolAltM: the whole climb comes first.
	DepartAltM float64
	// HoldsGroundSpeed says the vehicle's position controller flies its
	// speed over the ground whatever the wind (a multicopter in GUIDED or
	// AUTO: ArduCopter's WPNAV_SPEED is a ground speed), as long as the
	// wind is slower than that speed: the circles do not drift and the
	// ETA is distance / speed. False: AirspeedMPS is an airspeed and the
	// wind carries the vehicle (the wind triangle).
	HoldsGroundSpeed bool
	// AccelMPS2 is the horizontal acceleration of the vehicle (ArduCopter
	// WPNAV_ACCEL): speeding up and slowing down costs AirspeedMPS /
	// AccelMPS2 over flying the leg at cruise speed. 0: not counted.
	AccelMPS2 float64
}

// departAlt is the altitude the climb before the leg reaches.
func (p Params) departAlt() float64 {
	if p.DepartAltM > 0 && p.DepartAltM < p.PatrolAltM {
		return p.DepartAltM
	}
	return p.PatrolAltM
}

// Overhead is the time the flight to a target takes beyond the straight
// leg at cruise speed: launch, the climb before the leg, and speeding up
// and slowing down. A non-positive climb rate is taken as an instant climb.
func (p Params) Overhead() time.Duration {
	o := max(p.Launch, 0)
	if p.ClimbMPS > 0 && p.PatrolAltM > 0 {
		o += time.Duration(p.departAlt() / p.ClimbMPS * float64(time.Second))
	}
	if p.AccelMPS2 > 0 && p.AirspeedMPS > 0 {
		o += time.Duration(p.AirspeedMPS / p.AccelMPS2 * float64(time.Second))
	}
	return o
}

// legClimb is the shortest leg time the climb left after departure allows.
func (p Params) legClimb() float64 {
	if !(p.ClimbMPS > 0) {
		return 0
	}
	return (p.PatrolAltM - p.departAlt()) / p.ClimbMPS
}

// FlightTime is t' for a response time t: t minus the overhead, at least 0.
func (p Params) FlightTime(t time.Duration) time.Duration {
	return max(t-p.Overhead(), 0)
}

// Radius is the radius in metres of the area reachable within t.
func (p Params) Radius(t time.Duration) float64 {
	if !(p.AirspeedMPS > 0) {
		return 0
	}
	return p.AirspeedMPS * p.FlightTime(t).Seconds()
}

// Radii returns the radii in metres of the 1-, 3- and 5-minute circles
// without wind, as `state.circles.radii_m` carries them.
func (p Params) Radii() [3]float64 {
	var r [3]float64
	for i, m := range Minutes {
		r[i] = p.Radius(time.Duration(m) * time.Minute)
	}
	return r
}

// Circle is one wind-shifted reachable area.
type Circle struct {
	Minutes int
	Center  route.Point
	RadiusM float64
	// DriftM is how far the centre drifted downwind from the dock.
	DriftM float64
}

// Circles returns the 1-, 3- and 5-minute reachable areas in wind w: radius
// airspeed*t', centre drifted downwind (w.FromDeg + 180) by w*t'.
func (p Params) Circles(w route.Wind) [3]Circle {
	var cs [3]Circle
	for i, m := range Minutes {
		tf := p.FlightTime(time.Duration(m) * time.Minute).Seconds()
		drift := math.Max(0, w.SpeedMPS) * tf
		if p.HoldsGroundSpeed {
			drift = 0
		}
		c := Circle{Minutes: m, Center: p.Dock, RadiusM: p.Radius(time.Duration(m) * time.Minute), DriftM: drift}
		if drift > 0 {
			c.Center = route.Destination(p.Dock, w.FromDeg+180, drift)
		}
		cs[i] = c
	}
	return cs
}

// ETA returns the earliest time at which the drone, dispatched now, can be
// over target at patrol altitude in wind w, the great-circle distance from
// the dock, and the smallest response circle (1, 3 or 5 minutes) whose time
// covers the ETA, or nil when it is farther. ok is false when the target
// cannot be reached at all (wind at or above the airspeed blowing away from
// it, no airspeed, invalid input); eta and circleMin are then zero and nil.
//
// The flight time t' solves |d - w t'| = a t' where d is the target's
// offset from the dock, w the wind vector and a the airspeed:
// (a² - |w|²) t'² + 2 (d·w) t' - |d|² = 0, taking the smallest t' >= 0.
func (p Params) ETA(target route.Point, w route.Wind) (eta time.Duration, distanceM float64, circleMin *int, ok bool) {
	if !target.Valid() || !p.Dock.Valid() || math.IsNaN(w.SpeedMPS) || math.IsNaN(w.FromDeg) || math.IsNaN(p.AirspeedMPS) {
		return 0, 0, nil, false
	}
	distanceM = route.Distance(p.Dock, target)
	brg := route.Bearing(p.Dock, target)
	dx, dy := distanceM*math.Sin(brg*math.Pi/180), distanceM*math.Cos(brg*math.Pi/180)
	ws := math.Max(0, w.SpeedMPS)
	if p.HoldsGroundSpeed {
		if ws >= p.AirspeedMPS {
			return 0, distanceM, nil, false
		}
		ws = 0
	}
	wx, wy := route.Wind{SpeedMPS: ws, FromDeg: w.FromDeg}.Vector()
	tf, ok := flightTime(dx, dy, wx, wy, p.AirspeedMPS)
	if !ok {
		return 0, distanceM, nil, false
	}
	if tf > 1e7 { // beyond any flight; keep the Duration from overflowing
		return 0, distanceM, nil, false
	}
	eta = p.Overhead() + time.Duration(max(tf, p.legClimb())*float64(time.Second))
	for _, m := range Minutes {
		if eta <= time.Duration(m)*time.Minute {
			m := m
			circleMin = &m
			break
		}
	}
	return eta, distanceM, circleMin, true
}

// flightTime solves (a² - w²) t² + 2 (d·w) t - d² = 0 for the smallest
// t >= 0 (seconds).
func flightTime(dx, dy, wx, wy, a float64) (float64, bool) {
	d2 := dx*dx + dy*dy
	if d2 < 1e-12 {
		return 0, true
	}
	if !(a > 0) {
		return 0, false
	}
	A := a*a - (wx*wx + wy*wy)
	B := 2 * (dx*wx + dy*wy)
	C := -d2
	const eps = 1e-12
	switch {
	case math.Abs(A) < eps*a*a:
		// Wind as fast as the drone: B t = d², only with the wind's help.
		if B <= 0 {
			return 0, false
		}
		return d2 / B, true
	case A > 0:
		// One positive root; the form below avoids cancellation.
		disc := B*B - 4*A*C
		return 2 * d2 / (B + math.Sqrt(disc)), true
	default:
		// Wind faster than the drone: reachable between two positive roots
		// when the target lies inside the downwind cone.
		disc := B*B - 4*A*C
		if disc < 0 || B <= 0 {
			return 0, false
		}
		// Roots (-B ± sqrt(disc)) / 2A with A < 0; the smaller is with +.
		return (-B + math.Sqrt(disc)) / (2 * A), true
	}
}
