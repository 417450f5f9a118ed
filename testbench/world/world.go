// Package world assembles the bench: pseudo-terminals with the simulated
// drone, dock I/O module and weather station on them, an MQTT broker, and
// the real agent as a child process on the world's scaled clock, plus a
// witness that checks the safety invariants of DESIGN.md §4 throughout.
// The bench command, the scenario runner, the load harness and end-to-end
// tests all build on it.
package world

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/testbench/agentproc"
	"github.com/dockagent/dock-agent/testbench/broker"
	"github.com/dockagent/dock-agent/testbench/drone"
	"github.com/dockagent/dock-agent/testbench/iomodule"
	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/dockagent/dock-agent/testbench/simclock"
	"github.com/dockagent/dock-agent/testbench/weathersim"
)

// IOWatchdog is the bench I/O module's communication watchdog: every coil
// off after this much simulated time without a request from the agent.
// At speed 20 it is 150 ms of real time, several times the agent's poll gap
// on a loaded machine; it keeps a motor from running on past its timeout
// when the RS-485 line is unplugged (invariant 6).
const IOWatchdog = 3 * time.Second

// Options configure a World. The zero value is the bench: real-time, the
// broker on 127.0.0.1:1883, the simulated drone, a temporary directory.
type Options struct {
	// Dir holds the ptys' links, the generated config, the agent's state
	// and log; empty makes a temporary directory removed by Close.
	Dir string
	// Speed runs the world and the agent this many times faster; 0 is 1.
	Speed float64
	// BrokerAddr is where the embedded broker listens; empty is
	// 127.0.0.1:1883, "127.0.0.1:0" picks a free port. Ignored with
	// BrokerURL.
	BrokerAddr string
	// BrokerURL uses an external broker (mosquitto) instead.
	BrokerURL string
	// VehicleURL replaces the simulated drone with a real autopilot
	// (tcp://, udp://, udpin:// or a serial path), e.g. ArduPilot SITL.
	VehicleURL string
	// GCS is the ground-station forward (udp://127.0.0.1:14550 by default;
	// "none" turns it off).
	GCS string
	// LidTravel and ArmsTravel override the physics (12 s, 4 s).
	LidTravel, ArmsTravel time.Duration
	// Edit changes the generated agent config before it is written.
	Edit func(*config.Config)
	// DemoSchedule keeps the bench config's hourly demo patrol (the bench
	// command). Off, the agent has no schedule: a scenario, a fault
	// campaign cell or a load run must not meet a patrol because it
	// happened to run across the top of an hour.
	DemoSchedule bool
	// AgentLog receives the agent's stderr; nil writes Dir/agent.log.
	AgentLog io.Writer
	// OnFrameWritten sees every frame the simulated drone wrote, with the
	// simulated time of the write (the load harness measures latency).
	OnFrameWritten func(frame []byte, at time.Time)
	// Logger receives the world's own logs; nil discards.
	Logger *slog.Logger
	// AgentBinary runs this dock-agent executable (cmd/agent, built as a
	// release is) as the agent, on its own real clock, instead of
	// re-executing this binary (MaybeRunAgent): the load harness measures
	// the program a dock runs, not the bench binary with the simulators
	// linked in. Only at Speed 1.
	AgentBinary string
}

// World is the running bench.
type World struct {
	opts   Options
	dir    string
	tmpDir bool
	log    *slog.Logger
	clock  *simclock.Clock

	Physics *physics.Dock
	IO      *iomodule.Module
	Weather *weathersim.Station
	Broker  *broker.Broker // nil with an external broker
	Config  *config.Config
	Agent   *agentproc.Agent
	Drone   *drone.Sim // nil with a real autopilot

	ptys       map[string]*pty.Pair // vehicle, io, weather
	cfgPath    string
	brokerURL  string
	agentLog   io.Writer
	logFile    *os.File
	witness    *Witness
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	droneState func() DroneState
	watch      *vehicleWatch // a real autopilot (VehicleURL), heard through the forward
}

