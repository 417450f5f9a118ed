package dock

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// The controller loop's reading side: the inputs read in one iteration
// and what they mean (e-stop, mains, limit switches).

// checkInputsHealthy faults the dock and ends every motion while the inputs
// cannot be trusted: a motion steered by stale limit switches could run
// into an end stop or over the vehicle. Unlike a mechanical fault this one
// clears itself once the inputs read again: nothing broke, the dock only
// could not see, and the motions it stopped stay stopped.
func (c *Controller) checkInputsHealthy() {
	if c.opts.InputsHealthy == nil {
		return
	}
	c.inputsErr = c.opts.InputsHealthy()
	if c.inputsErr == nil {
		if c.clearFault(FaultIOModuleSilent, "inputs readable again", false) {
			c.log.Info("inputs readable again")
		}
		return
	}
	reason := "inputs: " + c.inputsErr.Error()
	if i := c.faultIndex(FaultIOModuleSilent); i < 0 {
		c.raise(FaultIOModuleSilent, reason) // also again after a reset while the inputs stay unreadable
	} else if c.faults[i].Message != reason {
		c.log.Warn("inputs still unreadable", "fault", reason)
		c.faults[i].Message = reason
		c.faultsVer++
	}
	for _, mp := range []**motion{&c.lid, &c.arms} {
		if m := *mp; m != nil {
			c.finish(mp, fmt.Errorf("%s: inputs unreadable: %w", m.spec.action, ErrFault), ProgressFailed)
		}
	}
}

func (c *Controller) readInputs() {
	rd := func(p gpio.PinIn) bool { return p != nil && p.Read() == gpio.High }
	c.in = inputs{
		lidOpen:      rd(c.hw.LidOpenLimit),
		lidClosed:    rd(c.hw.LidClosedLimit),
		armsReleased: rd(c.hw.ArmsReleasedLimit),
		armsClamped:  rd(c.hw.ArmsClampedLimit),
		charging:     rd(c.hw.ChargerStatus),
		estop:        rd(c.hw.EStop),
		mains:        rd(c.hw.Mains),
		rain:         rd(c.hw.Rain),
	}
}

// evaluate applies every rule to the current inputs and writes the outputs.
// The order matters: the e-stop first, so nothing below can energise.
func (c *Controller) evaluate(now time.Time) {
	c.checkEStop()
	c.checkMains()
	c.checkLimits()
	c.stepMotion(now, &c.lid)
	c.stepMotion(now, &c.arms)
	c.stepCharger()
	ext := c.externals()
	c.stepThermostat(now, ext)
	c.stepStrobe(now, ext)
	c.apply(now)
	if c.opts.Watchdog != nil && now.Sub(c.lastWatchdog) >= c.opts.WatchdogInterval {
		c.lastWatchdog = now
		c.opts.Watchdog()
	}
	c.publish(now)
	c.deliver()
}

// checkEStop latches the e-stop (invariant 4): on the first read of a press
// every motion ends and every output is set to be cut in this same
// iteration.
func (c *Controller) checkEStop() {
	switch {
	case c.in.estop && !c.estopLatched:
		c.estopLatched, c.estopNoted = true, false
		if c.opts.CutAll != nil {
			if err := c.opts.CutAll(); err != nil {
				c.log.Error("e-stop: cutting all outputs at once failed; cutting one by one", "err", err)
			} else {
				for o := range numOutputs {
					if c.level[o] {
						c.lastCut[o] = c.clock.Now()
					}
					c.level[o] = false
				}
			}
		}
		c.endAll(fmt.Errorf("e-stop pressed: %w", ErrEStopLatched), ProgressFailed)
		c.chargerWant = false
		c.log.Error("e-stop pressed: all outputs cut")
		c.emit(EventEStop, map[string]any{"pressed": true, "latched": true})
	case !c.in.estop && c.estopLatched && !c.estopNoted:
		c.estopNoted = true
		c.log.Warn("e-stop released: send reset to resume")
		c.emit(EventEStop, map[string]any{"pressed": false, "latched": true})
	}
}

// checkMains cuts the motions in progress when mains power is lost.
func (c *Controller) checkMains() {
	if c.in.mains {
		return
	}
	for _, mp := range []**motion{&c.lid, &c.arms} {
		if m := *mp; m != nil {
			c.raise(FaultMainsLostInMotion, "power: mains lost while "+m.spec.progressive)
			c.finish(mp, fmt.Errorf("%s: %w", m.spec.action, ErrPowerLost), ProgressFailed)
		}
	}
}

// checkLimits faults a part whose two limit switches both read closed.
func (c *Controller) checkLimits() {
	if c.onset(&c.lidConflict, c.in.lidOpen && c.in.lidClosed, FaultLidLimitsConflict) {
		c.raise(FaultLidLimitsConflict, "lid: open and closed limit switches both closed")
	}
	if c.lidConflict && c.lid != nil {
		c.finish(&c.lid, fmt.Errorf("%s: limit switches disagree: %w", c.lid.spec.action, ErrFault), ProgressFailed)
	}
	if c.onset(&c.armsConflict, c.in.armsReleased && c.in.armsClamped, FaultArmsLimitsConflict) {
		c.raise(FaultArmsLimitsConflict, "arms: released and clamped limit switches both closed")
	}
	if c.armsConflict && c.arms != nil {
		c.finish(&c.arms, fmt.Errorf("%s: limit switches disagree: %w", c.arms.spec.action, ErrFault), ProgressFailed)
	}
}
