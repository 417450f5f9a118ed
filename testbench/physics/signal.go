package physics

// Signal names a dock signal, as the config binds it to a pin.
type Signal string

// Outputs (relays and motors), driven by the agent.
const (
	LidOpenMotor     Signal = "lid_open_motor"
	LidCloseMotor    Signal = "lid_close_motor"
	ArmsReleaseMotor Signal = "arms_release_motor"
	ArmsClampMotor   Signal = "arms_clamp_motor"
	ChargerEnable    Signal = "charger_enable"
	Heater           Signal = "heater"
	Fan              Signal = "fan"
	Strobe           Signal = "strobe"
)

// Inputs (switches and sensors), read by the agent.
const (
	LidOpenLimit      Signal = "lid_open_limit"
	LidClosedLimit    Signal = "lid_closed_limit"
	ArmsReleasedLimit Signal = "arms_released_limit"
	ArmsClampedLimit  Signal = "arms_clamped_limit"
	ChargerStatus     Signal = "charger_status"
	EStop             Signal = "estop"
	Mains             Signal = "mains"
	Rain              Signal = "rain"
)

// Outputs returns every output signal, in the default coil order of the
// bench's I/O module.
func Outputs() []Signal {
	return []Signal{LidOpenMotor, LidCloseMotor, ArmsReleaseMotor, ArmsClampMotor, ChargerEnable, Heater, Fan, Strobe}
}

// Inputs returns every input signal.
func Inputs() []Signal {
	return []Signal{LidOpenLimit, LidClosedLimit, ArmsReleasedLimit, ArmsClampedLimit, EStop, Mains, Rain, ChargerStatus}
}

// IsOutput reports whether s is an output signal.
func (s Signal) IsOutput() bool {
	switch s {
	case LidOpenMotor, LidCloseMotor, ArmsReleaseMotor, ArmsClampMotor, ChargerEnable, Heater, Fan, Strobe:
		return true
	}
	return false
}

// Axis is a moving part.
type Axis int

// The moving parts.
const (
	AxisLid  Axis = iota // position 0 closed, 1 open
	AxisArms             // position 0 clamped, 1 released
)

func (a Axis) String() string {
	if a == AxisLid {
		return "lid"
	}
	return "arms"
}
