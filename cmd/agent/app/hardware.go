package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/pins"
	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/telemetry/metrics"
)

// hardware is the dock's signals as pins: GPIO lines of the board and the
// coils and inputs of Modbus RTU I/O modules on named RS-485 buses.
type hardware struct {
	pins    dock.Hardware
	clock   clockwork.Clock
	lines   map[string]*serialLine // by bus name
	clients map[string]*modbus.Client
	modules []*ioModule
	gpioOut []gpio.PinOut // outputs on board lines, active-low applied
	// changed receives (without blocking, one pending) after a module poll
	// read a new input level; inputsReport is whether every input signal
	// is a module input, so the controller may rest between changes.
	changed      chan struct{}
	inputsReport bool
}

type ioModule struct {
	bus    string
	device string
	unit   int
	m      *modbus.Module
}

// buildHardware opens nothing yet: the serial lines open on first use and
// reopen by themselves, so a missing device is an error the controller
// reports as a fault, not a reason not to start.
func buildHardware(cfg *config.Config, clock clockwork.Clock, log *slog.Logger) (*hardware, error) {
	h := &hardware{clock: clock, lines: map[string]*serialLine{}, clients: map[string]*modbus.Client{}, changed: make(chan struct{}, 1), inputsReport: true}
	sizes, usesGPIO, err := moduleSizes(cfg)
	if err != nil {
		return nil, err
	}
	if usesGPIO {
		if _, err := host.Init(); err != nil {
			return nil, fmt.Errorf("initialise the board's GPIO drivers: %w", err)
		}
	}
	mods, err := h.buildModules(cfg, sizes, log)
	if err != nil {
		return nil, err
	}
	w := &pinWiring{h: h, cfg: cfg, mods: mods}
	h.pins = w.hardware()
	if err := errors.Join(w.errs...); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// modKey names one Modbus I/O module: its bus and unit address.
type modKey struct {
	bus  string
	unit int
}

// modSize is how many inputs and coils of a module the signals use.
type modSize struct{ inputs, coils int }

// moduleSizes reads the signals' bindings: the size of every Modbus I/O
// module they name, and whether any signal is a board GPIO line.
func moduleSizes(cfg *config.Config) (sizes map[modKey]*modSize, usesGPIO bool, err error) {
	sizes = map[modKey]*modSize{}
	for name, b := range cfg.Signals {
		if b.GPIO != "" {
			usesGPIO = true
			continue
		}
		if b.Modbus == nil {
			continue // config validation refuses this; nothing to wire
		}
		k := modKey{b.Modbus.Bus, b.Modbus.Unit}
		s := sizes[k]
		if s == nil {
			s = &modSize{}
			sizes[k] = s
		}
		switch {
		case b.Modbus.Coil != nil:
			s.coils = max(s.coils, *b.Modbus.Coil+1)
		case b.Modbus.Input != nil:
			s.inputs = max(s.inputs, *b.Modbus.Input+1)
		default:
			return nil, false, fmt.Errorf("signal %s: modbus binding has neither coil nor input", name)
		}
	}
	return sizes, usesGPIO, nil
}

// buildModules makes the Modbus I/O modules of sizes, in bus and unit
// order, with the client of their bus.
func (h *hardware) buildModules(cfg *config.Config, sizes map[modKey]*modSize, log *slog.Logger) (map[modKey]*modbus.Module, error) {
	keys := slices.SortedFunc(maps.Keys(sizes), func(a, b modKey) int {
		if c := strings.Compare(a.bus, b.bus); c != 0 {
			return c
		}
		return a.unit - b.unit
	})
	mods := map[modKey]*modbus.Module{}
	for _, k := range keys {
		c, err := h.client(cfg, k.bus, log)
		if err != nil {
			return nil, err
		}
		bus := cfg.Buses[k.bus]
		s := sizes[k]
		m, err := modbus.NewModule(modbus.ModuleOptions{
			Name:   fmt.Sprintf("%s.%d", k.bus, k.unit),
			Unit:   uint8(k.unit),
			Inputs: s.inputs, Coils: s.coils,
			Poll: bus.PollInterval, IdlePoll: bus.IdlePollInterval, // iopace.go switches
			// Stale (the dock faults, motions stop) after five polls plus
			// one request with all its retries timing out: a single lost
			// reply on a noisy bus must not stop a lid. (Idle, the module
			// allows five idle polls.)
			StaleAfter: 5*bus.PollInterval + time.Duration(bus.Retries+1)*bus.Timeout,
			OnChange:   h.notifyChanged,
			Clock:      h.clock, Logger: log,
		}, c)
		if err != nil {
			return nil, fmt.Errorf("modbus I/O module unit %d on bus %s: %w", k.unit, k.bus, err)
		}
		mods[k] = m
		h.modules = append(h.modules, &ioModule{bus: k.bus, device: bus.Device, unit: k.unit, m: m})
	}
	return mods, nil
}

// notifyChanged is the modules' OnChange: it wakes the controller without
// blocking.
func (h *hardware) notifyChanged() {
	select {
	case h.changed <- struct{}{}:
	default: // one wake-up pending covers every change before it
	}
}

// pinWiring turns the signals of the config into the controller's pins,
// collecting every wiring error so that one run reports them all.
type pinWiring struct {
	h    *hardware
	cfg  *config.Config
	mods map[modKey]*modbus.Module
	errs []error
}

// hardware wires every signal of dock.Hardware; an unbound one is nil.
func (w *pinWiring) hardware() dock.Hardware {
	return dock.Hardware{
		LidOpenMotor:      w.out(config.SignalLidOpenMotor),
		LidCloseMotor:     w.out(config.SignalLidCloseMotor),
		LidOpenLimit:      w.in(config.SignalLidOpenLimit),
		LidClosedLimit:    w.in(config.SignalLidClosedLimit),
		ArmsReleaseMotor:  w.out(config.SignalArmsReleaseMotor),
		ArmsClampMotor:    w.out(config.SignalArmsClampMotor),
		ArmsReleasedLimit: w.in(config.SignalArmsReleasedLimit),
		ArmsClampedLimit:  w.in(config.SignalArmsClampedLimit),
		ChargerEnable:     w.out(config.SignalChargerEnable),
		ChargerStatus:     w.in(config.SignalChargerStatus),
		Heater:            w.out(config.SignalHeater),
		Fan:               w.out(config.SignalFan),
		Strobe:            w.out(config.SignalStrobe),
		EStop:             w.in(config.SignalEStop),
		Mains:             w.in(config.SignalMains),
		Rain:              w.in(config.SignalRain),
	}
}

// binding looks a signal up: its binding and, for a board GPIO signal, its
// line (nil for a Modbus point). ok is false when the signal is not bound
// or its line is missing (an error then joins errs).
func (w *pinWiring) binding(name string) (b config.Binding, line gpio.PinIO, ok bool) {
	b, ok = w.cfg.Signals[name]
	if !ok || b.GPIO == "" {
		return b, nil, ok
	}
	line, err := boardLine(name, b.GPIO)
	if err != nil {
		w.errs = append(w.errs, err)
		return b, nil, false
	}
	return b, line, true
}

// module is the I/O module a Modbus binding names.
func (w *pinWiring) module(b config.Binding) *modbus.Module {
	return w.mods[modKey{b.Modbus.Bus, b.Modbus.Unit}]
}

// in wires an input signal: its line set as an input or its module input,
// then active-low and debounce as bound.
func (w *pinWiring) in(name string) gpio.PinIn {
	b, line, ok := w.binding(name)
	if !ok {
		return nil
	}
	var p gpio.PinIn
	if line != nil {
		w.h.inputsReport = false // read by the controller's loop every poll
		if err := line.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
			w.errs = append(w.errs, fmt.Errorf("signal %s: set gpio %s as input: %w", name, b.GPIO, err))
			return nil
		}
		p = line
	} else {
		p = w.module(b).Input(*b.Modbus.Input)
	}
	if b.ActiveLow {
		p = pins.ActiveLowIn(p)
	}
	if name != config.SignalEStop { // an e-stop press must count on its first read
		p = pins.Debounce(p, w.h.clock, b.Debounce)
	}
	return p
}

