package route

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Energy is the battery model of a multirotor: charge is drawn per minute
// of flight, a little more in hover than in cruise, plus per metre climbed,
// plus a wind penalty per minute and per m/s of wind (the motors work
// harder to hold attitude and track in wind), plus a fixed overhead for
// take-off and landing. Times come from the wind triangle on each leg, so a
// headwind costs charge through a longer leg time.
//
// Percentages are of a full battery. Fit the coefficients from flight logs:
// e.g. a 40-minute hover endurance from 100 % to 0 % is HoverPctPerMin 2.5.
type Energy struct {
	CruiseSpeedMPS float64 // airspeed when a waypoint gives none; required
	ClimbMPS       float64 // vertical speed up; 0 means 3 m/s
	DescentMPS     float64 // vertical speed down; 0 means 2 m/s

	HoverPctPerMin  float64 // hover, holds and vertical flight; required
	CruisePctPerMin float64 // forward flight; 0 means HoverPctPerMin
	ClimbPctPerM    float64 // extra per metre of climb
	// WindPctPerMinPerMPS is the extra drawn per minute for each m/s of
	// wind speed.
	WindPctPerMinPerMPS float64
	// HoldsGroundSpeed: the vehicle flies its speed over the ground
	// whatever the wind (a multicopter's position controller), so a leg
	// takes distance / speed; a wind at least as fast as that speed makes
	// the leg unflyable (a *WindError). False: the wind triangle.
	HoldsGroundSpeed bool
	OverheadPct      float64 // take-off and landing, once per flight
}

// Leg is the estimate of one straight leg.
type Leg struct {
	From, To       Point
	DistanceM      float64
	ClimbM         float64 // positive up, negative down
	AirspeedMPS    float64
	GroundSpeedMPS float64
	Duration       time.Duration // horizontal + vertical + hold at To
	Pct            float64
}

// Estimate is the battery and time estimate of a whole flight.
type Estimate struct {
	Legs      []Leg
	DistanceM float64
	Duration  time.Duration
	Pct       float64 // charge needed, without reserve
}

// ErrWindTooStrong is matched (errors.Is) by a *WindError.
var ErrWindTooStrong = errors.New("wind too strong for the leg")

// WindError says which leg cannot be flown against the wind: the
// crosswind is at least the airspeed or the ground speed along the leg is
// not positive. Leg counts from 0 (dock to the first waypoint);
// len(Waypoints) is the leg home.
type WindError struct {
	Leg            int
	AirspeedMPS    float64
	CrosswindMPS   float64
	GroundSpeedMPS float64
}

func (e *WindError) Error() string {
	return fmt.Sprintf("leg %d: airspeed %.1f m/s cannot make way against the wind (crosswind %.1f m/s, ground speed %.1f m/s)",
		e.Leg, e.AirspeedMPS, e.CrosswindMPS, e.GroundSpeedMPS)
}

// Is makes errors.Is(err, ErrWindTooStrong) true.
func (e *WindError) Is(target error) bool { return target == ErrWindTooStrong }

func (e Energy) withDefaults() Energy {
	if e.ClimbMPS <= 0 {
		e.ClimbMPS = 3
	}
	if e.DescentMPS <= 0 {
		e.DescentMPS = 2
	}
	if e.CruisePctPerMin <= 0 {
		e.CruisePctPerMin = e.HoverPctPerMin
	}
	return e
}

// GroundSpeed solves the wind triangle for a vehicle flying at airspeed
// airMPS that must track the course bearingDeg: it crabs into the crosswind
// and its ground speed is the remaining along-track airspeed plus the
// along-track wind. It returns the crosswind component and the ground
// speed; a ground speed <= 0 means the course cannot be made good.
func GroundSpeed(airMPS, bearingDeg float64, w Wind) (crossMPS, groundMPS float64) {
	we, wn := w.Vector()
	te, tn := math.Sin(rad(bearingDeg)), math.Cos(rad(bearingDeg))
	along := we*te + wn*tn
	cross := we*tn - wn*te
	if math.Abs(cross) >= airMPS {
		return cross, 0
	}
	return cross, math.Sqrt(airMPS*airMPS-cross*cross) + along
}

