package sortie

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/request"
	"github.com/dockagent/dock-agent/dock/route"
)

// tick runs every Tick on the loop: recovery, in-flight monitoring, the
// queue, idle securing, the charger and the circles.
func (e *Engine) tick(ctx context.Context, now time.Time) {
	e.updateCircles(false)
	e.alertTick(now)
	if s := e.active; s != nil && s.recovered {
		e.recoverStep(now, s)
	}
	if s := e.active; s != nil && s.inFlight() {
		e.monitor(ctx, now, s)
	}
	e.preempt(now)
	if e.active == nil {
		e.serveQueue(now)
	}
	if e.active == nil && !e.idleJob {
		e.chargerControl(ctx, now)
	}
}

// monitor watches a vehicle in the air once per tick.
func (e *Engine) monitor(ctx context.Context, now time.Time, s *sortie) {
	st := e.hw.Snapshot()
	v := e.veh.State()
	pos := route.Point{Lat: v.Lat, Lon: v.Lon}
	if v.Link && pos.Valid() && (v.Lat != 0 || v.Lon != 0) {
		if s.lastPos != nil {
			s.rec.DistanceM += route.Distance(*s.lastPos, pos)
		}
		s.lastPos = &pos
		s.rec.MaxAltM = max(s.rec.MaxAltM, v.RelAltM)
	}
	// Link: the vehicle's own failsafe flies it home; keep the lid open.
	if !v.Link {
		if s.linkLost.IsZero() {
			s.linkLost = now
		}
		if !s.linkNoted && now.Sub(s.linkLost) >= e.opts.LinkLostAfter {
			s.linkNoted = true
			s.reason(fmt.Sprintf("vehicle link lost for %v", now.Sub(s.linkLost).Round(time.Second)))
			e.log.Error("vehicle link lost in flight: lid kept open for the failsafe return", "sortie_id", s.rec.ID)
		}
		e.lidForReturn(now, s, st, v, 0, true)
		return
	}
	if !s.linkLost.IsZero() {
		e.log.Info("vehicle link back", "sortie_id", s.rec.ID, "after", now.Sub(s.linkLost))
		s.linkLost, s.linkNoted = time.Time{}, false
	}
	if v.Armed || v.Landed == dock.LandedInAir || v.Landed == dock.LandedTakeoff || v.Landed == dock.LandedLanding {
		s.airSeen = true
	}
	if v.Landed == dock.LandedOnGround && !v.Armed && e.landingConfirmed(s, v) {
		e.landed(ctx, now, s, v)
		return
	}
	e.keepPromises(now, s)
	w := windOf(st)
	switch s.rec.Phase {
	case dock.PhaseAirborne, dock.PhaseOnStation:
		if why := e.limitCrossed(st, v, pos, w); why != "" {
			e.recall(now, s, why)
		}
	}
	first, last, rtl := waypointSeqs(s.mission)
	switch s.rec.Phase {
	case dock.PhaseAirborne:
		if s.rec.Kind == dock.KindDispatch {
			t := s.rec.Target
			if !s.gotoSent && v.RelAltM >= min(e.opts.Limits.ClearanceAltM, t.AltM) {
				e.goTo(now, s, pos, w)
			}
			if s.gotoSent && route.Distance(pos, route.Point{Lat: t.Lat, Lon: t.Lon}) <= e.opts.ArriveM {
				e.onStation(now, s)
			}
		} else if v.MissionReached >= first && first >= 0 {
			e.onStation(now, s)
		}
	case dock.PhaseOnStation:
		if s.rec.Kind == dock.KindDispatch {
			if !now.Before(s.loiterEnd) {
				e.recall(now, s, "")
			}
		} else if v.Mode == "RTL" || v.Mode == "LAND" || (last >= 0 && v.MissionReached >= last) || (rtl >= 0 && v.MissionSeq >= rtl) {
			s.recalled = true
			e.setPhase(now, s, dock.PhaseReturning, "")
		}
	case dock.PhaseReturning:
		if v.Landed == dock.LandedLanding || v.Mode == "LAND" ||
			(route.Distance(pos, e.home) <= e.opts.ArriveM && v.RelAltM < e.opts.Limits.ClearanceAltM) {
			e.setPhase(now, s, dock.PhaseLanding, "")
		} else if s.rtlWanted && !s.holding && !s.rtlBusy {
			e.sendRTL(s) // refused before: try again
		}
	}
	eta := e.etaHome(pos, w)
	returning := s.rec.Phase == dock.PhaseReturning || s.rec.Phase == dock.PhaseLanding
	e.lidForReturn(now, s, st, v, eta, returning)
	if !returning {
		e.lidForRain(now, s, st, v, eta)
	}
}