// out wires an output signal: its line or its module coil, active-low as
// bound; a board line is de-energised at once.
func (w *pinWiring) out(name string) gpio.PinOut {
	b, line, ok := w.binding(name)
	if !ok {
		return nil
	}
	var p gpio.PinOut = line
	if line == nil {
		coil := w.module(b).Output(*b.Modbus.Coil)
		if b.ActiveLow {
			// Off is an energised coil: the module's one-request cut at an
			// e-stop must write it High, not Low.
			coil.SetOffLevel(gpio.High)
		}
		p = coil
	}
	if b.ActiveLow {
		p = pins.ActiveLowOut(p)
	}
	if line != nil {
		w.h.gpioOut = append(w.h.gpioOut, p)
		// A board line starts in whatever state the boot left it:
		// de-energise it before anything else happens.
		if err := p.Out(gpio.Low); err != nil {
			w.errs = append(w.errs, fmt.Errorf("signal %s: de-energise gpio %s: %w", name, b.GPIO, err))
		}
	}
	return p
}

// modbusStats reads every Modbus unit's counters for the metrics, by bus
// name and unit, sorted; the I/O modules' units are there at zero before
// their first request.
func (h *hardware) modbusStats() []metrics.ModbusStats {
	type key struct {
		bus  string
		unit uint8
	}
	seen := map[key]bool{}
	var out []metrics.ModbusStats
	for name, c := range h.clients {
		for _, u := range c.UnitStats() {
			seen[key{name, u.Unit}] = true
			out = append(out, metrics.ModbusStats{Bus: name, Unit: u.Unit, Requests: u.Requests, Retries: u.Retries,
				Timeouts: u.Timeouts, CRCErrors: u.CRCErrors, Frames: u.Frames, Exceptions: u.Exceptions, PortErrors: u.PortErrors})
		}
	}
	for _, m := range h.modules {
		if k := (key{m.bus, uint8(m.unit)}); !seen[k] {
			seen[k] = true
			out = append(out, metrics.ModbusStats{Bus: m.bus, Unit: uint8(m.unit)})
		}
	}
	slices.SortFunc(out, func(a, b metrics.ModbusStats) int {
		if c := strings.Compare(a.Bus, b.Bus); c != 0 {
			return c
		}
		return int(a.Unit) - int(b.Unit)
	})
	return out
}

