package metrics

import (
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/fault"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// The label values every labelled counter starts with at zero, so that a
// rate or an alert on a counter works before its first increment (a series
// that appears at 1 is an increase no rate() sees). complete_test.go checks
// the lists against the constants in the contract, dock and dock/sortie.

// commandNames are the commands of the MQTT contract.
func commandNames() []contract.Command { return contract.Commands() }

// commandResults are "ok" and the contract's error codes.
func commandResults() []string {
	out := []string{"ok"}
	for _, c := range contract.Codes() {
		out = append(out, string(c))
	}
	return out
}

// sortieOutcomes are the outcomes of a sortie report (sortie.Outcome*).
func sortieOutcomes() []string {
	return []string{"complete", "not_reached", "late", "landed_away", "aborted", "failed", "dry_run_ok"}
}

// motionResults are how a motion ends (the command.progress statuses
// other than in_progress).
func motionResults() []dock.ProgressStatus {
	return []dock.ProgressStatus{dock.ProgressOK, dock.ProgressFailed, dock.ProgressCanceled, dock.ProgressTimeout}
}

// actuators are the parts that move.
func actuators() []string { return []string{"lid", "arms"} }

// faultKinds are the kinds faults_total counts.
func faultKinds() []string { return []string{"fault", "estop"} }

// faultCodes are the codes faults_by_code_total counts (fault.Codes).
func faultCodes() []string {
	var out []string
	for _, c := range fault.Codes() {
		out = append(out, string(c))
	}
	return out
}

// zeroLabelled creates every known series of the labelled counters at 0.
func (m *Metrics) zeroLabelled() {
	for _, c := range commandNames() {
		for _, r := range commandResults() {
			m.commands.with(string(c), r)
		}
	}
	for _, o := range sortieOutcomes() {
		m.sorties.with(o)
	}
	for _, a := range actuators() {
		for _, r := range motionResults() {
			m.motions.with(a, string(r))
		}
	}
	for _, k := range faultKinds() {
		m.faults.with(k)
	}
	for _, c := range faultCodes() {
		m.faultCodes.with(c)
	}
}
