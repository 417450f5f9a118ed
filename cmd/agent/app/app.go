// Package app wires the dock agent together: config to hardware pins, the
// dock controller, the weather station, the vehicle link, the sortie
// engine and the MQTT service, with systemd notification and an orderly
// shutdown. cmd/agent calls Run; the bench runs the very same Run in a
// process of its own.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry"
)

// Options are what Run needs besides the config.
type Options struct {
	// Config is the loaded, validated config (config.Load).
	Config *config.Config
	// Version is reported in the MQTT status and logs.
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
)

// Run runs the agent until ctx ends, then shuts down in order: command
// intake stops, every actuator is de-energised, the event outbox is
// flushed, and the vehicle is sent nothing. It returns nil after a clean
// shutdown and an error when the agent could not start.
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
	log = log.With("dock", cfg.ID)
	started := clock.Now()
	notify.Notify("STATUS=starting")

	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	hw, err := buildHardware(cfg, clock, log.With("component", "hardware"))
	if err != nil {
		return fmt.Errorf("wire dock hardware: %w", err)
	}
	defer hw.close()

	veh, err := newVehicleLink(cfg, clock, log.With("component", "vehicle"))
	if err != nil {
		return fmt.Errorf("vehicle link: %w", err)
	}

	// The service is made before the controller (whose events it stores), so
	// it gets the commander and the state source filled in before Run.
	cmdr := &commander{}
	state := &stateSource{}
	svc, err := telemetry.NewService(telemetryOptions(cfg, o.Version, clock, log.With("component", "telemetry")), cmdr, state, veh.State)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	defer func() {
		if err := svc.Close(); err != nil {
			log.Error("close outbox", "err", err)
		}
	}()

	wd := &watchdog{interval: max(wdInterval, 0), clock: clock, notify: notify}
	ctrl, err := dock.NewController(controllerOptions(cfg, wd, hw, clock, log.With("component", "controller")), hw.pins, veh.State, svc.Events())
	if err != nil {
		return fmt.Errorf("dock controller: %w", err)
	}
	station, err := buildWeather(cfg, hw, ctrl.SetWeather, log.With("component", "weather"))
	if err != nil {
		return err
	}
	if err := cmdr.init(cfg, ctrl, veh, svc.Events(), clock, log); err != nil {
		return err
	}
	state.ctrl = ctrl

	// Three groups, stopped in order at shutdown: intake (MQTT), the dock
	// controller, then what it reads (pins, weather, vehicle link).
	ioCtx, stopIO := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIO()
	ctrlCtx, stopCtrl := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCtrl()
	mqttCtx, stopMQTT := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMQTT()
	var ioWG, ctrlWG, mqttWG sync.WaitGroup
	runErr := make(chan error, 4)
	ioWG.Go(func() { hw.run(ioCtx) })
	if station != nil {
		ioWG.Go(func() { _ = station.Run(ioCtx) })
	}
	ioWG.Go(func() {
		if err := veh.Run(ioCtx); err != nil {
			runErr <- fmt.Errorf("vehicle link: %w", err)
		}
	})
	ioWG.Go(func() { wd.Run(ioCtx) })

	// READY once the hardware has been read and the broker tried. The
	// controller starts on read inputs, so that it finds the parts where
	// they are.
	if err := hw.waitRead(ctx, hardwareReadTimeout); err != nil {
		log.Error("dock hardware not readable at start; the dock stays in fault until it answers", "err", err)
	}
	ctrlWG.Go(func() {
		if err := ctrl.Run(ctrlCtx); err != nil {
			runErr <- fmt.Errorf("dock controller: %w", err)
		}
	})
	ctrlWG.Go(func() {
		if err := cmdr.run(ctrlCtx); err != nil {
			runErr <- err
		}
	})
	if _, err := ctrl.Refresh(ctx); err != nil && ctx.Err() == nil {
		log.Error("dock state not read at start", "err", err)
	}
	// The MQTT side starts on a read dock, so the first retained state is
	// true, not "unknown".
	mqttWG.Go(func() {
		if err := svc.Run(mqttCtx); err != nil {
			runErr <- fmt.Errorf("mqtt: %w", err)
		}
	})
	if !waitConnected(ctx, clock, svc, brokerWait) && ctx.Err() == nil {
		log.Error("mqtt broker not reachable at start; retrying in the background", "brokers", cfg.MQTT.Brokers)
	}
	if ctx.Err() == nil {
		notify.Notify(daemon.SdNotifyReady)
		log.Info("dock agent ready", "version", o.Version, "startup", clock.Since(started).Round(time.Millisecond))
	}
	st := &statusLine{notify: notify}
	st.update(ctrl.Snapshot(), svc.Health(), veh.State())

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
		}
	}

	// Orderly shutdown (STYLE.md §3), within 5 s.
	stopping := clock.Now()
	notify.Notify(daemon.SdNotifyStopping)
	notify.Notify("STATUS=stopping")
	log.Info("shutting down")
	stopMQTT() // intake stops first; the outbox flushes with its own deadline
	stopCtrl() // the controller ends motions and de-energises every output
	ctrlWG.Wait()
	if err := ctrl.Halt(); err != nil {
		log.Error("de-energise outputs at shutdown", "err", err)
	}
	stopIO()
	ioWG.Wait()
	mqttWG.Wait()
	log.Info("dock agent stopped", "shutdown", clock.Since(stopping).Round(time.Millisecond))
	return failed
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
	return dock.ControllerOptions{
		LidTimeout:        cfg.Actuators.LidTimeout,
		ArmsTimeout:       cfg.Actuators.ArmsTimeout,
		ClearanceAltM:     cfg.Limits.ClearanceAltM,
		HeaterOnC:         cl.HeaterOnBelowC,
		HeaterOffC:        cl.HeaterOnBelowC + cl.HysteresisC,
		FanOnC:            cl.FanOnAboveC,
		FanOffC:           cl.FanOnAboveC - cl.HysteresisC,
		WeatherStaleAfter: cfg.Weather.StaleAfter,
		Watchdog:          wd.Beat,
		WatchdogInterval:  loopBeat,
		InputsHealthy:     hw.inputsHealthy,
		Clock:             clock,
		Logger:            log,
	}
}

func telemetryOptions(cfg *config.Config, version string, clock clockwork.Clock, log *slog.Logger) telemetry.Options {
	m := cfg.MQTT
	o := telemetry.Options{
		Prefix:        m.TopicPrefix,
		BrokerURLs:    m.Brokers,
		ClientID:      m.ClientID,
		Username:      m.Username,
		Password:      string(m.PasswordSecret()),
		StateDir:      cfg.StateDir,
		TelemetryRate: m.TelemetryRateHz,
		StateInterval: m.StateInterval,
		DedupeWindow:  m.DedupeWindow,
		MaxEvents:     m.OutboxMaxEvents,
		Version:       version,
		Logger:        log,
		Clock:         clock,
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

// stateSource hands the controller's state to the MQTT service, which is
// made before the controller.
type stateSource struct{ ctrl *dock.Controller }

func (s *stateSource) Subscribe() (<-chan dock.State, func()) { return s.ctrl.Subscribe() }
func (s *stateSource) Snapshot() dock.State                   { return s.ctrl.Snapshot() }
