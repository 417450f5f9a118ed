package dock

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/dock/route"
)

// notDocked returns why the vehicle does not count as docked, or "" when it
// is: heartbeats fresh, landed on the ground, disarmed, on the pad, and the
// centering arms clamped on it (invariants 1, 5 and 9). A vehicle whose
// link is lost counts as not docked: what it does is unknown.
func (c *Controller) notDocked() string {
	v := c.veh
	switch {
	case !v.Link:
		return "vehicle link lost"
	case v.Armed:
		return "vehicle armed"
	case v.Landed != LandedOnGround:
		return "vehicle not landed"
	case c.offPad(v):
		return "vehicle not on the pad"
	case !c.in.armsClamped || c.arms != nil:
		return "centering arms not clamped"
	}
	return ""
}

// offPad reports whether the vehicle reports a position farther than the
// pad radius from the dock (invariant 9). Without a position from the
// vehicle, or without a dock position, it is not judged.
func (c *Controller) offPad(v VehicleState) bool {
	if (v.Lat == 0 && v.Lon == 0) || (c.opts.DockLat == 0 && c.opts.DockLon == 0) {
		return false
	}
	return route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, route.Point{Lat: c.opts.DockLat, Lon: c.opts.DockLon}) > c.opts.PadRadiusM
}

// notClear returns why the vehicle is not confirmed airborne beyond the
// clearance altitude, or "" when it is.
func (c *Controller) notClear() string {
	v := c.veh
	switch {
	case !v.Link:
		return "vehicle link lost"
	case !v.Armed || v.Landed != LandedInAir:
		return "vehicle not airborne"
	case v.RelAltM < c.opts.ClearanceAltM:
		return fmt.Sprintf("vehicle at %.1f m, below clearance %.1f m", v.RelAltM, c.opts.ClearanceAltM)
	}
	return ""
}

// interlock checks the invariants a motion must keep, at its start and on
// every iteration while it runs.
func (c *Controller) interlock(k Motion) error {
	spec := &motionSpecs[k]
	switch k {
	case MotionCloseLid:
		// Invariant 1 (DESIGN.md §4): the lid moves toward closed only over
		// a docked vehicle or one airborne beyond the clearance altitude.
		docked, clear := c.notDocked(), c.notClear()
		if docked != "" && clear != "" {
			reason := "not docked (" + docked + ") and not clear (" + clear + ")"
			if docked == clear {
				reason = docked
			}
			return &InvariantError{Invariant: 1, Action: spec.action, Reason: reason}
		}
	case MotionReleaseArms, MotionClampArms:
		// Invariant 3: the centering arms never move while the vehicle is
		// armed; with the link lost its armed state is unknown.
		switch {
		case !c.veh.Link:
			return &InvariantError{Invariant: 3, Action: spec.action, Reason: "vehicle link lost: armed state unknown"}
		case c.veh.Armed:
			return &InvariantError{Invariant: 3, Action: spec.action, Reason: "vehicle armed"}
		}
	}
	return nil
}

// ArmPermitted is invariant 2 (DESIGN.md §4): it returns nil only if the lid
// open and the arms released limit switches both read closed right now, no
// e-stop is pressed or latched and no motion is under way; else an
// *InvariantError naming what blocks. The sortie engine must call it right
// before arming and the vehicle adapter checks it again. It reads the
// switches itself, so it answers even when the loop is busy; it never
// blocks.
func (c *Controller) ArmPermitted() error {
	const action = "arm vehicle"
	deny := func(reason string) error {
		return &InvariantError{Invariant: 2, Action: action, Reason: reason}
	}
	s := c.Snapshot()
	switch {
	case c.hw.EStop.Read() == gpio.High || s.EStopLatched:
		return deny("e-stop pressed or latched")
	case c.hw.LidOpenLimit.Read() != gpio.High:
		return deny("lid open limit switch not closed")
	case c.hw.ArmsReleasedLimit.Read() != gpio.High:
		return deny("arms released limit switch not closed")
	case s.Lid == LidClosing || s.Arms == ArmsClamping:
		return deny(fmt.Sprintf("lid %s, arms %s", s.Lid, s.Arms))
	}
	return nil
}

// SetCharger switches the charger. Invariant 5 (DESIGN.md §4): on is
// refused unless the vehicle is docked and disarmed, and the controller
// switches the charger off by itself (and forgets the request) as soon as
// that stops being true. Off is always accepted. It returns once applied.
func (c *Controller) SetCharger(ctx context.Context, on bool) error {
	var err error
	if derr := c.do(ctx, func(time.Time) { err = c.setCharger(on) }); derr != nil {
		return fmt.Errorf("switch charger %s: %w", onOff(on), derr)
	}
	return err
}

func (c *Controller) setCharger(on bool) error {
	if !on {
		c.chargerWant = false
		return nil
	}
	const action = "switch charger on"
	switch {
	case c.estopLatched || c.in.estop:
		return fmt.Errorf("%s: %w", action, ErrEStopLatched)
	case len(c.faults) > 0 && c.mode != ModeMaintenance:
		return fmt.Errorf("%s: %w (%s)", action, ErrFault, c.firstFault())
	}
	if why := c.notDocked(); why != "" {
		return &InvariantError{Invariant: 5, Action: action, Reason: why}
	}
	c.chargerWant = true
	return nil
}
