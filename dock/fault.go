package dock

import "time"

// FaultCode names a kind of dock fault on the MQTT contract (the `code` of
// state.faults and of the fault and fault.cleared events). Codes are stable:
// consumers branch on them, never on the message. docs/operations.md lists
// each with what the dock does and what the operator does.
type FaultCode string

// Fault codes. Each has a fixed Severity and Component.
const (
	// FaultIOModuleSilent: the inputs cannot be trusted (an I/O module
	// stopped answering). Clears itself when the inputs read again.
	FaultIOModuleSilent FaultCode = "io.module_silent"
	// FaultLidTimeout, FaultArmsTimeout: the target limit switch did not
	// close within the motion timeout (invariant 6).
	FaultLidTimeout  FaultCode = "lid.timeout"
	FaultArmsTimeout FaultCode = "arms.timeout"
	// FaultLidLimitStuck, FaultArmsLimitStuck: the part did not leave the
	// limit switch of the end it started from.
	FaultLidLimitStuck  FaultCode = "lid.limit_stuck"
	FaultArmsLimitStuck FaultCode = "arms.limit_stuck"
	// FaultLidLimitReclosed, FaultArmsLimitReclosed: the switch of the end
	// the part left closed again while it moved away.
	FaultLidLimitReclosed  FaultCode = "lid.limit_reclosed"
	FaultArmsLimitReclosed FaultCode = "arms.limit_reclosed"
	// FaultLidLimitsConflict, FaultArmsLimitsConflict: both limit switches
	// of the part read closed.
	FaultLidLimitsConflict  FaultCode = "lid.limits_conflict"
	FaultArmsLimitsConflict FaultCode = "arms.limits_conflict"
	// FaultMainsLostInMotion: mains power failed while a part moved.
	FaultMainsLostInMotion FaultCode = "power.mains_lost_in_motion"
	// FaultOutputWriteFailed: writing an output (relay) failed.
	FaultOutputWriteFailed FaultCode = "output.write_failed"
	// FaultOutputInterlock: an output was not energised because the
	// opposite direction of its motor could not be switched off.
	FaultOutputInterlock FaultCode = "output.interlock"
	// FaultSelfTestFailed: a pin did not answer in the start-up self-test.
	FaultSelfTestFailed FaultCode = "selftest.failed"
	// FaultVehicleLandedAway: the vehicle is on the ground away from the
	// pad (invariant 9); raised by the sortie engine through RaiseFault.
	FaultVehicleLandedAway FaultCode = "vehicle.landed_away"
)

// FaultCodes returns every fault code, in the order of the table in
// docs/operations.md (a new slice on each call).
func FaultCodes() []FaultCode {
	return []FaultCode{
		FaultIOModuleSilent,
		FaultLidTimeout, FaultArmsTimeout,
		FaultLidLimitStuck, FaultArmsLimitStuck,
		FaultLidLimitReclosed, FaultArmsLimitReclosed,
		FaultLidLimitsConflict, FaultArmsLimitsConflict,
		FaultMainsLostInMotion,
		FaultOutputWriteFailed, FaultOutputInterlock,
		FaultSelfTestFailed,
		FaultVehicleLandedAway,
	}
}

// FaultSeverity says how urgent a fault is.
type FaultSeverity string

