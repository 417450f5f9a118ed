package dock

import (
	"context"
	"fmt"
	"time"
)

// The controller's blocking one-part motions, the stop of every motion and
// the self-test report are what the tests of package dock_test drive and
// read; the sortie engine and the app use StartMotion and the manual
// commands instead, so they are not part of dock's API.

// OpenLid opens the lid and returns when the open limit switch closed, the
// motion failed, or ctx ended (the motion continues, bounded by its timeout).
func (c *Controller) OpenLid(ctx context.Context) error { return c.move(ctx, MotionOpenLid) }

// CloseLid closes the lid like OpenLid (invariant 1 may refuse or stop it).
func (c *Controller) CloseLid(ctx context.Context) error { return c.move(ctx, MotionCloseLid) }

// ReleaseArms releases the centering arms like OpenLid (invariant 3 may
// refuse it).
func (c *Controller) ReleaseArms(ctx context.Context) error { return c.move(ctx, MotionReleaseArms) }

// ClampArms clamps the centering arms like OpenLid.
func (c *Controller) ClampArms(ctx context.Context) error { return c.move(ctx, MotionClampArms) }

// StopLid stops a lid motion.
func (c *Controller) StopLid(ctx context.Context) error { return c.stopLid(ctx) }

// move starts m and waits for its end or ctx.
func (c *Controller) move(ctx context.Context, m Motion) error {
	done, err := c.StartMotion(ctx, m, "")
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: wait: %w", m, ctx.Err())
	}
}

// StopAll stops every motion and switches the charger off; heater, fan and
// strobe keep following their rules.
func (c *Controller) StopAll(ctx context.Context) error {
	return c.do(ctx, func(time.Time) {
		for _, mp := range []**motion{&c.lid, &c.arms} {
			if m := *mp; m != nil {
				c.finish(mp, fmt.Errorf("%s: %w by stop all", m.spec.action, ErrStopped), ProgressCanceled)
			}
		}
		c.chargerWant = false
	})
}

// SelfTest returns the report of the hardware self-test Run made at start
// (the zero report before).
func (c *Controller) SelfTest() report {
	if r := c.selfReport.Load(); r != nil {
		return *r
	}
	return report{}
}