// staleAfterTakeoff is how long after the take-off a heartbeat must be to
// say "disarmed" by itself, for a vehicle never seen in the air: ArduPilot
// disarms a vehicle that did not take off after about 10 s.
const staleAfterTakeoff = 15 * time.Second

// landingConfirmed reports whether a disarmed, on-ground vehicle state is a
// landing: the vehicle was seen in the air since the take-off, or a heartbeat
// well after the take-off says it is disarmed. A snapshot from before the
// take-off (the link lost at once, a heartbeat late under load) would
// otherwise clamp the arms under a climbing vehicle (invariant 3).
func (e *Engine) landingConfirmed(s *sortie, v dock.VehicleState) bool {
	return s.airSeen || v.LastHeartbeat.Sub(s.rec.TakeoffAt) > staleAfterTakeoff
}

// limitCrossed returns why the vehicle must come home now, or "".
func (e *Engine) limitCrossed(st dock.State, v dock.VehicleState, pos route.Point, w route.Wind) string {
	lim := e.opts.Limits
	if v.BatteryPct >= 0 {
		leg, err := e.model().Leg(0, pos, v.RelAltM, e.home, 0, 0, 0, w)
		if err != nil {
			return "battery reserve: " + err.Error()
		}
		if need := leg.Pct + lim.BatteryReservePct; v.BatteryPct < need {
			return fmt.Sprintf("battery reserve: %.1f %% left, %.1f %% needed to get home with reserve", v.BatteryPct, need)
		}
	}
	if !e.fence.Contains(pos) {
		return fmt.Sprintf("geofence: vehicle at %.6f,%.6f outside", pos.Lat, pos.Lon)
	}
	if e.fence.MaxAltM > 0 && v.RelAltM > e.fence.MaxAltM+5 {
		return fmt.Sprintf("geofence: altitude %.0f m above ceiling %.0f m", v.RelAltM, e.fence.MaxAltM)
	}
	if lim.WindMPS > 0 && st.Weather.WindMPS > lim.WindMPS {
		return fmt.Sprintf("weather: wind %.1f m/s over limit %.1f m/s", st.Weather.WindMPS, lim.WindMPS)
	}
	if lim.GustMPS > 0 && st.Weather.GustMPS > lim.GustMPS {
		return fmt.Sprintf("weather: gust %.1f m/s over limit %.1f m/s", st.Weather.GustMPS, lim.GustMPS)
	}
	return ""
}

// goTo sends a dispatch's vehicle from pos to its target, then commands
// the planned speed: ArduCopter flies a reposition at its own default
// (WPNAV_SPEED) until told otherwise. The leg's plan is kept to learn how
// the vehicle really flies.
func (e *Engine) goTo(now time.Time, s *sortie, pos route.Point, w route.Wind) {
	t := *s.rec.Target
	tp := route.Point{Lat: t.Lat, Lon: t.Lon}
	s.gotoSent = true
	s.legAt, s.legPlan = now, e.legTime(pos, tp, w)
	speed := e.commandSpeed(e.veh.State())
	diverted := s.rec.DivertedFrom != ""
	e.vehicleCmd(s, "goto", func(ctx context.Context) error {
		if diverted { // out of the patrol's AUTO mission first
			if err := e.veh.SetMode(ctx, "GUIDED"); err != nil {
				return err
			}
		}
		if err := e.veh.GoTo(ctx, t.Lat, t.Lon, t.AltM); err != nil {
			return err
		}
		return e.veh.SetSpeed(ctx, speed)
	}, func(_ time.Time, err error) {
		if err != nil {
			s.gotoSent = false
		}
	})
}

