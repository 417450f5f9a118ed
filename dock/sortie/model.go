package sortie

import (
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/circle"
	"github.com/dockagent/dock-agent/dock/route"
)

// fileModel keeps what the engine learned from its flights.
const fileModel = "model.json"

// learned is what flights taught the engine, stored in model.json. Both
// factors are 1 until a flight measured them: LegFactor is flown leg time
// over planned leg time (a vehicle slower than planned reads > 1), and
// EnergyFactor is charge used over charge the model predicted for the
// same flight. Each new measurement moves them halfway (an exponential
// average), within [minFactor, maxFactor].
type learned struct {
	LegFactor     float64 `json:"leg_factor"`
	LegFlights    int     `json:"leg_flights"`
	EnergyFactor  float64 `json:"energy_factor"`
	EnergyFlights int     `json:"energy_flights"`
	PctPerKm      float64 `json:"pct_per_km,omitempty"` // last flight's charge per km flown, for the logs and reports
}

const (
	minFactor = 0.8
	maxFactor = 2.5
)

func (l *learned) normalise() {
	if !(l.LegFactor > 0) {
		l.LegFactor = 1
	}
	if !(l.EnergyFactor > 0) {
		l.EnergyFactor = 1
	}
}

// mix moves f halfway towards x, within the factor bounds.
func mix(f, x float64) float64 {
	x = math.Max(minFactor, math.Min(maxFactor, x))
	return math.Max(minFactor, math.Min(maxFactor, (f+x)/2))
}

// commandSpeed is the horizontal speed the engine commands: the config's
// cruise speed, lowered to the vehicle's own cruise speed when that is
// known and slower (the airframe was tuned for it).
func (e *Engine) commandSpeed(v dock.VehicleState) float64 {
	s := e.opts.Flight.CruiseSpeedMPS
	if l := v.Limits.CruiseMPS; l > 0 && l < s {
		s = l
	}
	return s
}

// planSpeed is the cruise speed the ETA, the circles and the energy gate
// plan with: the commanded speed as flights showed it is flown.
func (e *Engine) planSpeed(v dock.VehicleState) float64 {
	return e.commandSpeed(v) / e.learn.LegFactor
}

// planClimb is the climb rate the vehicle takes off with: the config's,
// lowered to the vehicle's own (ArduCopter climbs at WPNAV_SPEED_UP in
// GUIDED).
func (e *Engine) planClimb(v dock.VehicleState) float64 {
	c := e.opts.Flight.ClimbMPS
	if l := v.Limits.ClimbMPS; l > 0 && l < c {
		c = l
	}
	return c
}

// vehicleAccel is the horizontal acceleration planned with (ArduCopter's
// WPNAV_ACCEL default, 2.5 m/s²).
const vehicleAccel = 2.5

// model is the battery and time model the gates and in-flight checks use:
// the configured (or given) energy model at the planned speeds, its
// consumption scaled by what flights measured.
func (e *Engine) model() route.Energy {
	v := e.veh.State()
	m := e.energy
	m.HoldsGroundSpeed = true
	m.CruiseSpeedMPS = e.planSpeed(v)
	m.ClimbMPS = e.planClimb(v)
	if d := v.Limits.DescentMPS; d > 0 {
		m.DescentMPS = d
	}
	// The configured cruise draw is per minute at the configured speed:
	// flown slower, each km costs more minutes, which the per-minute model
	// already counts.
	f := e.learn.EnergyFactor
	m.HoverPctPerMin *= f
	m.CruisePctPerMin *= f
	m.ClimbPctPerM *= f
	m.WindPctPerMinPerMPS *= f
	return m
}

// circleParams are the response circle parameters now: the planned speed
// and climb, the launch estimate, the leg starting at the clearance
// altitude.
func (e *Engine) circleParams() circle.Params {
	v := e.veh.State()
	return circle.Params{
		Dock:        e.home,
		AirspeedMPS: e.planSpeed(v),
		ClimbMPS:    e.planClimb(v),
		PatrolAltM:  e.opts.Flight.PatrolAltM,
		DepartAltM:  e.opts.Limits.ClearanceAltM,
		AccelMPS2:   vehicleAccel,
		Launch:      e.launchEstimate(),
		// A multicopter's position controller holds its ground speed.
		HoldsGroundSpeed: true,
	}
}

// legTime is the planned time of the straight leg from one point to
// another at the planned ground speed (the position controller holds it
// in a wind slower than it), with speeding up and slowing down.
func (e *Engine) legTime(from, to route.Point, w route.Wind) time.Duration {
	v := e.veh.State()
	sp := e.planSpeed(v)
	d := route.Distance(from, to)
	if d < 1 {
		return 0
	}
	if w.SpeedMPS >= sp {
		return time.Hour
	}
	return time.Duration((d/sp + sp/vehicleAccel) * float64(time.Second))
}

// learnLeg records a flown leg: planned (at the factor in force) and
// flown durations.
func (e *Engine) learnLeg(planned, flown time.Duration, id string) {
	if planned < 10*time.Second || flown <= 0 {
		return // too short to tell speed from acceleration
	}
	raw := planned.Seconds() * e.learn.LegFactor // back to the commanded speed
	e.learn.LegFactor = mix(e.learn.LegFactor, flown.Seconds()/raw)
	e.learn.LegFlights++
	e.log.Info("leg speed learned", "sortie_id", id, "planned_s", planned.Seconds(), "flown_s", flown.Seconds(),
		"leg_factor", e.learn.LegFactor)
	e.storeModel()
}

// learnEnergy records a flight's charge: used against what the model
// predicted for the same time in the air and distance.
func (e *Engine) learnEnergy(s *sortie, airborne time.Duration) {
	r := s.rec
	if r.BatteryUsed <= 0 || airborne < time.Minute || r.DistanceM <= 0 {
		return
	}
	m := e.model()
	minutes := airborne.Minutes()
	cruiseMin := r.DistanceM / m.CruiseSpeedMPS / 60
	predicted := m.OverheadPct + math.Min(cruiseMin, minutes)*m.CruisePctPerMin + math.Max(0, minutes-cruiseMin)*m.HoverPctPerMin
	if predicted <= 0 {
		return
	}
	raw := predicted / e.learn.EnergyFactor
	e.learn.EnergyFactor = mix(e.learn.EnergyFactor, r.BatteryUsed/raw)
	e.learn.EnergyFlights++
	e.learn.PctPerKm = r.BatteryUsed / (r.DistanceM / 1000)
	e.log.Info("energy learned", "sortie_id", r.ID, "used_pct", r.BatteryUsed, "predicted_pct", math.Round(predicted*10)/10,
		"energy_factor", e.learn.EnergyFactor, "pct_per_km", math.Round(e.learn.PctPerKm*10)/10)
	e.storeModel()
}

func (e *Engine) storeModel() {
	if err := e.store.write(fileModel, e.learn); err != nil {
		e.log.Warn("learned flight model not stored", "err", err)
	}
	e.updateCircles(true)
}

// stagedLaunch is the launch time of a dock an alert has opened and
// prepared: the mission sent again, arming and take-off (0.3-0.9 s on
// the bench and against ArduCopter SITL; docs/performance.md).
const stagedLaunch = 2 * time.Second

// launchEstimate is the launch time a dispatch now would take: the
// learned one, or stagedLaunch on a staged dock.
func (e *Engine) launchEstimate() time.Duration {
	if e.staged != nil && e.staged.ready {
		return stagedLaunch
	}
	return e.launch.Estimate()
}
