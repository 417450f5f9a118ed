package dock

import (
	"fmt"
	"time"

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
		if c.onset(&c.outBlocked[o], blocked, FaultOutputInterlock) {
			c.raise(FaultOutputInterlock, fmt.Sprintf("%s: not energised while %s is still on", c.outs[o].name, c.outs[opp].name))
		}
		if want[o] && !c.level[o] && !blocked {
			c.write(now, o, true)
		}
	}
}

// write sets one output; a failure faults the dock and ends the motion
// using the output.
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
	if c.onset(&c.outFailed[o], err != nil, FaultOutputWriteFailed) {
		c.raise(FaultOutputWriteFailed, fmt.Sprintf("%s: cannot switch %s: %v", c.outs[o].name, onOff(on), err))
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
		if c.onset(&c.outFailed[o], err != nil, FaultOutputWriteFailed) {
			c.raise(FaultOutputWriteFailed, fmt.Sprintf("%s: cannot switch off: %v", c.outs[o].name, err))
		}
		if err != nil {
			continue
		}
		if c.level[o] {
			c.lastCut[o] = now
		}
		c.level[o] = false
	}
}
