package world

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/testbench/physics"
)

// Violation is a safety invariant (DESIGN.md §4) seen broken.
type Violation struct {
	At        time.Time // simulated time
	Invariant int       // 1..7; 0 for a forbidden output combination
	What      string
}

func (v Violation) String() string {
	if v.Invariant == 0 {
		return fmt.Sprintf("%s: %s", v.At.Format("15:04:05.000"), v.What)
	}
	return fmt.Sprintf("%s: invariant %d: %s", v.At.Format("15:04:05.000"), v.Invariant, v.What)
}

// DroneState is what the witness needs to know of the drone.
type DroneState struct {
	Known     bool // false with a real autopilot: vehicle checks are off
	Armed     bool
	OnGround  bool
	RelAltM   float64
	DistHomeM float64
	Mode      string
	ClimbMPS  float64
}

// Witness checks the invariants throughout a run, from the physics'
// signal history (exact times) and the drone's state (sampled).
type Witness struct {
	w *World

	// Bounds of the checks.
	EStopBound    time.Duration // invariant 4: all outputs off after a press
	LidTimeout    time.Duration // invariant 6
	TimeoutSlack  time.Duration // invariant 6: the cut's own delay
	ArmsTimeout   time.Duration
	ClearanceAltM float64

	mu         sync.Mutex
	seen       int // history entries processed
	level      map[physics.Signal]bool
	since      map[physics.Signal]time.Time // when an output went high
	estopAt    time.Time                    // zero while released
	reported   map[physics.Signal]bool      // outputs reported for this press
	violations []Violation
	physSeen   int
	checks     uint64
}

func newWitness(w *World) *Witness {
	return &Witness{
		w: w,
		// 100 ms of simulated time, plus 2 ms of real time per speed-up:
		// the serial round trips do not get faster with the clock.
		EStopBound: 100*time.Millisecond + time.Duration((w.opts.Speed-1)*float64(2*time.Millisecond)*w.opts.Speed),
		// The same for the cut at a motion's timeout: a poll and a coil
		// write on the bus.
		TimeoutSlack:  250*time.Millisecond + time.Duration((w.opts.Speed-1)*float64(2*time.Millisecond)*w.opts.Speed),
		LidTimeout:    w.Config.Actuators.LidTimeout,
		ArmsTimeout:   w.Config.Actuators.ArmsTimeout,
		ClearanceAltM: w.Config.Limits.ClearanceAltM,
		level:         map[physics.Signal]bool{},
		since:         map[physics.Signal]time.Time{},
		reported:      map[physics.Signal]bool{},
	}
}

// Violations returns every violation so far.
func (x *Witness) Violations() []Violation {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Violation(nil), x.violations...)
}

// Checks is the number of check passes run.
func (x *Witness) Checks() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.checks
}

func (x *Witness) run(ctx context.Context) {
	t := time.NewTicker(5 * time.Millisecond) // real time: the world moves on its own
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			x.Check()
		}
	}
}

func (x *Witness) add(at time.Time, inv int, format string, args ...any) {
	x.violations = append(x.violations, Violation{At: at, Invariant: inv, What: fmt.Sprintf(format, args...)})
}

