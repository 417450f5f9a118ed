package sortie

import (
	"context"
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// setPhase moves s to phase p: the record is persisted (active.json), the
// controller's state.sortie updated and a sortie.phase event emitted.
func (e *Engine) setPhase(now time.Time, s *sortie, p dock.Phase, reason string) {
	s.rec.Phase = p
	s.rec.Phases = append(s.rec.Phases, PhaseTime{Phase: p, At: now})
	f := map[string]any{"sortie_id": s.rec.ID, "kind": string(s.rec.Kind), "phase": string(p)}
	if reason != "" {
		f["reason"] = reason
	}
	if s.rec.RequestID != "" {
		f["request_id"] = s.rec.RequestID
	}
	if s.rec.Route != "" {
		f["route"] = s.rec.Route
	}
	if s.rec.Ref != "" {
		f["ref"] = s.rec.Ref
	}
	e.log.Info("sortie phase", "sortie_id", s.rec.ID, "kind", string(s.rec.Kind), "phase", string(p), "reason", reason)
	e.emit(dock.EventSortiePhase, now, f)
	if s == e.active {
		if p.Terminal() {
			// state.sortie is null when idle, or names the next queued one.
			var next *dock.SortieRef
			if len(e.queue) > 0 {
				next = e.queue[0].ref()
			}
			e.hw.SetSortie(next)
		} else {
			e.hw.SetSortie(s.ref())
		}
		if !p.Terminal() {
			if err := e.store.write(fileActive, s.rec); err != nil {
				e.log.Error("active sortie not stored", "sortie_id", s.rec.ID, "err", err)
			}
		}
	}
	if s.rec.RequestID != "" {
		status := dock.ProgressInProgress
		switch {
		case p == dock.PhaseComplete:
			status = dock.ProgressOK
		case p == dock.PhaseAborted:
			status = dock.ProgressCanceled
		case p == dock.PhaseFailed:
			status = dock.ProgressFailed
		}
		pf := map[string]any{"id": s.rec.RequestID, "status": string(status), "step": "sortie." + string(p), "percent": phasePercent(p)}
		if reason != "" {
			pf["error"] = reason
		}
		e.emit(dock.EventCommandProgress, now, pf)
	}
}

func phasePercent(p dock.Phase) int {
	order := []dock.Phase{dock.PhaseQueued, dock.PhasePreflight, dock.PhaseLaunching, dock.PhaseAirborne,
		dock.PhaseOnStation, dock.PhaseReturning, dock.PhaseLanding, dock.PhaseLanded, dock.PhaseSecuring, dock.PhaseComplete}
	for i, x := range order {
		if x == p {
			return i * 100 / (len(order) - 1)
		}
	}
	return 100
}

// begin makes s the active sortie and starts its launch: queued,
// preflight (passed by the caller), launching.
func (e *Engine) begin(now time.Time, s *sortie) {
	e.active = s
	v := e.veh.State()
	s.rec.BatteryStart = v.BatteryPct
	if s.rec.Kind == dock.KindDispatch && !s.queuedAt.IsZero() && s.rec.Target != nil {
		e.promiseAtLaunch(now, s)
	}
	if len(s.rec.Phases) == 0 {
		e.setPhase(now, s, dock.PhaseQueued, "")
	}
	e.setPhase(now, s, dock.PhasePreflight, "")
	e.setPhase(now, s, dock.PhaseLaunching, "")
	e.startLaunch(s)
}

// finish ends s in terminal phase p with outcome: the report is stored and
// emitted, the flight log stopped.
func (e *Engine) finish(now time.Time, s *sortie, p dock.Phase, outcome string) {
	if s.job != nil {
		s.job()
		s.job = nil
	}
	v := e.veh.State()
	s.rec.Outcome = outcome
	if s.rec.BatteryStart > 0 && v.BatteryPct >= 0 {
		s.rec.BatteryEnd = v.BatteryPct
		s.rec.BatteryUsed = max(0, s.rec.BatteryStart-v.BatteryPct)
		if s.launched && !s.rec.TakeoffAt.IsZero() && s.rec.DivertedTo == "" && s.rec.DivertedFrom == "" {
			e.learnEnergy(s, now.Sub(s.rec.TakeoffAt))
		}
	}
	reason := ""
	if p != dock.PhaseComplete && len(s.rec.Reasons) > 0 {
		reason = s.rec.Reasons[0]
	}
	e.setPhase(now, s, p, reason)
	if s.rec.TLog != "" && e.opts.FlightLog != nil && s.rec.DivertedTo == "" {
		if err := e.opts.FlightLog.Stop(); err != nil {
			e.log.Warn("flight log not closed", "sortie_id", s.rec.ID, "err", err)
		}
	}
	if err := e.store.write(dirSorties+"/"+s.rec.ID+".json", s.rec); err != nil {
		e.log.Error("sortie report not stored", "sortie_id", s.rec.ID, "err", err)
	}
	e.emit(dock.EventSortieReport, now, s.rec.fields())
	if s == e.active {
		e.active = nil
		if err := e.store.remove(fileActive); err != nil {
			e.log.Error("active sortie record not removed", "err", err)
		}
	}
}

// abort stops a sortie before take-off: the launch is canceled, the
// vehicle disarmed if it was armed, and the dock secured.
func (e *Engine) abort(now time.Time, s *sortie, why string) {
	if s.aborting {
		return
	}
	s.aborting = true
	s.reason(why)
	e.log.Warn("sortie aborted before take-off", "sortie_id", s.rec.ID, "reason", why)
	if s.job != nil {
		// The launch job ends on its ctx and reports back; securing follows.
		s.job()
		return
	}
	e.startSecure(now, s, true)
}

// recall sends a vehicle in the air home.
func (e *Engine) recall(now time.Time, s *sortie, why string) {
	if s.recalled {
		return
	}
	if why != "" {
		s.reason(why)
	}
	s.recalled = true
	s.rtlWanted = true
	e.sendRTL(s)
	if s.rec.Kind == dock.KindDispatch && s.rec.StationAt.IsZero() && !s.rec.DryRun {
		e.breakPromise(now, s, PromiseStation, "recalled before reaching the scene", map[string]any{"cause": why})
	}
	if s.rec.Phase == dock.PhaseAirborne || s.rec.Phase == dock.PhaseOnStation {
		e.setPhase(now, s, dock.PhaseReturning, why)
	}
}

// sendRTL commands the return in a job, retried on the next tick when the
// vehicle refused it.
func (e *Engine) sendRTL(s *sortie) {
	if s.rtlBusy {
		return
	}
	s.rtlBusy = true
	e.job(func(ctx context.Context) func(time.Time) {
		err := e.veh.ReturnToLaunch(ctx)
		return func(now time.Time) {
			s.rtlBusy = false
			if err != nil {
				e.log.Warn("return to launch refused, retrying", "sortie_id", s.rec.ID, "err", err)
				return
			}
			s.rtlWanted = false
			s.holding = false
		}
	})
}

// vehicleCmd runs one vehicle command in a job and logs a refusal.
func (e *Engine) vehicleCmd(s *sortie, what string, fn func(ctx context.Context) error, then func(now time.Time, err error)) {
	e.job(func(ctx context.Context) func(time.Time) {
		err := fn(ctx)
		return func(now time.Time) {
			if err != nil {
				e.log.Warn("vehicle command refused", "sortie_id", s.rec.ID, "command", what, "err", err)
			}
			if then != nil {
				then(now, err)
			}
		}
	})
}

func errText(stage string, err error) string {
	return fmt.Sprintf("%s: %v", stage, err)
}
