package dock

import (
	"context"
	"fmt"
	"time"
)

// SetMode switches between auto and maintenance. Leaving auto is refused
// with ErrBusy while a sortie is active. Switching to auto stops any manual
// motion in progress.
func (c *Controller) SetMode(ctx context.Context, mode Mode) error {
	if mode != ModeAuto && mode != ModeMaintenance {
		return Errorf(ErrInvalidArgument, "set mode: %q is not auto or maintenance", mode)
	}
	var err error
	derr := c.do(ctx, func(time.Time) {
		if mode == c.mode {
			return
		}
		if s := c.externals().sortie; s != nil && !s.Phase.Terminal() {
			err = fmt.Errorf("set mode %s: sortie %s active: %w", mode, s.ID, ErrBusy)
			return
		}
		if mode == ModeAuto {
			for _, mp := range []**motion{&c.lid, &c.arms} {
				if m := *mp; m != nil {
					c.finish(mp, fmt.Errorf("%s: %w by leaving maintenance", m.spec.action, ErrStopped), ProgressCanceled)
				}
			}
		}
		c.log.Info("mode changed", "mode", string(mode), "from", string(c.mode))
		c.mode = mode
	})
	if derr != nil {
		return fmt.Errorf("set mode %s: %w", mode, derr)
	}
	return err
}

// Reset clears a latched e-stop and any fault. It returns ErrEStopLatched
// while the e-stop button is still pressed (invariant 4: the latch needs
// both the release and the reset) and nil when there was nothing to clear.
// The fault's cause is not checked: a part that is still broken faults
// again on its next motion.
func (c *Controller) Reset(ctx context.Context) error {
	var err error
	derr := c.do(ctx, func(time.Time) {
		c.readInputs()
		if c.in.estop {
			err = fmt.Errorf("reset: button still pressed: %w", ErrEStopLatched)
			return
		}
		if !c.estopLatched && len(c.faults) == 0 {
			return
		}
		c.log.Info("fault cleared by reset", "fault", c.firstFault(), "faults", len(c.faults), "estop", c.estopLatched)
		estop := c.estopLatched
		c.estopLatched, c.estopNoted = false, false
		if len(c.faults) == 0 { // the e-stop latch alone
			c.emit(EventFaultCleared, map[string]any{"fault": "", "estop": true, "cause": "reset"})
		}
		for len(c.faults) > 0 {
			c.clearFault(c.faults[0].Code, "reset", estop)
		}
	})
	if derr != nil {
		return fmt.Errorf("reset: %w", derr)
	}
	return err
}

// RaiseFault enters fault code with message for a cause found outside the
// controller, such as the sortie engine's vehicle on the ground away from
// the pad (FaultVehicleLandedAway, invariant 9): it blocks every launch
// until a person resets it, and is reported as a fault event (raised again
// while active, it only counts). An unknown code is refused.
func (c *Controller) RaiseFault(ctx context.Context, code FaultCode, message string) error {
	if !code.Known() {
		return Errorf(ErrInvalidArgument, "raise fault %q: unknown fault code", code)
	}
	if err := c.do(ctx, func(time.Time) { c.raise(code, message) }); err != nil {
		return fmt.Errorf("raise fault %s: %w", code, err)
	}
	return nil
}

// ManualLid runs a manual `lid` command: open, close or stop. Manual
// commands are allowed in maintenance mode only (ErrNotMaintenance
// otherwise) and still pass every interlock. It returns once the controller
// accepted or refused the action; a motion then reports command.progress
// events carrying jobID.
func (c *Controller) ManualLid(ctx context.Context, jobID string, a LidAction) error {
	switch a {
	case ActionLidOpen:
		return c.manualMotion(ctx, jobID, "lid open", MotionOpenLid)
	case ActionLidClose:
		return c.manualMotion(ctx, jobID, "lid close", MotionCloseLid)
	case ActionLidStop:
		if err := c.inMaintenance("lid stop"); err != nil {
			return err
		}
		return c.StopLid(ctx)
	}
	return Errorf(ErrInvalidArgument, "lid: unknown action %q (want open, close or stop)", a)
}

// ManualArms runs a manual `arms` command: release, clamp or stop, on the
// terms of ManualLid.
func (c *Controller) ManualArms(ctx context.Context, jobID string, a ArmsAction) error {
	switch a {
	case ActionArmsRelease:
		return c.manualMotion(ctx, jobID, "arms release", MotionReleaseArms)
	case ActionArmsClamp:
		return c.manualMotion(ctx, jobID, "arms clamp", MotionClampArms)
	case ActionArmsStop:
		if err := c.inMaintenance("arms stop"); err != nil {
			return err
		}
		return c.StopArms(ctx)
	}
	return Errorf(ErrInvalidArgument, "arms: unknown action %q (want release, clamp or stop)", a)
}

// ManualCharger runs a manual `charger` command, on the terms of ManualLid.
func (c *Controller) ManualCharger(ctx context.Context, on bool) error {
	what := "charger off"
	if on {
		what = "charger on"
	}
	if err := c.inMaintenance(what); err != nil {
		return err
	}
	return c.SetCharger(ctx, on)
}

func (c *Controller) manualMotion(ctx context.Context, jobID, what string, m Motion) error {
	if err := c.inMaintenance(what); err != nil {
		return err
	}
	_, err := c.StartMotion(ctx, m, jobID)
	return err
}

// inMaintenance refuses a manual command outside maintenance mode.
func (c *Controller) inMaintenance(what string) error {
	if c.Snapshot().Mode != ModeMaintenance {
		return fmt.Errorf("%s: %w", what, ErrNotMaintenance)
	}
	return nil
}
