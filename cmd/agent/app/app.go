// Package app wires the dock agent together: config to hardware pins, the
// dock controller, the weather station, the vehicle link with its ground
// station forward and flight logs, the sortie engine, the MQTT service and
// the metrics endpoint, with systemd notification and an orderly shutdown.
// cmd/agent calls Run; the bench runs the very same Run in a process of its
// own.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/sortie"
	"github.com/dockagent/dock-agent/internal/rawio"
	"github.com/dockagent/dock-agent/mavlink/router"
	"github.com/dockagent/dock-agent/rs485/weatherstation"
	"github.com/dockagent/dock-agent/telemetry"
	"github.com/dockagent/dock-agent/telemetry/dockpage"
)

// Options are what Run needs besides the config.
type Options struct {
	// Config is the loaded, validated config (config.Load).
	Config *config.Config
	// Version is reported in the MQTT status, metrics and logs.
	Version string
	// Logger is the agent's logger; nil discards.
	Logger *slog.Logger
	// Clock drives everything; nil is the real clock. The bench passes its
	// scaled clock.
	Clock clockwork.Clock
	// Notifier receives sd_notify messages; nil talks to systemd (a no-op
	// outside it).
	Notifier Notifier
	// WatchdogInterval is systemd's WatchdogSec; zero asks systemd
	// (WATCHDOG_USEC), negative turns the pings off.
	WatchdogInterval time.Duration
	// ClockSynced says whether the system clock is synchronised (the dock
	// state's clock_synced); nil asks the kernel (adjtimex).
	ClockSynced func() (bool, error)
}

// Start-up and shutdown bounds.
const (
	// hardwareReadTimeout bounds the wait for the first read of every I/O
	// module before READY; a module that does not answer by then holds the
	// dock in fault and start-up goes on.
	hardwareReadTimeout = 2 * time.Second
	// brokerWait bounds the wait for the first broker connection before
	// READY (the connection keeps being retried after it).
	brokerWait = 3 * time.Second
	// loopBeat is how often the controller loop feeds the watchdog.
	loopBeat = 500 * time.Millisecond
	// loopIdle is the longest the controller loop rests between input
	// changes when every input is a Modbus module input whose poller
	// wakes it (docs/performance.md): a resting dock costs 10 wake-ups a
	// second instead of 100.
	loopIdle = 100 * time.Millisecond
)

// Run runs the agent until ctx ends, then shuts down in order: command
// intake stops, the sortie engine stops (a vehicle in the air is sent
// nothing), every actuator is de-energised, the event outbox is flushed.
// It returns nil after a clean shutdown and an error when the agent could
// not start or a part failed.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	if cfg == nil {
		return errors.New("run agent: no config")
	}
	clock := o.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	notify := o.Notifier
	if notify == nil {
		notify = systemdNotifier{log: log}
	}
	wdInterval := o.WatchdogInterval
	if wdInterval == 0 {
		if d, err := daemon.SdWatchdogEnabled(false); err == nil {
			wdInterval = d
		}
	}
	// Every line names the dock; "agent" is the component of app's own lines,
	// replaced by each part's (the logger keeps one value per key).
	log = log.With("dock_id", cfg.ID, "component", "agent")
	started := clock.Now()
	notify.Notify("STATUS=starting")

	a, err := build(o.Version, cfg, clock, log, notify, wdInterval)
	if err != nil {
		return err
	}
	defer a.close()
	a.started = started
	a.clockSynced = o.ClockSynced
	if a.clockSynced == nil {
		a.clockSynced = kernelClockSynced
	}
	return a.run(ctx)
}

