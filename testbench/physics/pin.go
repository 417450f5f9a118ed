package physics

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"

	"github.com/dockagent/dock-agent/internal/pinedge"
)

// Pin is one signal of a Dock as a gpio.PinIO. On an output, Out drives it
// and Read returns the driven level; on an input, Read returns the level
// now, WaitForEdge waits (on the dock's clock) for a change matching the
// edge set by In (BothEdges by default), and Out is refused. Safe for
// concurrent use.
type Pin struct {
	d   *Dock
	sig Signal

	edges *pinedge.Edges
}

// notify queues an edge. Called with the dock locked.
func (p *Pin) notify(l gpio.Level) { p.edges.Changed(l) }

// String implements conn.Resource.
func (p *Pin) String() string { return string(p.sig) }

// Halt drives an output Low; on an input it wakes a pending WaitForEdge.
func (p *Pin) Halt() error {
	if p.sig.IsOutput() {
		return p.Out(gpio.Low)
	}
	return p.In(gpio.PullNoChange, gpio.BothEdges)
}

// Name implements pin.Pin: the signal name.
func (p *Pin) Name() string { return string(p.sig) }

// Number implements pin.Pin: -1, a simulated signal has no number.
func (p *Pin) Number() int { return -1 }

// Function implements pin.Pin.
func (p *Pin) Function() string {
	if p.sig.IsOutput() {
		return string(gpio.OUT)
	}
	return string(gpio.IN)
}

// Func implements pin.PinFunc.
func (p *Pin) Func() pin.Func { return pin.Func(p.Function()) }

// In sets the edges reported, drops a pending edge and wakes a pending
// WaitForEdge. Refused on an output.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	if p.sig.IsOutput() {
		return fmt.Errorf("physics pin %s: an output cannot be an input", p.sig)
	}
	p.edges.Set(edge)
	return nil
}

// Read returns the signal's level now.
func (p *Pin) Read() gpio.Level { return p.d.Level(p.sig) }

// WaitForEdge waits for a matching change for at most timeout on the
// dock's clock (-1: forever); false on timeout or when In re-arms the pin.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	return p.edges.Wait(p.d.clock, timeout)
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull { return gpio.Float }

// DefaultPull implements gpio.PinIn.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.Float }

// Out drives an output signal; refused on an input (use the Dock's
// setters to press buttons).
func (p *Pin) Out(l gpio.Level) error {
	if !p.sig.IsOutput() {
		return fmt.Errorf("physics pin %s: an input cannot be driven", p.sig)
	}
	p.d.setOutput(p.sig, l)
	return nil
}

// PWM implements gpio.PinOut; not supported.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("physics pin %s: pwm not supported", p.sig)
}

var _ gpio.PinIO = (*Pin)(nil)
