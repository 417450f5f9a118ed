package sortie

import (
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// loadActive reads the sortie that was active when the agent stopped. It
// is resumed by recoverStep from what the vehicle and the limit switches
// report once the vehicle link is up (or RecoverWait passed).
func (e *Engine) loadActive(now time.Time) {
	var rec Record
	if !e.readState(fileActive, &rec) || rec.ID == "" || rec.Phase.Terminal() {
		return
	}
	s := &sortie{rec: rec, recovered: true}
	if r, ok := e.routes[rec.Route]; ok && rec.Kind == dock.KindPatrol {
		s.rt = r
		s.mission = missionOf(r, e.opts.Flight.CruiseSpeedMPS)
	}
	if rec.Target != nil {
		loiter := time.Duration(rec.LoiterS * float64(time.Second))
		s.rt = dispatchRoute("dispatch", *rec.Target, loiter)
		s.mission = dispatchMission(*rec.Target, loiter)
	}
	e.active = s
	e.recoverBy = now.Add(e.opts.RecoverWait)
	e.hw.SetSortie(s.ref())
	e.log.Warn("resuming sortie after restart", "sortie_id", rec.ID, "phase", string(rec.Phase))
}

// recoverStep decides how an interrupted sortie goes on: airborne (keep
// the lid open, monitor the return, secure after landing; a launch whose
// vehicle is found flying resumes as airborne), landed and disarmed
// (secure), or never launched (abort with agent_restart).
func (e *Engine) recoverStep(now time.Time, s *sortie) {
	v := e.veh.State()
	if !v.Link && now.Before(e.recoverBy) {
		return
	}
	s.recovered = false
	st := e.hw.Snapshot()
	launched := !s.rec.TakeoffAt.IsZero()
	flying := v.Link && (v.Landed == dock.LandedInAir || v.Landed == dock.LandedTakeoff || v.Landed == dock.LandedLanding ||
		(v.Armed && v.Landed == dock.LandedUndefined && v.RelAltM > 2)) // no EXTENDED_SYS_STATE yet
	inAir := v.Link && (v.Armed || flying)
	switch {
	case flying && !launched:
		// The take-off went out just before the agent stopped, and the
		// record still says launching: the vehicle flies. Resume the
		// flight instead of securing a dock it has just left.
		s.launched = true
		s.airSeen = true
		s.rec.TakeoffAt = now
		s.reason(ReasonAgentRestart + ": found in the air during launching, flight resumed")
		e.setPhase(now, s, dock.PhaseAirborne, ReasonAgentRestart)
		if st.Lid != dock.LidOpen {
			e.moveLid(s, dock.MotionOpenLid)
		}
	case !v.Link && launched:
		// Unknown: the vehicle's failsafe brings it home; be ready.
		s.launched = true
		s.reason(ReasonAgentRestart + ": vehicle link down, lid kept open for its return")
		if s.rec.Phase != dock.PhaseReturning && s.rec.Phase != dock.PhaseLanding {
			e.setPhase(now, s, dock.PhaseReturning, ReasonAgentRestart)
		}
		if st.Lid != dock.LidOpen {
			e.moveLid(s, dock.MotionOpenLid)
		}
	case inAir && launched:
		s.launched = true
		s.airSeen = true
		s.gotoSent = true
		s.reason(ReasonAgentRestart + ": resumed in flight")
		switch s.rec.Phase {
		case dock.PhaseAirborne, dock.PhaseOnStation, dock.PhaseReturning, dock.PhaseLanding:
			if s.rec.Phase == dock.PhaseOnStation && s.rec.Kind == dock.KindDispatch {
				s.loiterEnd = s.rec.StationAt.Add(time.Duration(s.rec.LoiterS * float64(time.Second)))
			}
			e.hw.SetSortie(s.ref())
		default:
			e.setPhase(now, s, dock.PhaseReturning, ReasonAgentRestart)
			s.recalled = true
		}
		if st.Lid != dock.LidOpen {
			e.moveLid(s, dock.MotionOpenLid)
		}
	case launched && v.Link && v.Landed == dock.LandedOnGround && !v.Armed:
		s.launched = true
		s.reason(ReasonAgentRestart + ": found landed")
		if s.rec.Phase != dock.PhaseLanded {
			e.setPhase(now, s, dock.PhaseLanded, "")
		}
		e.startSecure(now, s, false)
	default:
		s.aborting = true
		s.reason(ReasonAgentRestart)
		e.startSecure(now, s, true)
	}
}