// Start builds the world and starts the agent; it returns once the agent
// reported READY=1 (bounded by ctx).
func Start(ctx context.Context, opts Options) (*World, error) {
	if opts.Speed == 0 {
		opts.Speed = 1
	}
	if opts.Speed < 0 {
		return nil, fmt.Errorf("world: speed %g must be positive", opts.Speed)
	}
	if opts.AgentBinary != "" && opts.Speed != 1 {
		return nil, fmt.Errorf("world: agent binary %s runs on the real clock; speed %g needs the bench's own agent", opts.AgentBinary, opts.Speed)
	}
	w := &World{opts: opts, log: opts.Logger, ptys: map[string]*pty.Pair{}}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if err := w.build(); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.StartAgent(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *World) build() error {
	w.dir = w.opts.Dir
	if w.dir == "" {
		d, err := os.MkdirTemp("", "dock-bench-")
		if err != nil {
			return fmt.Errorf("world: %w", err)
		}
		w.dir, w.tmpDir = d, true
	} else if err := os.MkdirAll(w.dir, 0o750); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	now := time.Now()
	w.clock = simclock.New(now, now, w.opts.Speed)

	var err error
	w.Physics, err = physics.New(physics.Options{Clock: w.clock, LidTravel: w.opts.LidTravel, ArmsTravel: w.opts.ArmsTravel, VehiclePresent: true})
	if err != nil {
		return err
	}
	for _, name := range []string{"io", "weather", "vehicle"} {
		if name == "vehicle" && w.opts.VehicleURL != "" {
			continue
		}
		link := filepath.Join(w.dir, "tty-"+name)
		_ = os.Remove(link)
		p, err := pty.Open(pty.Options{Link: link})
		if err != nil {
			return fmt.Errorf("world: pty for %s: %w", name, err)
		}
		w.ptys[name] = p
	}
	// The module switches its coils off after 3 s (simulated) without a
	// request, as docs/hardware.md asks of a real one.
	w.IO, err = iomodule.New(iomodule.Options{Logger: w.log, Watchdog: IOWatchdog, Clock: w.clock}, w.ptys["io"], w.Physics)
	if err != nil {
		return err
	}
	w.Weather, err = weathersim.New(weathersim.Options{Logger: w.log, Initial: weathersim.Reading{
		WindMPS: 3, GustMPS: 5, DirDeg: 240, TempC: 14, HumidityPct: 62, InsideC: 18,
	}}, w.ptys["weather"])
	if err != nil {
		return err
	}

	w.brokerURL = w.opts.BrokerURL
	if w.brokerURL == "" {
		addr := w.opts.BrokerAddr
		if addr == "" {
			addr = "127.0.0.1:1883"
		}
		w.Broker = broker.New(addr, nil)
		if err := w.Broker.Start(); err != nil {
			return fmt.Errorf("world: %w (is another broker on %s? use -broker)", err, addr)
		}
		w.brokerURL = w.Broker.URL()
	}

	if w.opts.VehicleURL != "" {
		if w.watch, err = newVehicleWatch(route.Point{}, 0); err != nil {
			return err
		}
	}
	if err := w.writeConfig(); err != nil {
		return err
	}
	w.witness = newWitness(w)

	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() { _ = w.IO.Run(ctx) })
	w.wg.Go(func() { _ = w.Weather.Run(ctx) })
	if err := w.startDrone(ctx); err != nil {
		return err
	}
	w.wg.Go(func() { w.witness.run(ctx) })

	w.agentLog = w.opts.AgentLog
	if w.agentLog == nil {
		f, err := os.Create(filepath.Join(w.dir, "agent.log"))
		if err != nil {
			return fmt.Errorf("world: %w", err)
		}
		w.logFile, w.agentLog = f, f
	}
	proc := agentproc.Options{
		Env: []string{envChild + "=1", envConfig + "=" + w.cfgPath, envClock + "=" + clockEnv(w.clock)},
		Dir: w.dir, Stdout: w.agentLog, Stderr: w.agentLog,
	}
	if w.opts.AgentBinary != "" {
		proc.Path, proc.Args, proc.Env = w.opts.AgentBinary, []string{"-config", w.cfgPath}, nil
	}
	w.Agent, err = agentproc.New(proc)
	return err
}

