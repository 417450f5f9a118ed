package dock

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// Hardware is the set of dock pins the Controller drives, all at logical
// levels (High = active; see dock/pins for active-low and debounce). Each pin
// is a GPIO line of the board or a coil / discrete input of a Modbus I/O
// module; the app decides. Every field is required except ChargerStatus and
// Rain. The Controller is the only user of the pins once Run has started.
type Hardware struct {
	LidOpenMotor      gpio.PinOut // relay driving the lid towards open
	LidCloseMotor     gpio.PinOut // relay driving the lid towards closed
	LidOpenLimit      gpio.PinIn  // High when the lid is fully open
	LidClosedLimit    gpio.PinIn  // High when the lid is fully closed
	ArmsReleaseMotor  gpio.PinOut // relay driving the centering arms apart
	ArmsClampMotor    gpio.PinOut // relay driving the centering arms together
	ArmsReleasedLimit gpio.PinIn  // High when the arms are fully released
	ArmsClampedLimit  gpio.PinIn  // High when the arms are clamped (vehicle centered)
	ChargerEnable     gpio.PinOut // relay enabling the charger
	ChargerStatus     gpio.PinIn  // optional: High while the charger charges
	Heater            gpio.PinOut
	Fan               gpio.PinOut
	Strobe            gpio.PinOut
	EStop             gpio.PinIn // High while the e-stop button is pressed
	Mains             gpio.PinIn // High while mains power is present
	Rain              gpio.PinIn // optional: High while the rain sensor is wet
}

// Halt de-energises every output of h (periph conn.Resource style) and
// returns the joined errors of the outputs that could not be written. It is
// meant for shutdown when no Controller runs; while one runs, use
// Controller.Halt.
func (h Hardware) Halt() error {
	var errs []error
	for _, o := range h.outputs() {
		if o.pin == nil {
			continue
		}
		if err := o.pin.Out(gpio.Low); err != nil {
			errs = append(errs, fmt.Errorf("halt %s: %w", o.name, err))
		}
	}
	return errors.Join(errs...)
}

type namedOut struct {
	name string
	pin  gpio.PinOut
}

type namedIn struct {
	name     string
	pin      gpio.PinIn
	optional bool
}

// outputs lists the outputs in the order of the output constants.
func (h Hardware) outputs() [numOutputs]namedOut {
	return [numOutputs]namedOut{
		outLidOpen:     {"lid_open_motor", h.LidOpenMotor},
		outLidClose:    {"lid_close_motor", h.LidCloseMotor},
		outArmsRelease: {"arms_release_motor", h.ArmsReleaseMotor},
		outArmsClamp:   {"arms_clamp_motor", h.ArmsClampMotor},
		outCharger:     {"charger_enable", h.ChargerEnable},
		outHeater:      {"heater", h.Heater},
		outFan:         {"fan", h.Fan},
		outStrobe:      {"strobe", h.Strobe},
	}
}

func (h Hardware) inputs() []namedIn {
	return []namedIn{
		{"lid_open_limit", h.LidOpenLimit, false},
		{"lid_closed_limit", h.LidClosedLimit, false},
		{"arms_released_limit", h.ArmsReleasedLimit, false},
		{"arms_clamped_limit", h.ArmsClampedLimit, false},
		{"charger_status", h.ChargerStatus, true},
		{"estop", h.EStop, false},
		{"mains", h.Mains, false},
		{"rain", h.Rain, true},
	}
}

// validate reports every missing required pin.
func (h Hardware) validate() error {
	var errs []error
	for _, o := range h.outputs() {
		if o.pin == nil {
			errs = append(errs, fmt.Errorf("dock hardware: output %s is not wired", o.name))
		}
	}
	for _, in := range h.inputs() {
		if in.pin == nil && !in.optional {
			errs = append(errs, fmt.Errorf("dock hardware: input %s is not wired", in.name))
		}
	}
	return errors.Join(errs...)
}

// output identifies one output of Hardware inside the controller.
type output int

const (
	outLidOpen output = iota
	outLidClose
	outArmsRelease
	outArmsClamp
	outCharger
	outHeater
	outFan
	outStrobe
	numOutputs
)

