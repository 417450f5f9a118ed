package dock

import (
	"fmt"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/dock/fault"
	"periph.io/x/conn/v3/gpio"
)

// report is the result of the hardware self-test Run makes at start: every
// input set up and read, every output switched off.
type report struct {
	At      time.Time
	Inputs  []pinCheck
	Outputs []pinCheck
}

// pinCheck is the self-test result of one pin.
type pinCheck struct {
	Name  string // "lid_open_limit"
	Wired bool   // false for an optional input left unwired
	High  bool   // inputs: the logical level read
	Err   error  // nil when the pin answered
}

// OK reports whether every wired pin answered.
func (r report) OK() bool {
	for _, p := range append(append([]pinCheck(nil), r.Inputs...), r.Outputs...) {
		if p.Err != nil {
			return false
		}
	}
	return !r.At.IsZero()
}

// String renders the report for a person, one pin a line.
func (r report) String() string {
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "dock self-test passed at %s\n", r.At.Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "dock self-test FAILED at %s\n", r.At.Format(time.RFC3339))
	}
	for _, p := range r.Inputs {
		switch {
		case !p.Wired:
			fmt.Fprintf(&b, "  input  %-20s not wired\n", p.Name)
		case p.Err != nil:
			fmt.Fprintf(&b, "  input  %-20s ERROR %v\n", p.Name, p.Err)
		case p.High:
			fmt.Fprintf(&b, "  input  %-20s active\n", p.Name)
		default:
			fmt.Fprintf(&b, "  input  %-20s inactive\n", p.Name)
		}
	}
	for _, p := range r.Outputs {
		if p.Err != nil {
			fmt.Fprintf(&b, "  output %-20s ERROR %v\n", p.Name, p.Err)
		} else {
			fmt.Fprintf(&b, "  output %-20s off\n", p.Name)
		}
	}
	return b.String()
}

// failures lists the failing pins as "name: error".
func (r report) failures() []string {
	var out []string
	for _, p := range append(append([]pinCheck(nil), r.Inputs...), r.Outputs...) {
		if p.Err != nil {
			out = append(out, p.Name+": "+p.Err.Error())
		}
	}
	return out
}

// selfTest sets up and reads every input and switches every output off. It
// runs on the loop goroutine before the loop starts.
func (c *Controller) selfTest() report {
	r := report{At: c.clock.Now()}
	for _, in := range c.hw.inputs() {
		pc := pinCheck{Name: in.name, Wired: in.pin != nil}
		if in.pin != nil {
			if err := in.pin.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
				pc.Err = fmt.Errorf("set up input: %w", err)
			} else {
				pc.High = in.pin.Read() == gpio.High
			}
		}
		r.Inputs = append(r.Inputs, pc)
	}
	// Every output off in one step where the hardware can (CutAll: one
	// request per I/O module, not a round trip per relay, which held the
	// start up by ~2 ms a relay at 115200 bit/s). If that fails, each is
	// switched off on its own, so the report names the one that did not
	// answer.
	cut := false
	if c.opts.CutAll != nil {
		if err := c.opts.CutAll(); err != nil {
			c.log.Warn("self-test: switching every output off at once failed; switching each off", "err", err)
		} else {
			cut = true
		}
	}
	for o, out := range c.outs {
		pc := pinCheck{Name: out.name, Wired: true}
		if cut {
			c.level[o] = false
		} else if err := out.pin.Out(gpio.Low); err != nil {
			pc.Err = fmt.Errorf("switch off: %w", err)
		} else {
			c.level[o] = false
		}
		r.Outputs = append(r.Outputs, pc)
	}
	c.selfReport.Store(&r)
	return r
}

// reportStartup emits the selftest event with the reconciled state and
// faults the dock when a pin did not answer.
func (c *Controller) reportStartup(r report) {
	s := c.Snapshot()
	inputs := map[string]bool{}
	for _, p := range r.Inputs {
		if p.Wired && p.Err == nil {
			inputs[p.Name] = p.High
		}
	}
	fails := r.failures()
	c.emit(EventSelfTest, map[string]any{
		"ok":       r.OK(),
		"failures": fails,
		"inputs":   inputs,
		"lid":      string(s.Lid),
		"arms":     string(s.Arms),
		"vehicle":  map[string]any{"link": c.veh.Link, "armed": c.veh.Armed, "airborne": c.veh.Landed == LandedInAir},
	})
	if len(fails) > 0 {
		c.raise(fault.SelfTestFailed, "selftest: "+strings.Join(fails, "; "))
	}
	if r.OK() {
		c.log.Info("dock self-test passed", "lid", string(s.Lid), "arms", string(s.Arms), "vehicle_link", c.veh.Link)
	}
	if s.Lid == LidStopped {
		c.log.Warn("lid found between its limit switches: left where it is")
	}
	if c.veh.Landed == LandedInAir {
		c.log.Warn("vehicle found airborne at start: lid stays as it is", "lid", string(s.Lid))
	}
}
