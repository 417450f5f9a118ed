package iomodule_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/testbench/iomodule"
	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"
	"go.uber.org/goleak"
	"periph.io/x/conn/v3/gpio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor polls cond under a deadline: the module and the agent's poller
// are real IO on a pty.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
	return time.Since(start)
}

type bench struct {
	pair   *pty.Pair
	world  *physics.Dock
	clock  *clockwork.FakeClock
	sim    *iomodule.Module
	port   serial.Port
	client *modbus.Client
	mod    *modbus.Module
}

// start runs the simulated module on a pty and the agent side (serial
// port, client, polled module) on its slave path.
func start(t *testing.T) *bench {
	t.Helper()
	b := &bench{clock: clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))}
	var err error
	if b.pair, err = pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "ttyIO")}); err != nil {
		t.Fatal(err)
	}
	if b.world, err = physics.New(physics.Options{Clock: b.clock}); err != nil {
		t.Fatal(err)
	}
	if b.sim, err = iomodule.New(iomodule.Options{}, b.pair, b.world); err != nil {
		t.Fatal(err)
	}
	if b.port, err = serial.Open(b.pair.Path(), &serial.Mode{BaudRate: 115200}); err != nil {
		t.Fatal(err)
	}
	if b.client, err = modbus.NewClient(modbus.ClientOptions{Baud: 115200, Timeout: 50 * time.Millisecond}, b.port); err != nil {
		t.Fatal(err)
	}
	if b.mod, err = modbus.NewModule(modbus.ModuleOptions{Name: "io", Unit: iomodule.DefaultUnit, Inputs: 8, Coils: 8}, b.client); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.sim.Run(ctx); err != nil {
			t.Errorf("simulated module Run() = %v", err)
		}
	})
	wg.Go(func() { _ = b.mod.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		b.port.Close()
		b.pair.Close()
	})
	waitFor(t, "first poll", 2*time.Second, func() bool { return !b.mod.Health().Stale })
	return b
}

func TestModuleOverPty(t *testing.T) {
	b := start(t)
	lidOpen, lidClosed, estop := b.mod.Input(0), b.mod.Input(1), b.mod.Input(4)
	if !lidClosed.Read() || lidOpen.Read() {
		t.Fatalf("at start: lid_closed_limit %v, lid_open_limit %v; want High, Low", lidClosed.Read(), lidOpen.Read())
	}
	if err := b.mod.Output(0).Out(gpio.High); err != nil {
		t.Fatalf("Out(lid_open_motor) = %v", err)
	}
	if !b.world.Level(physics.LidOpenMotor) {
		t.Fatal("lid_open_motor Low in the world after Out(High) returned")
	}
	b.clock.Advance(physics.DefaultLidTravel)
	seen := waitFor(t, "lid_open_limit seen by the agent", 2*time.Second, func() bool { return bool(lidOpen.Read()) })
	t.Logf("limit switch change seen by the agent after %v (budget 50 ms)", seen)
	if err := b.mod.Output(0).Halt(); err != nil {
		t.Fatal(err)
	}

	edge := make(chan bool)
	go func() { edge <- estop.WaitForEdge(2 * time.Second) }()
	pressed := time.Now()
	b.world.SetEStop(true)
	if !<-edge {
		t.Fatal("WaitForEdge(estop) = false, want true")
	}
	t.Logf("e-stop edge seen after %v", time.Since(pressed))

	if got := b.client.Stats(); got.Timeouts != 0 || got.CRCErrors != 0 {
		t.Errorf("client Stats() = %+v, want no timeouts or crc errors on a healthy line", got)
	}
}

func TestModuleFaultsOverPty(t *testing.T) {
	tests := []struct {
		name   string
		faults rtuslave.Faults
		is     func(error) bool
	}{
		{"crc errors", rtuslave.Faults{CRCErrors: true}, func(err error) bool {
			var fe *modbus.FrameError
			return errors.As(err, &fe) && fe.Kind == modbus.FrameCRC
		}},
		{"silence", rtuslave.Faults{Silent: true}, func(err error) bool { return errors.Is(err, modbus.ErrTimeout) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := start(t)
			b.sim.SetFaults(tt.faults)
			_, err := b.client.ReadDiscreteInputs(t.Context(), iomodule.DefaultUnit, 0, 8)
			if !tt.is(err) {
				t.Fatalf("ReadDiscreteInputs with %+v = %v", tt.faults, err)
			}
			waitFor(t, "module health stale", 3*time.Second, func() bool {
				h := b.mod.Health()
				return h.Stale && tt.is(h.Err)
			})
			if err := b.mod.Output(7).Out(gpio.High); err == nil {
				t.Error("Out(strobe) on a faulty module = nil, want an error")
			}
			b.sim.SetFaults(rtuslave.Faults{})
			waitFor(t, "module health recovers", 3*time.Second, func() bool { return !b.mod.Health().Stale })
		})
	}
}

func TestModuleUnplugOverPty(t *testing.T) {
	b := start(t)
	if err := b.pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "module health reports the dead port", 3*time.Second, func() bool {
		h := b.mod.Health()
		var fe *modbus.FrameError
		return h.Err != nil && !errors.Is(h.Err, modbus.ErrTimeout) && !errors.As(h.Err, &fe)
	})
	t.Logf("unplugged: %v", b.mod.Health().Err)
	if err := b.pair.Replug(); err != nil {
		t.Fatal(err)
	}
	// The agent reopens the stable path, as after a USB replug.
	port, err := serial.Open(b.pair.Path(), &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("reopen %s after replug: %v", b.pair.Path(), err)
	}
	defer port.Close()
	c, err := modbus.NewClient(modbus.ClientOptions{Baud: 115200}, port)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.ReadDiscreteInputs(t.Context(), iomodule.DefaultUnit, 0, 8)
	if err != nil {
		t.Fatalf("ReadDiscreteInputs after replug = %v", err)
	}
	if !in[1] {
		t.Error("lid_closed_limit Low after replug, want High")
	}
}

// TestWatchdogCutsCoilsWhenMasterSilent: with no request from the master
// for the watchdog time, every coil goes off (a motor the master can no
// longer stop is stopped by the module).
func TestWatchdogCutsCoilsWhenMasterSilent(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "ttyIO")})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	world, err := physics.New(physics.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := iomodule.New(iomodule.Options{Watchdog: 2 * time.Second, Clock: clock}, pair, world)
	if err != nil {
		t.Fatal(err)
	}
	motor := world.Pin(iomodule.DefaultCoils()[0])
	if err := motor.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sim.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	// Time moves in 100 ms steps, each waiting for the watchdog's ticker.
	step := func() {
		if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(100 * time.Millisecond)
	}
	for range 15 {
		step()
	}
	if sim.WatchdogTrips() != 0 || motor.Read() != gpio.High {
		t.Fatalf("watchdog tripped within 1.5 s of a 2 s watchdog")
	}
	waitFor(t, "coil off by the watchdog", 5*time.Second, func() bool {
		step()
		return sim.WatchdogTrips() == 1
	})
	if d := clock.Since(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)); d > 3*time.Second {
		t.Errorf("watchdog tripped %v after the last request, want about 2 s", d)
	}
	if motor.Read() != gpio.Low {
		t.Errorf("coil %s still on after the watchdog tripped", iomodule.DefaultCoils()[0])
	}
}