// opposite returns the output that must never be on together with o, or -1.
func (o output) opposite() output {
	switch o {
	case outLidOpen:
		return outLidClose
	case outLidClose:
		return outLidOpen
	case outArmsRelease:
		return outArmsClamp
	case outArmsClamp:
		return outArmsRelease
	}
	return -1
}

// ControllerOptions configure a Controller. The zero value of every field
// means its documented default.
type ControllerOptions struct {
	// LidTimeout bounds one lid motion (invariant 6). Default 25s.
	LidTimeout time.Duration
	// ArmsTimeout bounds one arms motion (invariant 6). Default 8s.
	ArmsTimeout time.Duration
	// LimitLeaveTimeout is how long the limit switch a part starts from may
	// stay closed after the motion started before the switch is taken as
	// stuck (fault). Default 2s; it is capped below the motion timeouts.
	LimitLeaveTimeout time.Duration
	// ReversePause is the dead time between cutting one direction of a
	// motor and energising the other. Default 300ms.
	ReversePause time.Duration
	// PollInterval is the loop period: every input is read this often, so
	// an e-stop press cuts the outputs within one period (invariant 4,
	// bound 100ms). Default 10ms; values above 50ms are refused.
	PollInterval time.Duration
	// IdleInterval, when set, lets the loop sleep longer than PollInterval
	// while the dock rests: no lid or arms motion and no debounced input
	// settling a change. It then wakes when InputsChanged delivers, on a
	// request, at the strobe's next edge, for the watchdog, and at the
	// latest after IdleInterval. The e-stop still cuts within one input
	// poll plus one iteration, as the poller's change wakes the loop at
	// once. 0 (the default) runs the loop every PollInterval; otherwise it
	// must lie between PollInterval and 1s and needs InputsChanged.
	IdleInterval time.Duration
	// InputsChanged delivers when an input may have changed level (or its
	// source its health). Set it only when every input pin of Hardware is
	// read from a source that reports its changes here (the Modbus I/O
	// modules' poller does; a board GPIO line read by the loop does not):
	// at rest the loop reads the inputs only when woken. Closing it makes
	// the loop run every PollInterval from then on.
	InputsChanged <-chan struct{}
	// ProgressInterval is how often a long motion started with a job ID
	// emits an in_progress command.progress event. Default 2s.
	ProgressInterval time.Duration

	// ClearanceAltM is the altitude above home beyond which an airborne
	// vehicle allows the lid to close (invariant 1). Default 15 m.
	ClearanceAltM float64
	// DockLat, DockLon and PadRadiusM place the landing pad: a vehicle on
	// the ground counts as docked only within PadRadiusM of the dock
	// (invariant 9) once it reports a position. PadRadiusM default 5 m;
	// with DockLat and DockLon both 0 the position is not checked.
	DockLat, DockLon float64
	PadRadiusM       float64

	// Thermostat with hysteresis on the inside temperature: the heater
	// switches on below HeaterOnC and off above HeaterOffC; the fan on above
	// FanOnC and off below FanOffC. Defaults 5, 8, 35, 30 °C. With no
	// (or a stale) inside temperature both stay off.
	HeaterOnC, HeaterOffC float64
	FanOnC, FanOffC       float64

	// WeatherStaleAfter marks the weather in State stale when the last
	// reading fed through SetWeather is older. Default 30s.
	WeatherStaleAfter time.Duration

	// StrobePeriod is one on+off cycle of the strobe. Default 1s.
	StrobePeriod time.Duration

	// Watchdog, when set, is called from the loop goroutine itself every
	// WatchdogInterval (default 5s) so a wedged loop stops the pings
	// (systemd WATCHDOG=1). It must not block.
	Watchdog         func()
	WatchdogInterval time.Duration

	// CutAll, when set, de-energises every output in one step when the
	// e-stop latches (one Modbus request per I/O module instead of one per
	// relay) so the cut stays inside invariant 4's 100 ms on a slow bus,
	// and at the start-up self-test. The outputs are then written low one
	// by one only if it fails. It is called from the loop.
	CutAll func() error

	// InputsHealthy, when set, is asked every loop iteration whether the
	// inputs can be trusted (a Modbus I/O module that stopped answering
	// keeps its last levels). While it returns an error, no motion starts
	// or continues, in any mode, and the dock is faulted with the error's
	// text as the reason (keep the text stable while the cause lasts). It
	// is called from the loop and must not block.
	InputsHealthy func() error

	// OnMotion, when set, is told of every motion that ended: its step
	// ("lid.open", "arms.clamp") and how (the command.progress status:
	// ok, failed, canceled, timeout). Called from the loop; must not block.
	OnMotion func(step string, status ProgressStatus)

	// FaultDamping is how long a cleared fault is remembered: raised again
	// within it (a flapping input, a reset while the cause remains), it is
	// the same fault with its count incremented, not a new one. Default 10s.
	FaultDamping time.Duration

	// Mode is the mode at start. Default ModeAuto.
	Mode Mode

	// Clock is the only clock the controller uses. Default the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs. Default discards.
	Logger *slog.Logger
}