// Fault severities.
const (
	// SeverityInfo: worth knowing, nothing was stopped. No fault code
	// has it today; consumers must accept it.
	SeverityInfo FaultSeverity = "info"
	// SeverityWarning: the dock stopped, the likely cause lies outside the
	// dock's mechanics (mains, a bus) and may pass by itself.
	SeverityWarning FaultSeverity = "warning"
	// SeverityCritical: a part or the vehicle needs a person.
	SeverityCritical FaultSeverity = "critical"
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

// Known reports whether c is one of FaultCodes.
func (c FaultCode) Known() bool { return c.Component() != "" }

// Severity is the fixed severity of the code ("" for an unknown code).
func (c FaultCode) Severity() FaultSeverity {
	switch {
	case c == FaultIOModuleSilent, c == FaultMainsLostInMotion:
		return SeverityWarning
	case c.Known():
		return SeverityCritical
	}
	return ""
}

// Component is the fixed component of the code ("" for an unknown code).
func (c FaultCode) Component() Component {
	switch c {
	case FaultIOModuleSilent, FaultOutputWriteFailed, FaultOutputInterlock:
		return ComponentIO
	case FaultLidTimeout, FaultLidLimitStuck, FaultLidLimitReclosed, FaultLidLimitsConflict:
		return ComponentLid
	case FaultArmsTimeout, FaultArmsLimitStuck, FaultArmsLimitReclosed, FaultArmsLimitsConflict:
		return ComponentArms
	case FaultMainsLostInMotion:
		return ComponentPower
	case FaultSelfTestFailed:
		return ComponentDock
	case FaultVehicleLandedAway:
		return ComponentVehicle
	}
	return ""
}

// Fault is one active fault, as listed in State.Faults. Since is when it
// was first raised; Count is how often it was raised since, counting the
// returns within ControllerOptions.FaultDamping of being cleared (a
// flapping fault stays one fault).
type Fault struct {
	Code      FaultCode     `json:"code"`
	Severity  FaultSeverity `json:"severity"`
	Component Component     `json:"component"`
	Message   string        `json:"message"`
	Since     time.Time     `json:"since"`
	Count     int           `json:"count"`
}

// fields are the members of a fault or fault.cleared event. "fault"
// repeats the message for consumers of the contract before fault codes.
func (f Fault) fields() map[string]any {
	return map[string]any{
		"code": string(f.Code), "severity": string(f.Severity), "component": string(f.Component),
		"message": f.Message, "count": f.Count, "fault": f.Message,
	}
}

// motionFaults are the codes of the faults a part's motion raises.
type motionFaults struct{ timeout, stuck, reclosed FaultCode }

// partFaults returns the motion fault codes of part ("lid" or "arms").
func partFaults(part string) motionFaults {
	if part == "lid" {
		return motionFaults{FaultLidTimeout, FaultLidLimitStuck, FaultLidLimitReclosed}
	}
	return motionFaults{FaultArmsTimeout, FaultArmsLimitStuck, FaultArmsLimitReclosed}
}

// clearedFault remembers a cleared fault for the damping window.
type clearedFault struct {
	since time.Time
	count int
	at    time.Time
}

// raise enters fault with code and message. A fault already active only
// counts once more (no new event); one cleared less than FaultDamping ago
// comes back as the same fault with its count incremented, reported with
// the count. Each new or returning fault is reported as a fault event.
func (c *Controller) raise(code FaultCode, message string) {
	now := c.clock.Now()
	for i := range c.faults {
		if f := &c.faults[i]; f.Code == code {
			f.Count++
			c.faultsVer++
			c.log.Warn("dock fault again", "code", string(code), "count", f.Count, "fault", message)
			return
		}
	}
	f := Fault{Code: code, Severity: code.Severity(), Component: code.Component(), Message: message, Since: now, Count: 1}
	if cl, ok := c.cleared[code]; ok && now.Sub(cl.at) <= c.opts.FaultDamping {
		f.Since, f.Count = cl.since, cl.count+1
	}
	delete(c.cleared, code)
	c.faults = append(c.faults, f)
	c.faultsVer++
	c.log.Error("dock fault", "code", string(code), "count", f.Count, "fault", message)
	c.emit(EventFault, f.fields())
}

// onset reports whether a condition seen every loop iteration is to
// raise code now: when cond starts to hold, and while it holds once the
// fault is no longer active (cleared by a reset). A lasting condition is
// one occurrence, not one a poll. *held remembers cond for the next call.
func (c *Controller) onset(held *bool, cond bool, code FaultCode) bool {
	raise := cond && (!*held || c.faultIndex(code) < 0)
	*held = cond
	return raise
}

// clearFault clears the active fault code, reported as a fault.cleared
// event with cause and whether the clear also released the e-stop latch,
// and reports whether it was active.
func (c *Controller) clearFault(code FaultCode, cause string, estop bool) bool {
	i := c.faultIndex(code)
	if i < 0 {
		return false
	}
	f := c.faults[i]
	c.faults = append(c.faults[:i:i], c.faults[i+1:]...)
	c.faultsVer++
	c.cleared[code] = clearedFault{since: f.Since, count: f.Count, at: c.clock.Now()}
	fields := f.fields()
	fields["cause"] = cause
	fields["estop"] = estop
	c.emit(EventFaultCleared, fields)
	return true
}

func (c *Controller) faultIndex(code FaultCode) int {
	for i, f := range c.faults {
		if f.Code == code {
			return i
		}
	}
	return -1
}

// firstFault is the message of the oldest active fault, "" when healthy.
func (c *Controller) firstFault() string {
	if len(c.faults) == 0 {
		return ""
	}
	return c.faults[0].Message
}
