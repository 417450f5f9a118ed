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

// queuedRecord is a queued sortie as stored in queue.json.
type queuedRecord struct {
	Record   Record    `json:"record"`
	QueuedAt time.Time `json:"queued_at"`
}

// saveQueue stores the queue when it changed since it was last stored.
func (e *Engine) saveQueue() {
	key := ""
	for _, s := range e.queue {
		key += s.rec.ID + "/" + string(s.rec.Phase) + " "
	}
	if key == e.queueKey {
		return
	}
	out := make([]queuedRecord, 0, len(e.queue))
	for _, s := range e.queue {
		out = append(out, queuedRecord{Record: s.rec, QueuedAt: s.queuedAt})
	}
	if err := e.store.write(fileQueue, out); err != nil {
		e.log.Error("dispatch queue not stored", "err", err)
		return
	}
	e.queueKey = key
}

// loadQueue reads the dispatches that were queued when the agent stopped;
// they keep their place and their queue time (QueueTimeout goes on).
func (e *Engine) loadQueue(now time.Time) {
	var recs []queuedRecord
	if !e.readState(fileQueue, &recs) {
		return
	}
	for _, q := range recs {
		rec := q.Record
		if rec.ID == "" || rec.Phase.Terminal() || (e.active != nil && e.active.rec.ID == rec.ID) {
			continue
		}
		s := &sortie{rec: rec, queuedAt: q.QueuedAt}
		if rec.Target != nil {
			loiter := time.Duration(rec.LoiterS * float64(time.Second))
			s.rt = dispatchRoute("dispatch", *rec.Target, loiter)
			s.mission = dispatchMission(*rec.Target, loiter)
		} else if r, ok := e.routes[rec.Route]; ok {
			s.rt = r
			s.mission = missionOf(r, e.opts.Flight.CruiseSpeedMPS)
		} else {
			e.log.Error("queued sortie dropped after restart: its route is gone", "sortie_id", rec.ID, "route", rec.Route)
			s.reason(ReasonAgentRestart + ": route " + rec.Route + " no longer exists")
			e.finish(now, s, dock.PhaseFailed, OutcomeFailed)
			continue
		}
		e.queue = append(e.queue, s)
		e.log.Warn("queued sortie kept after restart", "sortie_id", rec.ID, "position", len(e.queue))
	}
	if e.active == nil && len(e.queue) > 0 {
		e.hw.SetSortie(e.queue[0].ref())
	}
	e.saveQueue()
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