func (e *Engine) onStation(now time.Time, s *sortie) {
	s.rec.StationAt = now
	s.rec.TimeToStationS = now.Sub(s.rec.CommandAt).Seconds()
	if s.rec.Kind == dock.KindDispatch {
		s.loiterEnd = now.Add(time.Duration(s.rec.LoiterS * float64(time.Second)))
		// Invariant 8: hold in GUIDED (PX4 AUTO.LOITER), never LOITER.
		e.vehicleCmd(s, "hold", e.veh.Hold, nil)
		if !s.legAt.IsZero() {
			e.learnLeg(s.legPlan, now.Sub(s.legAt), s.rec.ID)
		}
		e.keepPromises(now, s)
		if s.rec.ETAS > 0 {
			errPct := (s.rec.TimeToStationS - s.rec.ETAS) / s.rec.ETAS * 100
			s.rec.ETAErrorPct = &errPct
		}
	}
	e.setPhase(now, s, dock.PhaseOnStation, "")
}

// etaHome is how long the vehicle needs to be over the dock, flying home
// at the planned speed in the wind.
func (e *Engine) etaHome(pos route.Point, w route.Wind) time.Duration {
	return e.legTime(pos, e.home, w)
}

// etaFromVehicle is the ETA of the vehicle in the air to t.
func (e *Engine) etaFromVehicle(t Target, st dock.State) time.Duration {
	v := e.veh.State()
	return e.legTime(route.Point{Lat: v.Lat, Lon: v.Lon}, route.Point{Lat: t.Lat, Lon: t.Lon}, windOf(st))
}

// lidForReturn keeps invariant 7: the lid opens in time for a returning
// vehicle (ETA home against the lid's opening time plus LidMargin), and a
// vehicle that would arrive before it is open is told to hold, then sent
// home again once it is. With the link lost the lid opens at once.
func (e *Engine) lidForReturn(now time.Time, s *sortie, st dock.State, v dock.VehicleState, eta time.Duration, returning bool) {
	if st.Lid == dock.LidOpen {
		s.lidOpenAt = time.Time{}
		if s.holding && !s.rtlBusy {
			e.log.Info("lid open: vehicle sent home again", "sortie_id", s.rec.ID)
			e.sendRTL(s)
		}
		return
	}
	openTime := e.hw.LidOpenEstimate()
	if !returning || eta > openTime+e.opts.LidMargin {
		return
	}
	if !s.lidBusy && st.Lid != dock.LidOpening {
		e.moveLid(s, dock.MotionOpenLid)
		s.lidOpenAt = now
	}
	if s.lidOpenAt.IsZero() {
		s.lidOpenAt = now
	}
	// What is left of the opening by the estimate; a lid slower than its
	// estimate (ice, a tired motor) still holds the vehicle at HoldETA.
	left := max(openTime-now.Sub(s.lidOpenAt), e.opts.HoldETA)
	if v.Link && eta < left && !s.holding && s.rec.Phase != dock.PhaseLanding {
		s.holding = true
		s.reason("held: lid not open in time for the return")
		e.log.Warn("lid cannot be open in time: vehicle told to hold", "sortie_id", s.rec.ID, "eta", eta, "lid_left", left)
		e.vehicleCmd(s, "hold", e.veh.Hold, func(_ time.Time, err error) {
			if err != nil {
				s.holding = false
			}
		})
	}
}

// lidForRain closes the lid behind a vehicle beyond the clearance altitude
// while it rains, when the vehicle is far enough from home that the lid can
// open again in time.
func (e *Engine) lidForRain(now time.Time, s *sortie, st dock.State, v dock.VehicleState, eta time.Duration) {
	if !st.Weather.Rain || st.Lid != dock.LidOpen || s.lidBusy || s.recalled {
		return
	}
	if v.RelAltM <= e.opts.Limits.ClearanceAltM || eta <= 2*(e.hw.LidOpenEstimate()+e.opts.LidMargin) {
		return
	}
	e.log.Info("raining: closing the lid behind the vehicle", "sortie_id", s.rec.ID)
	e.moveLid(s, dock.MotionCloseLid)
}

