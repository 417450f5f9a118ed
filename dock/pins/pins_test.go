package pins_test

import (
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/dockagent/dock-agent/dock/pins"
)

// An active-low output is off with its line high: Out inverts, and Halt,
// which stops an output, must leave the line high too.
func TestActiveLowOutHaltDeenergises(t *testing.T) {
	line := &gpiotest.Pin{N: "relay"}
	p := pins.ActiveLowOut(line)
	if err := p.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if line.L != gpio.Low {
		t.Fatalf("Out(High) drove the line %s, want Low (energised)", line.L)
	}
	if err := p.Halt(); err != nil {
		t.Fatal(err)
	}
	if line.L != gpio.High {
		t.Errorf("Halt left the line %s, want High (de-energised)", line.L)
	}
}
