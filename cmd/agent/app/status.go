package app

import (
	"fmt"
	"strings"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry"
)

// statusLine sends systemd a STATUS= line a person can read in
// `systemctl status`, whenever it changes.
type statusLine struct {
	notify Notifier
	last   string
}

func (s *statusLine) update(d dock.State, h telemetry.Health, v dock.VehicleState) {
	var b strings.Builder
	switch {
	case d.EStop || d.EStopLatched:
		b.WriteString("E-STOP latched")
	case d.Fault != "":
		fmt.Fprintf(&b, "FAULT: %s", d.Fault)
	case d.Sortie != nil:
		fmt.Fprintf(&b, "sortie %s %s", d.Sortie.ID, d.Sortie.Phase)
	default:
		fmt.Fprintf(&b, "idle (%s)", d.Mode)
	}
	fmt.Fprintf(&b, "; lid %s, arms %s", d.Lid, d.Arms)
	if h.Connected {
		b.WriteString("; broker connected")
	} else {
		b.WriteString("; broker DOWN")
	}
	if h.OutboxDepth > 0 {
		fmt.Fprintf(&b, " (%d events waiting)", h.OutboxDepth)
	}
	if v.Link {
		fmt.Fprintf(&b, "; vehicle link up (%s)", v.Mode)
	} else {
		b.WriteString("; vehicle link DOWN")
	}
	line := b.String()
	if line == s.last {
		return
	}
	s.last = line
	s.notify.Notify("STATUS=" + line)
}