// build makes every part of the agent, in the order data flows back (see
// below), and returns them unstarted. On an error what was opened is
// closed again.
func build(version string, cfg *config.Config, clock clockwork.Clock, log *slog.Logger, notify Notifier, wdInterval time.Duration) (_ *agent, err error) {
	a := &agent{cfg: cfg, version: version, clock: clock, log: log, notify: notify}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	hw, err := buildHardware(cfg, clock, log.With("component", "hardware"))
	if err != nil {
		return nil, fmt.Errorf("wire dock hardware: %w", err)
	}
	a.hw = hw
	pace := newIOPace(cfg, hw, clock) // nil unless a bus has idle_poll_interval

	veh, err := newVehicleLink(cfg, clock, log.With("component", "vehicle"))
	if err != nil {
		return nil, fmt.Errorf("vehicle link: %w", err)
	}
	guard := newInboundGuard(inboundOptionsFromConfig(cfg, log.With("component", "inbound")), veh.write, veh.State)
	fwd, err := newForwarder(cfg, veh, guard, clock, log.With("component", "router"))
	if err != nil {
		return nil, err
	}
	flog, err := newFlightLog(cfg, veh, clock, log.With("component", "flightlog"))
	if err != nil {
		return nil, err
	}

	// Built in the order data flows back: the outbox (the dock emits into
	// it), the metrics (they count the dock's events and motions), the
	// controller, the engine, then the MQTT service that hands commands to
	// both. The metrics read the controller and the service per scrape; the
	// server runs only once all are built.
	topts := telemetryOptions(cfg, version, clock, log.With("component", "telemetry"))
	outbox, err := telemetry.OpenOutbox(topts)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	a.outbox = outbox
	var ctrl *dock.Controller
	var svc *telemetry.Service
	state := lateState{ctrl: &ctrl}
	wd := &watchdog{interval: max(wdInterval, 0), clock: clock, notify: notify}
	page, err := newPage(cfg, state, veh, clock, log.With("component", "page"))
	if err != nil {
		return nil, err
	}
	var pageHandler http.Handler
	if page != nil {
		pageHandler = page.Handler()
	}
	mx, err := newMetrics(cfg, version, veh, func() telemetry.Health { return svc.Health() }, state.Snapshot, wd, hw, fwd, pageHandler, clock, log.With("component", "metrics"))
	if err != nil {
		return nil, err
	}
	events := mx.eventSink(outbox)
	if page != nil {
		// The page shows what the outbox stored, in the order it did.
		events = page.EventSink(events)
	}
	copts := controllerOptions(cfg, wd, hw, clock, log.With("component", "controller"))
	if mx.m != nil {
		copts.OnMotion = motionCounter(mx.m)
	}
	ctrl, err = dock.NewController(copts, hw.pins, veh.State, events)
	if err != nil {
		return nil, fmt.Errorf("dock controller: %w", err)
	}
	guard.setInterlocks(ctrl)
	if mx.m != nil {
		guard.onRefused(mx.m.InboundRefused)
	}
	station, err := buildWeather(cfg, hw, ctrl.SetWeather, log.With("component", "weather"))
	if err != nil {
		return nil, err
	}
	engine, err := buildEngine(cfg, ctrl, pace, veh, events, flog, clock, log.With("component", "sortie"))
	if err != nil {
		return nil, err
	}

	topts.CommandDone = mx.commandDone()
	if cfg.MQTT.MAVLinkBridge {
		// The bridge's frames pass the inbound guard; the answer to a
		// refused one goes out on mavlink/out, where its sender listens.
		topts.Bridge = func(frame []byte) error {
			reply, err := guard.send(bridgeSource, frame)
			if reply != nil {
				svc.PublishFrame(reply)
			}
			if errors.Is(err, router.ErrRefused) {
				return nil // counted and logged by the guard, not a link failure
			}
			return err
		}
		topts.BridgeRefused = guard.bridgeRefused
	}
	svc, err = telemetry.NewService(topts, outbox, telemetry.Dock{Sorties: engine, Maintenance: ctrl}, ctrl, veh.State)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	if cfg.MQTT.MAVLinkBridge {
		addBridgeTap(veh, svc.PublishFrame, cfg.MQTT.MAVLinkBridgeBatch)
	}

	a.veh, a.fwd, a.flog, a.wd, a.page, a.mx = veh, fwd, flog, wd, page, mx
	a.ctrl, a.station, a.engine, a.svc = ctrl, station, engine, svc
	return a, nil
}

