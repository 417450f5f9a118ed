package fault

// Code names a kind of dock fault on the MQTT contract (the `code` of
// state.faults and of the fault and fault.cleared events). Codes are stable:
// consumers branch on them, never on the message. docs/operations.md lists
// each with what the dock does and what the operator does.
type Code string

// Fault codes. Each has a fixed Severity and Component.
const (
	// IOModuleSilent: the inputs cannot be trusted (an I/O module stopped
	// answering). Clears itself when the inputs read again.
	IOModuleSilent Code = "io.module_silent"
	// LidTimeout, ArmsTimeout: the target limit switch did not close
	// within the motion timeout (invariant 6).
	LidTimeout  Code = "lid.timeout"
	ArmsTimeout Code = "arms.timeout"
	// LidLimitStuck, ArmsLimitStuck: the part did not leave the limit
	// switch of the end it started from.
	LidLimitStuck  Code = "lid.limit_stuck"
	ArmsLimitStuck Code = "arms.limit_stuck"
	// LidLimitReclosed, ArmsLimitReclosed: the switch of the end the part
	// left closed again while it moved away.
	LidLimitReclosed  Code = "lid.limit_reclosed"
	ArmsLimitReclosed Code = "arms.limit_reclosed"
	// LidLimitsConflict, ArmsLimitsConflict: both limit switches of the
	// part read closed.
	LidLimitsConflict  Code = "lid.limits_conflict"
	ArmsLimitsConflict Code = "arms.limits_conflict"
	// MainsLostInMotion: mains power failed while a part moved.
	MainsLostInMotion Code = "power.mains_lost_in_motion"
	// OutputWriteFailed: writing an output (relay) failed.
	OutputWriteFailed Code = "output.write_failed"
	// OutputInterlock: an output was not energised because the opposite
	// direction of its motor could not be switched off.
	OutputInterlock Code = "output.interlock"
	// SelfTestFailed: a pin did not answer in the start-up self-test.
	SelfTestFailed Code = "selftest.failed"
	// VehicleLandedAway: the vehicle is on the ground away from the pad
	// (invariant 9); raised by the sortie engine through
	// dock.Controller.RaiseFault.
	VehicleLandedAway Code = "vehicle.landed_away"
)

// Codes returns every fault code, in the order of the table in
// docs/operations.md (a new slice on each call).
func Codes() []Code {
	return []Code{
		IOModuleSilent,
		LidTimeout, ArmsTimeout,
		LidLimitStuck, ArmsLimitStuck,
		LidLimitReclosed, ArmsLimitReclosed,
		LidLimitsConflict, ArmsLimitsConflict,
		MainsLostInMotion,
		OutputWriteFailed, OutputInterlock,
		SelfTestFailed,
		VehicleLandedAway,
	}
}

// Severity says how urgent a fault is.
type Severity string

// Fault severities.
const (
	// SeverityInfo: worth knowing, nothing was stopped. No fault code
	// has it today; consumers must accept it.
	SeverityInfo Severity = "info"
	// SeverityWarning: the dock stopped, the likely cause lies outside the
	// dock's mechanics (mains, a bus) and may pass by itself.
	SeverityWarning Severity = "warning"
	// SeverityCritical: a part or the vehicle needs a person.
	SeverityCritical Severity = "critical"
)

// Component names the part of the dock a fault concerns.
type Component string

// Components of faults.
const (
	ComponentLid     Component = "lid"
	ComponentArms    Component = "arms"
	ComponentIO      Component = "io"
	ComponentPower   Component = "power"
	ComponentVehicle Component = "vehicle"
	ComponentDock    Component = "dock"
)

// Known reports whether c is one of Codes.
func (c Code) Known() bool { return c.Component() != "" }

// Severity is the fixed severity of the code ("" for an unknown code).
func (c Code) Severity() Severity {
	switch {
	case c == IOModuleSilent, c == MainsLostInMotion:
		return SeverityWarning
	case c.Known():
		return SeverityCritical
	}
	return ""
}

// Component is the fixed component of the code ("" for an unknown code).
func (c Code) Component() Component {
	switch c {
	case IOModuleSilent, OutputWriteFailed, OutputInterlock:
		return ComponentIO
	case LidTimeout, LidLimitStuck, LidLimitReclosed, LidLimitsConflict:
		return ComponentLid
	case ArmsTimeout, ArmsLimitStuck, ArmsLimitReclosed, ArmsLimitsConflict:
		return ComponentArms
	case MainsLostInMotion:
		return ComponentPower
	case SelfTestFailed:
		return ComponentDock
	case VehicleLandedAway:
		return ComponentVehicle
	}
	return ""
}