func (e *Engine) moveLid(s *sortie, m dock.Motion) {
	s.lidBusy = true
	e.job(func(ctx context.Context) func(time.Time) {
		done, err := e.hw.StartMotion(context.WithoutCancel(ctx), m, "")
		if err == nil {
			select {
			case err = <-done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		return func(time.Time) {
			s.lidBusy = false
			if err != nil {
				e.log.Warn("lid motion in flight failed", "sortie_id", s.rec.ID, "motion", m.String(), "err", err)
			}
		}
	})
}

// landed handles touchdown: securing, or a turnaround for a waiting
// dispatch (the lid stays open, the arms released). A vehicle on the
// ground away from the pad has not landed (invariant 9): see landedAway.
func (e *Engine) landed(ctx context.Context, now time.Time, s *sortie, v dock.VehicleState) {
	if e.offPad(v) {
		e.landedAway(ctx, now, s, v)
		return
	}
	e.setPhase(now, s, dock.PhaseLanded, "")
	if len(e.queue) > 0 {
		s.reason("turnaround for dispatch " + e.queue[0].rec.ID)
		e.unsecured = true
		ph, out := e.verdict(s)
		e.finish(now, s, ph, out)
		return
	}
	e.startSecure(now, s, false)
}

// preemptable reports whether the active sortie is a patrol in the air
// that an alarm may take over or call back.
func (e *Engine) preemptable() bool {
	s := e.active
	return s != nil && s.rec.Kind == dock.KindPatrol && !s.rec.DryRun && s.launched &&
		(s.rec.Phase == dock.PhaseAirborne || s.rec.Phase == dock.PhaseOnStation || s.rec.Phase == dock.PhaseReturning)
}

// preempt serves an alarm dispatch at the head of the queue while a patrol
// flies: divert the patrol when its battery covers the dispatch, else
// recall it (once) so the dispatch relaunches after the turnaround.
func (e *Engine) preempt(now time.Time) {
	if len(e.queue) == 0 || e.queue[0].rec.Priority != request.PriorityAlarm || !e.preemptable() {
		return
	}
	p, d := e.active, e.queue[0]
	if e.canDivert(p, d, e.hw.Snapshot()) {
		e.queue = e.queue[1:]
		e.divert(now, p, d)
		return
	}
	if !p.preempted {
		p.preempted = true
		e.recall(now, p, "recalled for alarm dispatch "+d.rec.ID+": battery does not cover the diversion")
	}
}

// canDivert reports whether patrol p's battery covers the way to d's
// target, the loiter and the way home with the reserve.
func (e *Engine) canDivert(p, d *sortie, st dock.State) bool {
	v := e.veh.State()
	if !v.Link || v.BatteryPct < 0 {
		return false
	}
	w := windOf(st)
	pos := route.Point{Lat: v.Lat, Lon: v.Lon}
	t := d.rec.Target
	tp := route.Point{Lat: t.Lat, Lon: t.Lon}
	out, err := e.model().Leg(0, pos, v.RelAltM, tp, t.AltM, 0, time.Duration(d.rec.LoiterS*float64(time.Second)), w)
	if err != nil {
		return false
	}
	back, err := e.model().Leg(1, tp, t.AltM, e.home, 0, 0, 0, w)
	if err != nil {
		return false
	}
	need := out.Pct + back.Pct + e.model().OverheadPct + e.opts.Limits.BatteryReservePct
	e.log.Info("divert check", "battery_pct", v.BatteryPct, "needed_pct", math.Round(need*10)/10)
	return v.BatteryPct >= need
}

// divert hands the flying vehicle of patrol p to dispatch d.
func (e *Engine) divert(now time.Time, p, d *sortie) {
	p.reason("diverted to dispatch " + d.rec.ID)
	p.rec.DivertedTo = d.rec.ID
	d.rec.DivertedFrom = p.rec.ID
	d.rec.TakeoffAt = p.rec.TakeoffAt
	d.rec.TLog = p.rec.TLog
	d.rec.BatteryStart = e.veh.State().BatteryPct
	d.launched = true
	d.lastPos = p.lastPos
	if len(d.rec.Phases) == 0 {
		e.setPhase(now, d, dock.PhaseQueued, "")
	}
	e.finish(now, p, dock.PhaseAborted, OutcomeAborted)
	e.active = d
	e.setPhase(now, d, dock.PhaseAirborne, "diverted from patrol "+p.rec.ID)
	v := e.veh.State()
	e.goTo(now, d, route.Point{Lat: v.Lat, Lon: v.Lon}, windOf(e.hw.Snapshot()))
}

// serveQueue starts the first queued dispatch when its gates pass; while
// only the battery blocks it waits (turnaround) with the dock secured for
// charging; other gates fail it after QueueTimeout.
func (e *Engine) serveQueue(now time.Time) {
	if len(e.queue) == 0 {
		if e.unsecured && !e.idleJob && e.canSecure(now) {
			e.secureIdle()
		}
		return
	}
	if e.idleJob {
		return
	}
	s := e.queue[0]
	g, _ := e.gates(now, s.rt)
	if len(g) == 0 {
		e.queue = e.queue[1:]
		s.blockedNote = ""
		e.begin(now, s)
		return
	}
	if note := (&dock.GateError{Gates: g}).Error(); note != s.blockedNote {
		s.blockedNote = note
		_ = e.blocked(now, s, g)
	}
	if e.unsecured && e.canSecure(now) {
		e.secureIdle()
	}
	if !onlyBattery(g) && now.Sub(s.queuedAt) >= e.opts.QueueTimeout {
		e.queue = e.queue[1:]
		s.reason((&dock.GateError{Gates: g}).Error())
		e.finish(now, s, dock.PhaseFailed, OutcomeFailed)
	}
}

// canSecure reports whether an idle securing may start now: not before
// its retry time, in auto mode, with no e-stop, fault or mains loss in the
// way, and a vehicle known disarmed on the ground (the controller checks
// the invariants again; this only avoids attempts bound to be refused).
func (e *Engine) canSecure(now time.Time) bool {
	if now.Before(e.secureAt) {
		return false
	}
	st := e.hw.Snapshot()
	v := e.veh.State()
	return st.Mode == dock.ModeAuto && !st.EStop && !st.EStopLatched && st.Fault == "" && st.Power &&
		v.Link && !v.Armed && v.Landed == dock.LandedOnGround
}

// leftOpen notes that securing failed: the dock is secured again by the
// idle path once what blocked it is gone (mains back, vehicle link back, a
// fault reset), retried every SecureRetry.
func (e *Engine) leftOpen(now time.Time, err error) {
	e.unsecured = true
	e.secureAt = now.Add(e.opts.SecureRetry)
	e.log.Warn("dock left open: securing again once possible", "err", err, "retry_after", e.opts.SecureRetry)
}

// secureIdle secures the dock outside a sortie: after a turnaround whose
// dispatch cannot fly yet (so the vehicle charges), or after a securing
// that failed.
func (e *Engine) secureIdle() {
	e.idleJob = true
	e.job(func(ctx context.Context) func(time.Time) {
		err := e.secureSteps(ctx, false)
		return func(now time.Time) {
			e.idleJob = false
			if err != nil {
				e.leftOpen(now, err)
				return
			}
			e.unsecured = false
			e.log.Info("dock secured")
		}
	})
}

// chargeBand is the charge the battery mode holds, in percent.
type band struct{ lo, hi float64 }

func (e *Engine) chargeBand() band {
	if e.battery == "storage" {
		return band{55, 60}
	}
	return band{90, 95}
}

// chargerControl holds the battery in its mode's band while docked:
// on below lo, off at hi (hysteresis). The controller refuses the charger
// for a vehicle that is not docked and disarmed (invariant 5).
func (e *Engine) chargerControl(ctx context.Context, now time.Time) {
	st := e.hw.Snapshot()
	v := e.veh.State()
	if !st.Vehicle.Docked || v.BatteryPct < 0 || st.Mode != dock.ModeAuto {
		return
	}
	b := e.chargeBand()
	var want bool
	switch {
	case !st.Charger && v.BatteryPct < b.lo:
		want = true
	case st.Charger && v.BatteryPct >= b.hi:
		want = false
	default:
		return
	}
	// The controller answers from its own loop at once; it never waits on
	// the engine, so the engine's loop may wait on it.
	if err := e.hw.SetCharger(ctx, want); err != nil {
		e.log.Warn("charger not switched", "on", want, "battery_pct", v.BatteryPct, "err", err)
		return
	}
	e.log.Info("charger switched", "on", want, "battery_pct", v.BatteryPct, "mode", e.battery)
}