// run starts the parts in three groups, reports READY, and on ctx's end
// or a part's failure stops them in order (STYLE.md §3).
func (a *agent) run(ctx context.Context) error {
	cfg, clock, log, notify := a.cfg, a.clock, a.log, a.notify
	hw, veh, fwd, flog, wd, page, mx := a.hw, a.veh, a.fwd, a.flog, a.wd, a.page, a.mx
	ctrl, station, engine, svc, started := a.ctrl, a.station, a.engine, a.svc, a.started
	// Three groups, stopped in order at shutdown: intake (MQTT), the dock
	// (engine and controller), then what it reads (pins, weather, vehicle
	// link, forward, metrics).
	ioCtx, stopIO := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIO()
	dockCtx, stopDock := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDock()
	mqttCtx, stopMQTT := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMQTT()
	var ioWG, dockWG, mqttWG sync.WaitGroup
	runErr := make(chan error, 8)
	part := func(name string, run func(context.Context) error, ctx context.Context) func() {
		return func() {
			if err := run(ctx); err != nil {
				runErr <- fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	ioWG.Go(func() { hw.run(ioCtx) })
	if station != nil {
		ioWG.Go(part("weather station", station.Run, ioCtx))
	}
	ioWG.Go(part("vehicle link", veh.Run, ioCtx))
	if fwd != nil {
		ioWG.Go(part("ground station forward", fwd.Run, ioCtx))
	}
	ioWG.Go(func() { wd.Run(ioCtx) })
	if mx.server != nil {
		ioWG.Go(part("metrics", mx.server.Run, ioCtx))
	}
	if page != nil {
		ioWG.Go(part("dock page", page.Run, ioCtx))
	}

	// READY once the hardware has been read and the broker tried. The
	// controller starts on read inputs, so that it finds the parts where
	// they are; the MQTT side starts on a read dock, so that the first
	// retained state is true, not "unknown".
	if err := hw.waitRead(ctx, hardwareReadTimeout); err != nil {
		log.Error("dock hardware not readable at start; the dock stays in fault until it answers", "err", err)
	}
	dockWG.Go(part("dock controller", ctrl.Run, dockCtx))
	if _, err := ctrl.Refresh(ctx); err != nil && ctx.Err() == nil {
		log.Error("dock state not read at start", "err", err)
	}
	dockWG.Go(part("sortie engine", engine.Run, dockCtx))
	mqttWG.Go(part("mqtt", svc.Run, mqttCtx))
	if !waitConnected(ctx, clock, svc, brokerWait) && ctx.Err() == nil {
		log.Error("mqtt broker not reachable at start; retrying in the background", "brokers", cfg.MQTT.Brokers)
	}
	if ctx.Err() == nil {
		notify.Notify(daemon.SdNotifyReady)
		log.Info("dock agent ready", "version", a.version, "startup", clock.Since(started).Round(time.Millisecond))
	}
	st := &statusLine{notify: notify}
	st.update(ctrl.Snapshot(), svc.Health(), veh.State())
	cw := &clockWatch{read: a.clockSynced, set: ctrl.SetClockSynced, log: log}
	cw.check(clock.Now())

	t := clock.NewTicker(time.Second)
	defer t.Stop()
	var failed error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case failed = <-runErr:
			log.Error("agent part failed; shutting down", "err", failed)
			break loop
		case <-t.Chan():
			st.update(ctrl.Snapshot(), svc.Health(), veh.State())
			cw.check(clock.Now())
		}
	}

	// Orderly shutdown (STYLE.md §3), within 5 s.
	stopping := clock.Now()
	notify.Notify(daemon.SdNotifyStopping)
	notify.Notify("STATUS=stopping")
	log.Info("shutting down")
	stopMQTT() // intake stops first; the outbox flushes with its own deadline
	stopDock() // the engine stops, the controller ends motions and cuts every output
	dockWG.Wait()
	if err := ctrl.Halt(); err != nil {
		log.Error("de-energise outputs at shutdown", "err", err)
	}
	if err := flog.stop(); err != nil {
		log.Error("close flight log", "err", err)
	}
	stopIO()
	ioWG.Wait()
	mqttWG.Wait()
	log.Info("dock agent stopped", "shutdown", clock.Since(stopping).Round(time.Millisecond))
	return failed
}

// agent is every part of a running agent: build makes them, run runs
// them, close releases what build opened.
type agent struct {
	cfg     *config.Config
	version string
	clock   clockwork.Clock
	log     *slog.Logger
	notify  Notifier
	started time.Time
	// clockSynced reads whether the system clock is synchronised.
	clockSynced func() (bool, error)

	hw      *hardware
	veh     *vehicleLink
	fwd     *router.Router
	flog    *flightLog
	outbox  *telemetry.Outbox
	wd      *watchdog
	page    *dockpage.Page
	mx      *agentMetrics
	ctrl    *dock.Controller
	station *weatherstation.Station
	engine  *sortie.Engine
	svc     *telemetry.Service
}

// close releases the outbox and the hardware, whatever build got to.
func (a *agent) close() {
	if a.outbox != nil {
		if err := a.outbox.Close(); err != nil {
			a.log.Error("close outbox", "err", err)
		}
	}
	if a.hw != nil {
		a.hw.close()
	}
}

// waitConnected waits up to d for the first broker connection.
func waitConnected(ctx context.Context, clock clockwork.Clock, svc *telemetry.Service, d time.Duration) bool {
	ctx, cancel := clockwork.WithTimeout(ctx, clock, d)
	defer cancel()
	t := clock.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !svc.Health().Connected {
		select {
		case <-ctx.Done():
			return false
		case <-t.Chan():
		}
	}
	return true
}

func controllerOptions(cfg *config.Config, wd *watchdog, hw *hardware, clock clockwork.Clock, log *slog.Logger) dock.ControllerOptions {
	cl := cfg.Climate
	var idle time.Duration
	var changed <-chan struct{}
	if hw.inputsReport {
		idle, changed = loopIdle, hw.changed
	}
	return dock.ControllerOptions{
		LidTimeout:        cfg.Actuators.LidTimeout,
		ArmsTimeout:       cfg.Actuators.ArmsTimeout,
		LimitLeaveTimeout: cfg.Actuators.LimitLeaveTimeout,
		ClearanceAltM:     cfg.Limits.ClearanceAltM,
		DockLat:           cfg.Position.Lat,
		DockLon:           cfg.Position.Lon,
		PadRadiusM:        cfg.Position.PadRadiusM,
		HeaterOnC:         cl.HeaterOnBelowC,
		HeaterOffC:        cl.HeaterOnBelowC + cl.HysteresisC,
		FanOnC:            cl.FanOnAboveC,
		FanOffC:           cl.FanOnAboveC - cl.HysteresisC,
		WeatherStaleAfter: cfg.Weather.StaleAfter,
		Watchdog:          wd.Beat,
		WatchdogInterval:  loopBeat,
		InputsHealthy:     hw.inputsHealthy,
		CutAll:            hw.cutAll,
		IdleInterval:      idle,
		InputsChanged:     changed,
		Clock:             clock,
		Logger:            log,
	}
}

func telemetryOptions(cfg *config.Config, version string, clock clockwork.Clock, log *slog.Logger) telemetry.Options {
	m := cfg.MQTT
	o := telemetry.Options{
		Prefix:                  m.TopicPrefix,
		BrokerURLs:              m.Brokers,
		ClientID:                m.ClientID,
		Username:                m.Username,
		Password:                string(m.PasswordSecret()),
		StateDir:                cfg.StateDir,
		TelemetryRate:           m.TelemetryRateHz,
		StateInterval:           m.StateInterval,
		TelemetryDockedInterval: m.TelemetryDockedInterval,
		DedupeWindow:            m.DedupeWindow,
		MaxEvents:               m.OutboxMaxEvents,
		Version:                 version,
		Position:                &telemetry.Position{Lat: cfg.Position.Lat, Lon: cfg.Position.Lon, AltM: cfg.Position.AltM},
		Logger:                  log,
		Clock:                   clock,
		// Broker reads and writes with raw system calls (docs/performance.md).
		DialTCP: rawio.DialTCP,
	}
	if m.TLS != nil {
		o.CAFile, o.CertFile, o.KeyFile, o.ServerName = m.TLS.CAFile, m.TLS.CertFile, m.TLS.KeyFile, m.TLS.ServerName
	}
	if m.CommandSigning != nil {
		o.SigningKey = []byte(m.CommandSigning.Key())
		o.SigningWindow = m.CommandSigning.Window
	}
	return o
}

// lateState is the controller's state for the parts built before it (the
// metrics, the dock page): they read it only once everything runs; until
// the controller exists it is the zero state (not ready, no readings).
type lateState struct{ ctrl **dock.Controller }

func (l lateState) Snapshot() dock.State {
	if *l.ctrl == nil {
		return dock.State{}
	}
	return (*l.ctrl).Snapshot()
}

func (l lateState) Subscribe() (<-chan dock.State, func()) { return (*l.ctrl).Subscribe() }
