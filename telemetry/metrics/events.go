package metrics

import (
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// EventSink wraps next (the durable outbox) so that the events the dock
// emits also feed the metrics: sortie.report counts sorties by its
// "outcome" and observes its "launch_latency_s" (when present and the
// sortie took off) and its "eta_error_pct" (a dispatch on station); fault counts faults_total{kind="fault"} and
// faults_by_code_total{code} by its "code"; an estop event
// with "pressed": true counts faults_total{kind="estop"}. The event is
// passed on unchanged and next's error returned.
func (m *Metrics) EventSink(next dock.EventSink) dock.EventSink {
	return eventSink{m: m, next: next}
}

type eventSink struct {
	m    *Metrics
	next dock.EventSink
}

func (s eventSink) Emit(e dock.Event) error {
	err := s.next.Emit(e)
	switch e.Type {
	case dock.EventSortieReport:
		if outcome, ok := e.Fields["outcome"].(string); ok && outcome != "" {
			s.m.Sortie(outcome)
		} else {
			s.m.Sortie("unknown")
		}
		if sec, ok := number(e.Fields["launch_latency_s"]); ok && sec > 0 {
			s.m.LaunchLatency(time.Duration(sec * float64(time.Second)))
		}
		if pct, ok := number(e.Fields["eta_error_pct"]); ok {
			s.m.ETAError(pct / 100)
		}
	case dock.EventFault:
		s.m.Fault("fault")
		if code, ok := e.Fields["code"].(string); ok {
			s.m.FaultCode(dock.FaultCode(code))
		}
	case dock.EventEStop:
		if pressed, _ := e.Fields["pressed"].(bool); pressed {
			s.m.Fault("estop")
		}
	}
	return err
}

// number reads a JSON-ish number of any Go numeric type.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case time.Duration:
		return n.Seconds(), true
	}
	return 0, false
}
