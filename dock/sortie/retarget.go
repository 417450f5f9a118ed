package sortie

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// Retarget moves the active dispatch (sortieID, or the active one when
// empty) to a new point: a moving incident. It is checked like a dispatch
// from where the vehicle is: inside the geofence, and the battery covering
// the way there, the loiter and the way home with the reserve. A queued or
// launching dispatch takes the new point when it flies; one in the air
// is sent there at once; one on station leaves for it. A dispatch coming
// home, or a patrol, is refused: send a new dispatch.
func (e *Engine) Retarget(ctx context.Context, sortieID string, lat, lon float64, altM *float64) (dock.RetargetResult, error) {
	var res dock.RetargetResult
	var err error
	if derr := e.do(ctx, func(now time.Time) { res, err = e.retarget(now, sortieID, lat, lon, altM) }); derr != nil {
		return dock.RetargetResult{}, derr
	}
	return res, err
}

func (e *Engine) retarget(now time.Time, sortieID string, lat, lon float64, altM *float64) (dock.RetargetResult, error) {
	s, err := e.retargetable(sortieID)
	if err != nil {
		return dock.RetargetResult{}, err
	}
	if altM == nil {
		a := s.rec.Target.AltM
		altM = &a
	}
	t, err := e.target("retarget", lat, lon, altM)
	if err != nil {
		return dock.RetargetResult{}, err
	}
	st := e.hw.Snapshot()
	w := windOf(st)
	tp := route.Point{Lat: t.Lat, Lon: t.Lon}
	loiter := time.Duration(s.rec.LoiterS * float64(time.Second))
	from, flying := e.home, s.launched
	if flying {
		v := e.veh.State()
		from = route.Point{Lat: v.Lat, Lon: v.Lon}
	}
	if g := e.retargetGates(s, from, t, loiter, w); len(g) > 0 {
		return dock.RetargetResult{}, &dock.GateError{Gates: g}
	}

	var eta time.Duration
	if flying {
		eta = e.legTime(from, tp, w)
	} else {
		p := e.circleParams()
		p.PatrolAltM = t.AltM
		eta, _, _, _ = p.ETA(tp, w)
		if s.rec.Phase == dock.PhaseLaunching || s.rec.Phase == dock.PhasePreflight {
			eta -= min(now.Sub(s.launchAt), eta)
		}
	}
	old := *s.rec.Target
	s.rec.Target = &t
	s.rt = dispatchRoute("dispatch", t, loiter)
	s.mission = dispatchMission(t, loiter)
	s.rec.Retargeted++
	if s.rec.Phase != dock.PhaseQueued {
		// A new promise: the time so far and the way from here. The
		// circle was the first point's.
		s.rec.ETAS = math.Round(now.Sub(s.rec.CommandAt).Seconds() + eta.Seconds())
		s.rec.CircleMin = nil
	}
	switch s.rec.Phase {
	case dock.PhaseOnStation:
		s.rec.StationAt, s.rec.TimeToStationS, s.loiterEnd = time.Time{}, 0, time.Time{}
		e.setPhase(now, s, dock.PhaseAirborne, "retargeted")
		e.goTo(now, s, from, w)
	case dock.PhaseAirborne:
		if s.gotoSent {
			e.goTo(now, s, from, w)
		}
	}
	res := dock.RetargetResult{SortieID: s.rec.ID, Phase: s.rec.Phase, ETAS: math.Round(eta.Seconds()),
		DistanceM: math.Round(route.Distance(from, tp)), PromisedETAS: s.rec.ETAS}
	f := map[string]any{"sortie_id": s.rec.ID, "from": old, "to": t, "eta_s": res.ETAS, "promised_eta_s": s.rec.ETAS,
		"phase": string(s.rec.Phase), "distance_m": res.DistanceM}
	if s.rec.Ref != "" {
		f["ref"] = s.rec.Ref
	}
	e.log.Info("dispatch retargeted", "sortie_id", s.rec.ID, "lat", t.Lat, "lon", t.Lon, "eta_s", res.ETAS)
	e.emit(dock.EventRetargeted, now, f)
	return res, nil
}

// retargetable finds the dispatch a retarget moves: the active one or a
// queued one by id, outbound or holding.
func (e *Engine) retargetable(id string) (*sortie, error) {
	var s *sortie
	switch {
	case id == "" && e.active == nil:
		return nil, dock.Errorf(dock.ErrPrecondition, "retarget: no active sortie")
	case id == "" || (e.active != nil && e.active.rec.ID == id):
		s = e.active
	default:
		for _, q := range e.queue {
			if q.rec.ID == id {
				s = q
			}
		}
		if s == nil {
			return nil, dock.Errorf(dock.ErrInvalidArgument, "retarget: no active or queued sortie %q", id)
		}
	}
	if s.rec.Kind != dock.KindDispatch || s.rec.Target == nil {
		return nil, dock.Errorf(dock.ErrPrecondition, "retarget: sortie %s is a %s, not a dispatch", s.rec.ID, s.rec.Kind)
	}
	if s.aborting || s.recalled || s.rtlWanted {
		return nil, dock.Errorf(dock.ErrPrecondition, "retarget: dispatch %s is coming home (%s): send a new dispatch", s.rec.ID, s.rec.Phase)
	}
	switch s.rec.Phase {
	case dock.PhaseQueued, dock.PhasePreflight, dock.PhaseLaunching, dock.PhaseAirborne, dock.PhaseOnStation:
		return s, nil
	}
	return nil, dock.Errorf(dock.ErrPrecondition, "retarget: dispatch %s is %s: send a new dispatch", s.rec.ID, s.rec.Phase)
}

// retargetGates checks a new target from where the vehicle is (the dock
// before it flies): the geofence on the way there and home, and the
// battery for the way there, the loiter and the way home with the reserve.
func (e *Engine) retargetGates(s *sortie, from route.Point, t Target, loiter time.Duration, w route.Wind) []dock.Gate {
	var g []dock.Gate
	r := dispatchRoute("retarget", t, loiter)
	for _, origin := range []route.Point{from, e.home} {
		if err := e.fence.CheckRoute(origin, r); err != nil {
			g = append(g, dock.Gate{Name: "geofence", Note: err.Error()})
			break
		}
	}
	v := e.veh.State()
	if v.BatteryPct < 0 {
		return append(g, dock.Gate{Name: "battery", Note: "battery unknown"})
	}
	fromAlt := 0.0
	if s.launched {
		fromAlt = v.RelAltM
	}
	m := e.model()
	tp := route.Point{Lat: t.Lat, Lon: t.Lon}
	out, err := m.Leg(0, from, fromAlt, tp, t.AltM, 0, loiter, w)
	if err == nil {
		var back route.Leg
		back, err = m.Leg(1, tp, t.AltM, e.home, 0, 0, 0, w)
		need := out.Pct + back.Pct + m.OverheadPct
		if err == nil && v.BatteryPct < need+e.opts.Limits.BatteryReservePct {
			g = append(g, dock.Gate{Name: "battery", Unit: "pct", Value: round1(v.BatteryPct),
				Limit: round1(need + e.opts.Limits.BatteryReservePct)})
		}
	}
	if err != nil {
		g = append(g, dock.Gate{Name: "wind", Note: fmt.Sprintf("retarget: %v", err)})
	}
	return g
}