// Check runs one pass: new signal changes, then the sampled rules.
func (x *Witness) Check() {
	hist := x.w.Physics.History()
	d := x.w.DroneState()
	now := x.w.clock.Now()
	docked := x.w.Physics.Level(physics.ArmsClampedLimit) == true && (!d.Known || (!d.Armed && d.OnGround))
	cleared := d.Known && !d.OnGround && d.RelAltM > x.ClearanceAltM

	x.mu.Lock()
	defer x.mu.Unlock()
	x.checks++
	for _, c := range hist[x.seen:] {
		on := bool(c.Level)
		x.level[c.Signal] = on
		if c.Signal.IsOutput() {
			if on {
				x.since[c.Signal] = c.At
				// Before the agent has seen a press (one poll) an output may
				// still change; after the bound nothing may come on.
				if !x.estopAt.IsZero() && c.At.Sub(x.estopAt) > x.EStopBound {
					x.add(c.At, 4, "%s energised %v after the e-stop press", c.Signal, c.At.Sub(x.estopAt).Round(time.Millisecond))
				}
				switch c.Signal {
				case physics.LidCloseMotor:
					if !docked && !cleared && d.Known {
						x.add(c.At, 1, "lid closing with the vehicle neither docked nor beyond %.0f m (armed %v, on ground %v, rel alt %.1f m)", x.ClearanceAltM, d.Armed, d.OnGround, d.RelAltM)
					}
				case physics.ArmsReleaseMotor, physics.ArmsClampMotor:
					if d.Armed {
						x.add(c.At, 3, "%s energised while the vehicle is armed", c.Signal)
					}
				case physics.ChargerEnable:
					if d.Known && (d.Armed || !d.OnGround) {
						x.add(c.At, 5, "charger on with the vehicle not docked and disarmed")
					}
				}
			} else {
				delete(x.since, c.Signal)
			}
		} else if c.Signal == physics.EStop {
			if on {
				x.estopAt = c.At
				clear(x.reported)
			} else {
				x.estopAt = time.Time{}
			}
		}
	}
	x.seen = len(hist)

	// Invariant 4: every output off within the bound of a press.
	if !x.estopAt.IsZero() && now.Sub(x.estopAt) > x.EStopBound {
		for s, t0 := range x.since {
			if t0.Before(x.estopAt.Add(x.EStopBound)) && !x.reported[s] {
				x.add(now, 4, "%s still energised %v after the e-stop press", s, now.Sub(x.estopAt).Round(time.Millisecond))
				x.reported[s] = true
			}
		}
	}
	// Invariant 6: no motor runs past its timeout (plus TimeoutSlack).
	for s, t0 := range x.since {
		limit := time.Duration(0)
		switch s {
		case physics.LidOpenMotor, physics.LidCloseMotor:
			limit = x.LidTimeout
		case physics.ArmsReleaseMotor, physics.ArmsClampMotor:
			limit = x.ArmsTimeout
		}
		if limit > 0 && now.Sub(t0) > limit+x.TimeoutSlack {
			x.add(now, 6, "%s energised for %v, past its %v timeout", s, now.Sub(t0).Round(time.Millisecond), limit)
			x.since[s] = now
		}
	}
	if d.Known {
		lidOpen := x.w.Physics.Position(physics.AxisLid) >= 1
		armsOut := x.w.Physics.Position(physics.AxisArms) >= 1
		// Invariant 2: armed only over an open lid and released arms.
		if d.Armed && (!lidOpen || !armsOut) && d.OnGround {
			x.add(now, 2, "vehicle armed with lid open %v, arms released %v", lidOpen, armsOut)
		}
		// Invariant 3, sampled: arms moving under an armed vehicle.
		if d.Armed && (x.level[physics.ArmsReleaseMotor] || x.level[physics.ArmsClampMotor]) {
			x.add(now, 3, "arms motor on while the vehicle is armed")
		}
		// Invariant 7: a vehicle coming down over the dock finds it open.
		if !d.OnGround && d.DistHomeM < 5 && d.RelAltM < math.Max(x.ClearanceAltM/2, 3) && d.ClimbMPS < -0.2 && !lidOpen {
			x.add(now, 7, "vehicle descending onto the dock at %.1f m with the lid not open", d.RelAltM)
		}
	}
	for _, v := range x.w.Physics.Violations()[x.physSeen:] {
		x.violations = append(x.violations, Violation{At: v.At, What: v.What})
	}
	x.physSeen = len(x.w.Physics.Violations())
	x.compact()
}

// compact bounds the violation list of a long bench run.
func (x *Witness) compact() {
	if len(x.violations) > 1000 {
		x.violations = x.violations[:1000]
	}
}
