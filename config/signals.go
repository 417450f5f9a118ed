package config

// SignalKind says whether a dock signal is an input or an output.
type SignalKind int

// Signal kinds.
const (
	// SignalInput is read: limit switches, e-stop, mains, rain.
	SignalInput SignalKind = iota + 1
	// SignalOutput is driven: motor relays, charger, heater, fan, strobe.
	SignalOutput
)

func (k SignalKind) String() string {
	switch k {
	case SignalInput:
		return "input"
	case SignalOutput:
		return "output"
	}
	return "unknown"
}

// Dock signal names, the keys of Config.Signals.
const (
	SignalLidOpenMotor      = "lid_open_motor"
	SignalLidCloseMotor     = "lid_close_motor"
	SignalLidOpenLimit      = "lid_open_limit"
	SignalLidClosedLimit    = "lid_closed_limit"
	SignalArmsReleaseMotor  = "arms_release_motor"
	SignalArmsClampMotor    = "arms_clamp_motor"
	SignalArmsReleasedLimit = "arms_released_limit"
	SignalArmsClampedLimit  = "arms_clamped_limit"
	SignalChargerEnable     = "charger_enable"
	SignalChargerStatus     = "charger_status"
	SignalHeater            = "heater"
	SignalFan               = "fan"
	SignalStrobe            = "strobe"
	SignalEStop             = "estop"
	SignalMains             = "mains"
	SignalRain              = "rain"
)

// SignalSpec describes one known dock signal.
type SignalSpec struct {
	Name     string
	Kind     SignalKind
	Required bool
}

// Signals returns the known dock signals in a fixed order (a new slice on
// every call). A config must bind every Required one; charger_status is
// optional, and rain is optional because the weather station may report it.
func Signals() []SignalSpec {
	return []SignalSpec{
		{SignalLidOpenMotor, SignalOutput, true},
		{SignalLidCloseMotor, SignalOutput, true},
		{SignalLidOpenLimit, SignalInput, true},
		{SignalLidClosedLimit, SignalInput, true},
		{SignalArmsReleaseMotor, SignalOutput, true},
		{SignalArmsClampMotor, SignalOutput, true},
		{SignalArmsReleasedLimit, SignalInput, true},
		{SignalArmsClampedLimit, SignalInput, true},
		{SignalChargerEnable, SignalOutput, true},
		{SignalChargerStatus, SignalInput, false},
		{SignalHeater, SignalOutput, true},
		{SignalFan, SignalOutput, true},
		{SignalStrobe, SignalOutput, true},
		{SignalEStop, SignalInput, true},
		{SignalMains, SignalInput, true},
		{SignalRain, SignalInput, false},
	}
}

// SignalKindOf returns the kind of a known signal name, or 0 and false.
func SignalKindOf(name string) (SignalKind, bool) {
	for _, s := range Signals() {
		if s.Name == name {
			return s.Kind, true
		}
	}
	return 0, false
}
