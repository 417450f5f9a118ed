package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/iomodule"
	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/pty"
)

// TestCutAllDropsAnActiveLowCoil: the e-stop's one-request cut writes each
// coil's off level. A relay bound active-low (off while its coil is
// energised) is switched off by a High coil; a Low one, which the cut once
// wrote to every coil, would switch it on at an e-stop. Real agent wiring,
// a real pty and the bench's Modbus I/O module.
func TestCutAllDropsAnActiveLowCoil(t *testing.T) {
	world, err := physics.New(physics.Options{VehiclePresent: true})
	if err != nil {
		t.Fatal(err)
	}
	port, err := pty.Open(pty.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	mod, err := iomodule.New(iomodule.Options{}, port, world)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = mod.Run(ctx) }()

	cfg, err := config.Parse(config.BenchExample(), "bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	io := cfg.Buses["io"]
	io.Device = port.Path()
	cfg.Buses["io"] = io
	delete(cfg.Buses, "weather")
	cfg.Weather = config.Weather{}
	strobe := cfg.Signals[config.SignalStrobe]
	strobe.ActiveLow = true
	cfg.Signals[config.SignalStrobe] = strobe

	h, err := buildHardware(cfg, clockwork.NewRealClock(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	go h.run(ctx)
	if err := h.waitRead(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	heater := h.pins.Heater
	if err := heater.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if err := h.pins.Strobe.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if world.Level(physics.Heater) != gpio.High || world.Level(physics.Strobe) != gpio.Low {
		t.Fatalf("before the cut: heater coil %s, active-low strobe coil %s; want High, Low (both on)",
			world.Level(physics.Heater), world.Level(physics.Strobe))
	}
	if err := h.cutAll(); err != nil {
		t.Fatal(err)
	}
	if got := world.Level(physics.Heater); got != gpio.Low {
		t.Errorf("heater coil %s after the cut, want Low (off)", got)
	}
	if got := world.Level(physics.Strobe); got != gpio.High {
		t.Errorf("active-low strobe coil %s after the cut, want High (off)", got)
	}
}