// writeConfig generates the agent's config from the bench example.
func (w *World) writeConfig() error {
	cfg, err := config.Parse(config.BenchExample(), "bench.yaml")
	if err != nil {
		return fmt.Errorf("world: bench config: %w", err)
	}
	cfg.StateDir = filepath.Join(w.dir, "state")
	if !w.opts.DemoSchedule {
		cfg.Schedules = nil
	}
	cfg.MQTT.Brokers = []string{w.brokerURL}
	if w.opts.VehicleURL != "" {
		cfg.Vehicle.URL = w.opts.VehicleURL
		if strings.Contains(w.opts.VehicleURL, "://") {
			cfg.Vehicle.Baud = 0 // a network link has no baud rate
		}
	} else {
		cfg.Vehicle.URL = w.ptys["vehicle"].Path()
	}
	io, wx := cfg.Buses["io"], cfg.Buses["weather"]
	io.Device, wx.Device = w.ptys["io"].Path(), w.ptys["weather"].Path()
	cfg.Buses["io"], cfg.Buses["weather"] = io, wx
	switch gcs := w.opts.GCS; gcs {
	case "none":
		cfg.Vehicle.Forward = nil
	case "":
		cfg.Vehicle.Forward = []config.Forward{{URL: "udp://127.0.0.1:14550"}}
	default:
		cfg.Vehicle.Forward = []config.Forward{{URL: gcs}}
	}
	if w.watch != nil {
		// The witness hears a real autopilot as a ground station would.
		cfg.Vehicle.Forward = append(cfg.Vehicle.Forward, config.Forward{URL: w.watch.URL()})
		w.watch.pad, w.watch.padM = route.Point{Lat: cfg.Position.Lat, Lon: cfg.Position.Lon}, cfg.Position.PadRadiusM
	}
	// The serial and vehicle timeouts are real-time budgets (a reply on a
	// wire, a heartbeat through a busy board): faster clocks must not
	// shrink them below what a loaded machine delivers.
	if s := w.opts.Speed; s > 1 {
		for name, b := range cfg.Buses {
			b.Timeout = min(time.Duration(float64(b.Timeout)*s), 10*time.Second)
			cfg.Buses[name] = b
		}
		cfg.Vehicle.HeartbeatTimeout = time.Duration(float64(cfg.Vehicle.HeartbeatTimeout) * max(1, s/4))
	}
	if w.opts.Edit != nil {
		w.opts.Edit(cfg)
	}
	w.cfgPath = filepath.Join(w.dir, "agent.yaml")
	if err := config.WriteFile(w.cfgPath, cfg); err != nil {
		return fmt.Errorf("world: write agent config: %w", err)
	}
	// Read it back as the agent will: the file is the truth.
	w.Config, err = config.Load(w.cfgPath)
	if err != nil {
		return fmt.Errorf("world: generated config does not load: %w", err)
	}
	return nil
}

// StartAgent starts the agent process and waits for READY=1.
func (w *World) StartAgent(ctx context.Context) error {
	// A killed agent leaves go.bug.st/serial's exclusive lock on the slaves
	// we keep open; the restarted one would get EBUSY.
	for _, p := range w.ptys {
		_ = p.ClearExclusive()
	}
	if err := w.Agent.Start(); err != nil {
		return err
	}
	if _, err := w.Agent.Notify().WaitFor(ctx, "READY=1"); err != nil {
		return fmt.Errorf("agent not ready (see %s): %w", filepath.Join(w.dir, "agent.log"), err)
	}
	return nil
}

// KillAgent SIGKILLs the agent (a crash or power cut of the board).
func (w *World) KillAgent(ctx context.Context) error {
	err := w.Agent.Signal(ctx, syscall.SIGKILL)
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) {
		return nil // killed, as asked
	}
	return err
}

// StopAgent sends SIGTERM and waits for the exit.
func (w *World) StopAgent(ctx context.Context) error {
	return w.Agent.Signal(ctx, syscall.SIGTERM)
}

// Unplug pulls the named serial device (vehicle, io, weather) out.
func (w *World) Unplug(name string) error {
	p, ok := w.ptys[name]
	if !ok {
		return fmt.Errorf("world: no serial device %q (have vehicle, io, weather)", name)
	}
	return p.Unplug()
}

// Replug plugs it back in.
func (w *World) Replug(name string) error {
	p, ok := w.ptys[name]
	if !ok {
		return fmt.Errorf("world: no serial device %q (have vehicle, io, weather)", name)
	}
	return p.Replug()
}

// Clock is the world's scaled clock (the agent runs on the same one).
func (w *World) Clock() *simclock.Clock { return w.clock }

// Dir is the world's directory.
func (w *World) Dir() string { return w.dir }

// BrokerURL is the broker the agent uses.
func (w *World) BrokerURL() string { return w.brokerURL }

// Prefix is the dock's topic prefix.
func (w *World) Prefix() string { return w.Config.MQTT.TopicPrefix }

// PtyPath returns the path the agent opens for a serial device.
func (w *World) PtyPath(name string) string {
	if p, ok := w.ptys[name]; ok {
		return p.Path()
	}
	return ""
}

// Witness returns the invariant witness.
func (w *World) Witness() *Witness { return w.witness }

// Close stops the agent (SIGTERM, then SIGKILL) and everything else.
func (w *World) Close() {
	w.closeOnce.Do(func() {
		if w.Agent != nil {
			if w.Agent.PID() != 0 {
				ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
				_ = w.StopAgent(ctx)
				cancel()
			}
			_ = w.Agent.Close()
		}
		if w.cancel != nil {
			w.cancel()
		}
		for _, p := range w.ptys {
			_ = p.Close()
		}
		if w.watch != nil {
			_ = w.watch.conn.Close()
		}
		w.wg.Wait()
		if w.Broker != nil {
			_ = w.Broker.Stop()
		}
		if w.logFile != nil {
			_ = w.logFile.Close()
		}
		if w.tmpDir {
			_ = os.RemoveAll(w.dir)
		}
	})
}
