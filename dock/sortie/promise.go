package sortie

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/fault"
	"github.com/dockagent/dock-agent/dock/route"
)

// Promises a sortie may break (Record.Broken, the sortie.promise_broken
// event): a dispatch promised its ETA and its response circle when it was
// accepted, and every sortie promises to come back to the pad.
const (
	PromiseETA     = "eta"      // on station later than eta_s plus the tolerance
	PromiseCircle  = "circle"   // on station later than circle_min minutes
	PromiseStation = "on_scene" // never on station
	PromisePad     = "pad"      // on the ground away from the pad
)

// keepPromises reports, once each and at the moment it happens, a
// dispatch's ETA and circle passing with the vehicle not yet on station.
func (e *Engine) keepPromises(now time.Time, s *sortie) {
	r := &s.rec
	if r.Kind != dock.KindDispatch || r.ETAS <= 0 {
		return
	}
	at := now.Sub(r.CommandAt).Seconds()
	if !r.StationAt.IsZero() {
		at = r.TimeToStationS
	}
	if limit := r.ETAS * (1 + e.opts.ETATolerancePct/100); at > limit {
		e.breakPromise(now, s, PromiseETA, fmt.Sprintf("not on station %.0f s after the dispatch: promised %.0f s (+%.0f %%)",
			at, r.ETAS, e.opts.ETATolerancePct), map[string]any{"eta_s": r.ETAS, "elapsed_s": math.Round(at)})
	}
	if r.CircleMin != nil && at > float64(*r.CircleMin*60) {
		e.breakPromise(now, s, PromiseCircle, fmt.Sprintf("not on station within the %d-minute circle", *r.CircleMin),
			map[string]any{"circle_min": *r.CircleMin, "elapsed_s": math.Round(at)})
	}
}

// promiseAtLaunch fixes the promise of a dispatch that waited in the
// queue: its reply said queued, with the ETA of a launch from an idle
// dock, so no time was promised then. Its ETA is now the wait so far plus
// the ETA of a launch now, and it carries no circle.
func (e *Engine) promiseAtLaunch(now time.Time, s *sortie) {
	t := s.rec.Target
	p := e.circleParams()
	p.PatrolAltM = t.AltM
	eta, _, _, ok := p.ETA(route.Point{Lat: t.Lat, Lon: t.Lon}, windOf(e.hw.Snapshot()))
	if !ok {
		return
	}
	s.rec.ETAS = math.Round(now.Sub(s.rec.CommandAt).Seconds() + eta.Seconds())
	s.rec.CircleMin = nil
}

// breakPromise records promise p broken, with a sortie.promise_broken
// event at once, so a command centre can send another unit.
func (e *Engine) breakPromise(now time.Time, s *sortie, p, why string, fields map[string]any) {
	for _, b := range s.rec.Broken {
		if b == p {
			return
		}
	}
	s.rec.Broken = append(s.rec.Broken, p)
	s.reason(why)
	f := map[string]any{"sortie_id": s.rec.ID, "promise": p, "message": why}
	if s.rec.RequestID != "" {
		f["request_id"] = s.rec.RequestID
	}
	if s.rec.Ref != "" {
		f["ref"] = s.rec.Ref
	}
	for k, v := range fields {
		f[k] = v
	}
	e.log.Warn("sortie promise broken", "sortie_id", s.rec.ID, "promise", p, "reason", why)
	e.emit(dock.EventPromiseBroken, now, f)
}

// verdict is how a sortie that came back ends: complete only when every
// promise was kept. A dispatch that never got on station is not_reached,
// one that got there late is late; both end failed, as does a vehicle on
// the ground away from the pad.
func (e *Engine) verdict(s *sortie) (dock.Phase, string) {
	r := s.rec
	switch {
	case r.DryRun:
		return dock.PhaseComplete, OutcomeDryRunOK
	case r.Kind == dock.KindDispatch && r.StationAt.IsZero():
		return dock.PhaseFailed, OutcomeNotReached
	case hasPromise(r.Broken, PromisePad):
		return dock.PhaseFailed, OutcomeLandedAway
	case len(r.Broken) > 0:
		return dock.PhaseFailed, OutcomeLate
	}
	return dock.PhaseComplete, OutcomeComplete
}

func hasPromise(broken []string, p string) bool {
	for _, b := range broken {
		if b == p {
			return true
		}
	}
	return false
}

// offPad reports whether a vehicle reporting a position stands farther
// than the pad radius from the dock.
func (e *Engine) offPad(v dock.VehicleState) bool {
	if v.Lat == 0 && v.Lon == 0 {
		return false
	}
	return route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, e.home) > e.opts.Dock.PadRadiusM
}

// landedAway handles a vehicle on the ground (disarmed) away from the pad
// (invariant 9): a vehicle.landed_away event with where it is, a dock
// fault a person must reset, and the sortie ends failed. The dock never
// reports it docked; the lid stays as it is (the controller refuses to
// close it over a vehicle neither docked nor clear).
func (e *Engine) landedAway(ctx context.Context, now time.Time, s *sortie, v dock.VehicleState) {
	d := route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, e.home)
	why := fmt.Sprintf("vehicle on the ground %.0f m from the dock at %.6f,%.6f", d, v.Lat, v.Lon)
	s.rec.LandedAway = &Target{Lat: v.Lat, Lon: v.Lon, AltM: v.RelAltM}
	e.log.Error("vehicle landed away from the pad", "sortie_id", s.rec.ID, "distance_m", math.Round(d), "lat", v.Lat, "lon", v.Lon)
	e.emit(dock.EventLandedAway, now, map[string]any{"sortie_id": s.rec.ID, "lat": v.Lat, "lon": v.Lon,
		"distance_m": math.Round(d), "mode": v.Mode})
	if s.rec.Kind == dock.KindDispatch && s.rec.StationAt.IsZero() {
		e.breakPromise(now, s, PromiseStation, "never on station: "+why, nil)
	}
	e.breakPromise(now, s, PromisePad, why, map[string]any{"distance_m": math.Round(d)})
	if err := e.hw.RaiseFault(ctx, fault.VehicleLandedAway, "vehicle.landed_away: "+why); err != nil {
		e.log.Error("landed-away fault not raised", "err", err)
	}
	ph, out := e.verdict(s)
	e.finish(now, s, ph, out)
}