// client returns the Modbus client of a named bus, making it on first use.
func (h *hardware) client(cfg *config.Config, name string, log *slog.Logger) (*modbus.Client, error) {
	if c, ok := h.clients[name]; ok {
		return c, nil
	}
	bus, ok := cfg.Buses[name]
	if !ok {
		return nil, fmt.Errorf("bus %q: not defined under buses", name)
	}
	line := newSerialLine("bus "+name, bus.Device, serialMode(bus.Baud, bus.Parity, bus.StopBits), h.clock, log)
	c, err := modbus.NewClient(modbus.ClientOptions{
		Baud: bus.Baud, Timeout: bus.Timeout, Retries: bus.Retries,
		Clock: h.clock, Logger: log.With("bus", name),
	}, line)
	if err != nil {
		return nil, fmt.Errorf("bus %s: %w", name, err)
	}
	h.lines[name] = line
	h.clients[name] = c
	return c, nil
}

// run polls every module until ctx ends.
func (h *hardware) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, m := range h.modules {
		wg.Go(func() { _ = m.m.Run(ctx) })
	}
	wg.Wait()
}

// cutAll de-energises every output at once: one request per I/O module,
// then the board lines (the controller's CutAll: at an e-stop, and at the
// start-up self-test).
func (h *hardware) cutAll() error {
	var errs []error
	for _, m := range h.modules {
		errs = append(errs, m.m.CutAll())
	}
	for _, p := range h.gpioOut {
		errs = append(errs, p.Out(gpio.Low))
	}
	return errors.Join(errs...)
}

// boardLine looks up the GPIO line a signal is bound to.
func boardLine(signal, line string) (gpio.PinIO, error) {
	gp := gpioreg.ByName(line)
	if gp == nil {
		return nil, fmt.Errorf("signal %s: gpio %q: no such line on this board", signal, line)
	}
	return gp, nil
}

// inputsHealthy is the controller's InputsHealthy: the first module whose
// inputs are stale. The text stays the same while the cause lasts.
func (h *hardware) inputsHealthy() error {
	for _, m := range h.modules {
		if m.m.Health().Stale {
			return fmt.Errorf("I/O module unit %d on bus %s (%s) not answering", m.unit, m.bus, m.device)
		}
	}
	return nil
}

// waitRead waits until every module has been read once, or until timeout;
// it returns the modules still unread, so start-up can log them and go on
// (the controller then holds the dock in fault).
func (h *hardware) waitRead(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := clockwork.WithTimeout(ctx, h.clock, timeout)
	defer cancel()
	t := h.clock.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		err := h.inputsHealthy()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-t.Chan():
		}
	}
}

func (h *hardware) close() {
	for _, l := range h.lines {
		_ = l.Close()
	}
}
