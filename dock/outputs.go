package dock

import (
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/dock/fault"
	"periph.io/x/conn/v3/gpio"
)

// The controller loop's writing side: each output set from the motions,
// the charger and the climate, checked against the interlocks right before
// it changes.

// stepCharger keeps invariant 5: the charger is switched off, and the wish
// for it forgotten, as soon as the vehicle is not docked and disarmed.
func (c *Controller) stepCharger() {
	if !c.chargerWant {
		return
	}
	if why := c.notDocked(); why != "" {
		c.chargerWant = false
		c.log.Warn("charger switched off", "reason", why)
	}
}

// apply writes the outputs the state asks for: first every output that must
// be off, then the ones that must be on, each checked against its opposite
// right before it changes.
func (c *Controller) apply(now time.Time) {
	var want [numOutputs]bool
	if !c.estopLatched {
		for _, m := range []*motion{c.lid, c.arms} {
			if m != nil && !now.Before(m.startAt) {
				want[m.spec.out] = true
			}
		}
		want[outCharger] = c.chargerWant
		want[outHeater] = c.heater
		want[outFan] = c.fan
		want[outStrobe] = c.strobeOn
	}
	for o := range numOutputs {
		if !want[o] && (c.level[o] || c.estopLatched) {
			c.write(now, o, false)
		}
	}
	for o := range numOutputs {
		opp := o.opposite()
		// Both directions of one motor: never. When the off pass above
		// failed to cut the opposite, try again next iteration.
		blocked := want[o] && !c.level[o] && opp >= 0 && c.level[opp]
		if c.onset(&c.outBlocked[o], blocked, fault.OutputInterlock) {
			c.raise(fault.OutputInterlock, fmt.Sprintf("%s: not energised while %s is still on", c.outs[o].name, c.outs[opp].name))
		}
		if want[o] && !c.level[o] && !blocked {
			c.write(now, o, true)
		}
	}
}

// write sets one output; a failure faults the dock (an auxiliary output's
// only when it lasts: retryAux) and ends the motion using the output.
func (c *Controller) write(now time.Time, o output, on bool) {
	if !on && c.estopLatched && !c.level[o] {
		// Latched: every output is written low once on the press (in
		// endAll's iteration) and then only when it was on.
		return
	}
	l := gpio.Low
	if on {
		l = gpio.High
	}
	err := c.outs[o].pin.Out(l)
	if c.retryAux(now, o, on, err) {
		return
	}
	if c.onset(&c.outFailed[o], err != nil, fault.OutputWriteFailed) {
		c.raise(fault.OutputWriteFailed, fmt.Sprintf("%s: cannot switch %s: %v", c.outs[o].name, onOff(on), err))
	}
	if err != nil {
		for _, mp := range []**motion{&c.lid, &c.arms} {
			if m := *mp; m != nil && m.spec.out == o {
				c.finish(mp, fmt.Errorf("%s: switch %s: %w", m.spec.action, c.outs[o].name, err), ProgressFailed)
			}
		}
		if o == outCharger {
			c.chargerWant = false
		}
		return
	}
	if c.level[o] && !on {
		c.lastCut[o] = now
	}
	c.level[o] = on
}

// auxWriteGrace is how long the writes of an auxiliary output may keep
// failing before output.write_failed is raised (docs/operations.md).
const auxWriteGrace = 5 * time.Second

// auxiliary reports whether no safety invariant rests on o: the strobe,
// the heater and the fan. The motors and the charger are not auxiliary:
// their failed writes fault the dock at once.
func (o output) auxiliary() bool {
	return o == outHeater || o == outFan || o == outStrobe
}

// retryAux reports whether err, the result of writing o, is to be left to
// the retry of the next loop iteration without a fault: o is auxiliary and
// its writes have been failing for less than auxWriteGrace. A warning light
// that missed one flash on a noisy bus (one Modbus reply late) is not a
// reason to ground the dock until a person resets it; one that stays dark
// (a dead relay, a wrong coil) still latches output.write_failed. A write
// that succeeds ends the streak.
func (c *Controller) retryAux(now time.Time, o output, on bool, err error) bool {
	if err == nil {
		if !c.auxFailSince[o].IsZero() {
			c.log.Info("output written again", "output", c.outs[o].name, "failing_for", now.Sub(c.auxFailSince[o]))
			c.auxFailSince[o] = time.Time{}
		}
		return false
	}
	if !o.auxiliary() {
		return false
	}
	if c.auxFailSince[o].IsZero() {
		c.auxFailSince[o] = now
		c.log.Warn("output write failed, retrying", "output", c.outs[o].name, "on", on, "grace", auxWriteGrace, "err", err)
	}
	return now.Sub(c.auxFailSince[o]) < auxWriteGrace
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// endAll ends every motion with err, forgets the charger and asks for every
// output off, writing all of them now.
func (c *Controller) endAll(err error, status ProgressStatus) {
	for _, mp := range []**motion{&c.lid, &c.arms} {
		if *mp != nil {
			c.finish(mp, err, status)
		}
	}
	c.chargerWant = false
	now := c.clock.Now()
	for o := range numOutputs {
		err := c.outs[o].pin.Out(gpio.Low)
		if c.onset(&c.outFailed[o], err != nil, fault.OutputWriteFailed) {
			c.raise(fault.OutputWriteFailed, fmt.Sprintf("%s: cannot switch off: %v", c.outs[o].name, err))
		}
		if err != nil {
			continue
		}
		c.auxFailSince[o] = time.Time{}
		if c.level[o] {
			c.lastCut[o] = now
		}
		c.level[o] = false
	}
}
