package dock

import (
	"time"

	"github.com/dockagent/dock-agent/dock/fault"
)

// Fault is one active fault, as listed in State.Faults. Since is when it
// was first raised; Count is how often it was raised since, counting the
// returns within ControllerOptions.FaultDamping of being cleared (a
// flapping fault stays one fault).
type Fault struct {
	Code      fault.Code      `json:"code"`
	Severity  fault.Severity  `json:"severity"`
	Component fault.Component `json:"component"`
	Message   string          `json:"message"`
	Since     time.Time       `json:"since"`
	Count     int             `json:"count"`
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
type motionFaults struct{ timeout, stuck, reclosed fault.Code }

// partFaults returns the motion fault codes of part ("lid" or "arms").
func partFaults(part string) motionFaults {
	if part == "lid" {
		return motionFaults{fault.LidTimeout, fault.LidLimitStuck, fault.LidLimitReclosed}
	}
	return motionFaults{fault.ArmsTimeout, fault.ArmsLimitStuck, fault.ArmsLimitReclosed}
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
func (c *Controller) raise(code fault.Code, message string) {
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
func (c *Controller) onset(held *bool, cond bool, code fault.Code) bool {
	raise := cond && (!*held || c.faultIndex(code) < 0)
	*held = cond
	return raise
}

// clearFault clears the active fault code, reported as a fault.cleared
// event with cause and whether the clear also released the e-stop latch,
// and reports whether it was active.
func (c *Controller) clearFault(code fault.Code, cause string, estop bool) bool {
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

func (c *Controller) faultIndex(code fault.Code) int {
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