// Leg estimates the straight leg from (from, fromAltM) to (to, toAltM)
// flown at airspeed airMPS (0: CruiseSpeedMPS) in wind w, then holding
// hold. index is only used to name the leg in a *WindError.
func (e Energy) Leg(index int, from Point, fromAltM float64, to Point, toAltM, airMPS float64, hold time.Duration, w Wind) (Leg, error) {
	e = e.withDefaults()
	if airMPS <= 0 {
		airMPS = e.CruiseSpeedMPS
	}
	l := Leg{From: from, To: to, DistanceM: Distance(from, to), ClimbM: toAltM - fromAltM, AirspeedMPS: airMPS}
	var horiz float64 // seconds
	if l.DistanceM > 0.01 {
		cross, gs := GroundSpeed(airMPS, Bearing(from, to), w)
		if e.HoldsGroundSpeed {
			cross, gs = 0, airMPS
			if w.SpeedMPS >= airMPS {
				cross, gs = w.SpeedMPS, 0
			}
		}
		l.GroundSpeedMPS = gs
		if !(gs > 0) {
			return l, &WindError{Leg: index, AirspeedMPS: airMPS, CrosswindMPS: math.Abs(cross), GroundSpeedMPS: gs}
		}
		horiz = l.DistanceM / gs
	}
	vert := l.ClimbM / e.ClimbMPS
	if l.ClimbM < 0 {
		vert = -l.ClimbM / e.DescentMPS
	}
	hover := vert + hold.Seconds()
	total := horiz + hover
	l.Duration = time.Duration(total * float64(time.Second))
	l.Pct = (horiz*e.CruisePctPerMin+hover*e.HoverPctPerMin+total*e.WindPctPerMinPerMPS*w.SpeedMPS)/60 +
		math.Max(0, l.ClimbM)*e.ClimbPctPerM
	return l, nil
}

// Estimate estimates the whole flight of r from home: climb to the first
// waypoint's altitude on the way there, each waypoint in turn with its
// speed and hold, then the leg home at cruise speed and the descent, plus
// OverheadPct. It fails with a *WindError when a leg cannot be flown, and
// when the model lacks CruiseSpeedMPS or HoverPctPerMin.
func (e Energy) Estimate(home Point, r Route, w Wind) (Estimate, error) {
	if !(e.CruiseSpeedMPS > 0) || !(e.HoverPctPerMin > 0) {
		return Estimate{}, errors.New("estimate route energy: model needs CruiseSpeedMPS and HoverPctPerMin")
	}
	est := Estimate{Pct: e.OverheadPct, Legs: make([]Leg, 0, len(r.Waypoints)+1)}
	prev, prevAlt := home, 0.0
	for i := 0; i <= len(r.Waypoints); i++ {
		next, nextAlt, speed, hold := home, 0.0, 0.0, time.Duration(0)
		if i < len(r.Waypoints) {
			wp := r.Waypoints[i]
			next, nextAlt, speed, hold = wp.Point(), wp.AltM, wp.SpeedMPS, wp.Hold
		}
		l, err := e.Leg(i, prev, prevAlt, next, nextAlt, speed, hold, w)
		if err != nil {
			return Estimate{}, fmt.Errorf("estimate route %q: %w", r.Name, err)
		}
		est.Legs = append(est.Legs, l)
		est.DistanceM += l.DistanceM
		est.Duration += l.Duration
		est.Pct += l.Pct
		prev, prevAlt = next, nextAlt
	}
	return est, nil
}

// ErrBatteryLow is matched (errors.Is) by a *BatteryError.
var ErrBatteryLow = errors.New("battery too low for the route")

// BatteryError says the charge needed plus the reserve exceeds what is
// available, all in percent.
type BatteryError struct {
	NeededPct    float64
	ReservePct   float64
	AvailablePct float64
}

func (e *BatteryError) Error() string {
	return fmt.Sprintf("battery: route needs %.1f %% plus %.1f %% reserve, %.1f %% available",
		e.NeededPct, e.ReservePct, e.AvailablePct)
}

// Is makes errors.Is(err, ErrBatteryLow) true.
func (e *BatteryError) Is(target error) bool { return target == ErrBatteryLow }

// Check decides whether r may be flown from home now: inside the fence
// (a *GeofenceError), flyable in the wind (a *WindError), and needing no
// more than batteryPct - reservePct (a *BatteryError). Every failing check
// is returned, joined with errors.Join, so the caller can list them all.
// The estimate is returned whenever the energy model could compute it.
func Check(r Route, home Point, fence Geofence, e Energy, w Wind, batteryPct, reservePct float64) (Estimate, error) {
	var errs []error
	if len(r.Waypoints) == 0 {
		errs = append(errs, fmt.Errorf("check route %q: no waypoints", r.Name))
	}
	if err := fence.CheckRoute(home, r); err != nil {
		errs = append(errs, fmt.Errorf("check route %q: %w", r.Name, err))
	}
	est, err := e.Estimate(home, r, w)
	switch {
	case err != nil:
		errs = append(errs, err)
	case !(est.Pct+reservePct <= batteryPct):
		errs = append(errs, fmt.Errorf("check route %q: %w", r.Name,
			&BatteryError{NeededPct: est.Pct, ReservePct: reservePct, AvailablePct: batteryPct}))
	}
	return est, errors.Join(errs...)
}