func (o ControllerOptions) withDefaults() (ControllerOptions, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.LidTimeout, 25*time.Second)
	def(&o.ArmsTimeout, 8*time.Second)
	def(&o.LimitLeaveTimeout, 2*time.Second)
	def(&o.ReversePause, 300*time.Millisecond)
	def(&o.PollInterval, 10*time.Millisecond)
	def(&o.ProgressInterval, 2*time.Second)
	def(&o.WeatherStaleAfter, 30*time.Second)
	def(&o.StrobePeriod, time.Second)
	def(&o.WatchdogInterval, 5*time.Second)
	def(&o.FaultDamping, 10*time.Second)
	if o.PadRadiusM <= 0 {
		o.PadRadiusM = 5
	}
	if o.ClearanceAltM == 0 {
		o.ClearanceAltM = 15
	}
	if o.HeaterOnC == 0 && o.HeaterOffC == 0 {
		o.HeaterOnC, o.HeaterOffC = 5, 8
	}
	if o.FanOnC == 0 && o.FanOffC == 0 {
		o.FanOnC, o.FanOffC = 35, 30
	}
	if o.Mode == "" {
		o.Mode = ModeAuto
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"lid timeout", o.LidTimeout}, {"arms timeout", o.ArmsTimeout},
		{"limit leave timeout", o.LimitLeaveTimeout}, {"reverse pause", o.ReversePause},
		{"poll interval", o.PollInterval}, {"progress interval", o.ProgressInterval},
		{"weather stale after", o.WeatherStaleAfter}, {"strobe period", o.StrobePeriod},
		{"watchdog interval", o.WatchdogInterval}, {"idle interval", o.IdleInterval},
		{"fault damping", o.FaultDamping},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("dock controller options: %s %v is negative", d.name, d.v))
		}
	}
	if o.PollInterval > 50*time.Millisecond {
		errs = append(errs, fmt.Errorf("dock controller options: poll interval %v is above 50ms: an e-stop must cut the outputs within 100ms", o.PollInterval))
	}
	switch {
	case o.IdleInterval == 0:
	case o.InputsChanged == nil:
		errs = append(errs, fmt.Errorf("dock controller options: idle interval %v without InputsChanged: at rest the loop would not see an input change (an e-stop) until it woke", o.IdleInterval))
	case o.IdleInterval < o.PollInterval || o.IdleInterval > time.Second:
		errs = append(errs, fmt.Errorf("dock controller options: idle interval %v is outside poll interval %v .. 1s", o.IdleInterval, o.PollInterval))
	}
	if o.HeaterOffC < o.HeaterOnC {
		errs = append(errs, fmt.Errorf("dock controller options: heater off %.1f °C is below heater on %.1f °C", o.HeaterOffC, o.HeaterOnC))
	}
	if o.FanOffC > o.FanOnC {
		errs = append(errs, fmt.Errorf("dock controller options: fan off %.1f °C is above fan on %.1f °C", o.FanOffC, o.FanOnC))
	}
	if o.Mode != ModeAuto && o.Mode != ModeMaintenance {
		errs = append(errs, fmt.Errorf("dock controller options: mode %q is not auto or maintenance", o.Mode))
	}
	return o, errors.Join(errs...)
}
