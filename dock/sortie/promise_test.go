package sortie_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/sortie"
)

// promisesBroken returns the promises broken for a sortie, in the order
// their events came.
func (e *events) promisesBroken(id string) []string {
	var out []string
	for _, ev := range e.of(dock.EventPromiseBroken) {
		if ev.Fields["sortie_id"] == id {
			out = append(out, ev.Fields["promise"].(string))
		}
	}
	return out
}

// lastProgress returns the status of the last command.progress event of a
// request.
func (e *events) lastProgress(reqID string) string {
	st := ""
	for _, ev := range e.of(dock.EventCommandProgress) {
		if ev.Fields["id"] == reqID {
			st = ev.Fields["status"].(string)
		}
	}
	return st
}

// TestRecalledDispatchIsNotReached: a dispatch recalled before it reached
// the scene says so at once (sortie.promise_broken on_scene), flies home,
// is secured, and ends failed with outcome not_reached; its command ends
// failed, never ok.
func TestRecalledDispatchIsNotReached(t *testing.T) {
	r := newRig(t, nil)
	res := r.dispatchAirborne(t)
	r.until("on the way", coarse, time.Minute, func() bool { return r.callCount("GoTo") > 0 })
	if err := r.eng.Recall(r.t.Context(), "battery"); err != nil {
		t.Fatalf("recall = %v", err)
	}
	if got := r.ev.promisesBroken(res.SortieID); len(got) != 1 || got[0] != sortie.PromiseStation {
		t.Fatalf("promises broken right after the recall = %v, want [%s]", got, sortie.PromiseStation)
	}
	r.until("failed", coarse, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseFailed))
	rep := r.ev.report(res.SortieID)
	if rep["outcome"] != sortie.OutcomeNotReached {
		t.Errorf("report outcome %v, want %s", rep["outcome"], sortie.OutcomeNotReached)
	}
	if rep["eta_s"] == nil || rep["circle_min"] == nil {
		t.Errorf("report eta_s %v circle_min %v, want the promised ones", rep["eta_s"], rep["circle_min"])
	}
	if st := r.ev.lastProgress("req-dispatch"); st != string(dock.ProgressFailed) {
		t.Errorf("last command.progress status %q, want failed", st)
	}
	if st := r.refresh(); st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped || !st.Vehicle.Docked {
		t.Errorf("after the return lid %s arms %s docked %v, want the vehicle secured", st.Lid, st.Arms, st.Vehicle.Docked)
	}
}

// TestLandedAwayIsAnAlarm: a vehicle that comes down 1.2 km from the dock
// (as ArduCopter does in LOITER without a pilot) is not "landed": a
// vehicle.landed_away event, a dock fault, the sortie failed with outcome
// landed_away; the dock never says the vehicle is docked and never clamps.
func TestLandedAwayIsAnAlarm(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { s := 600.0; a.LoiterS = &s })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.until("on station", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	clamps := len(r.hw.Arms.Down.Changes())
	r.veh.Set(func(s *dock.VehicleState) {
		s.Armed, s.Landed, s.RelAltM, s.Mode = false, dock.LandedOnGround, 0, "LOITER"
	})
	r.until("failed", coarse, time.Minute, r.phaseIs(res.SortieID, dock.PhaseFailed))
	away := r.ev.of(dock.EventLandedAway)
	if len(away) != 1 || away[0].Fields["distance_m"].(float64) < 1000 {
		t.Fatalf("vehicle.landed_away events %v, want one about 1.1 km out", away)
	}
	if rep := r.ev.report(res.SortieID); rep["outcome"] != sortie.OutcomeLandedAway {
		t.Errorf("report outcome %v, want %s", rep["outcome"], sortie.OutcomeLandedAway)
	}
	if ps := r.ev.phases(res.SortieID); len(ps) > 0 && (slices.Contains(ps, dock.PhaseLanded) || slices.Contains(ps, dock.PhaseSecuring)) {
		t.Errorf("phases %v: landed/securing for a vehicle 1.1 km away", ps)
	}
	st := r.refresh()
	if len(st.Faults) != 1 || st.Faults[0].Code != dock.FaultVehicleLandedAway || st.Faults[0].Severity != dock.SeverityCritical ||
		st.Faults[0].Component != dock.ComponentVehicle || !strings.Contains(st.Fault, "m from the dock") || st.Vehicle.Docked {
		t.Errorf("dock faults %+v (fault %q) docked %v, want the vehicle.landed_away fault alone and not docked", st.Faults, st.Fault, st.Vehicle.Docked)
	}
	if f := r.ev.of(dock.EventFault); len(f) != 1 || f[0].Fields["code"] != "vehicle.landed_away" {
		t.Errorf("fault events %v, want one coded vehicle.landed_away", f)
	}
	for range 50 {
		r.step(coarse)
	}
	if r.hw.Arms.Down.On() || len(r.hw.Arms.Down.Changes()) != clamps {
		t.Errorf("arms clamp relay used for a vehicle that is not on the pad")
	}
}

// TestLateDispatchSaysSoAtOnce: a vehicle flying at half the planned speed
// breaks its ETA promise while still on the way (a sortie.promise_broken
// event before on_station), the report says late, and the next dispatch's
// ETA is planned with the speed this flight showed.
func TestLateDispatchSaysSoAtOnce(t *testing.T) {
	r := newRig(t, nil)
	r.pilot.speed = 7.5
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 0, 2000)
	res, err := r.dispatch(far.Lat, far.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.until("eta broken", coarse, 5*time.Minute, func() bool { return len(r.ev.promisesBroken(res.SortieID)) > 0 })
	if ps := r.ev.phases(res.SortieID); slices.Contains(ps, dock.PhaseOnStation) {
		t.Fatalf("phases %v: the ETA was reported broken only after arriving", ps)
	}
	r.until("done", coarse, 15*time.Minute, r.phaseIs(res.SortieID, dock.PhaseFailed))
	rep := r.ev.report(res.SortieID)
	if rep["outcome"] != sortie.OutcomeLate {
		t.Errorf("report outcome %v, want %s", rep["outcome"], sortie.OutcomeLate)
	}
	if e, ok := rep["eta_error_pct"].(float64); !ok || e < 30 {
		t.Errorf("report eta_error_pct %v, want the flight's lateness (> 30 %%)", rep["eta_error_pct"])
	}
	r.until("secured", coarse, time.Minute, func() bool { return r.sync().Sortie == nil })
	again, err := r.dispatch(far.Lat, far.Lon, func(a *dock.DispatchRequest) { a.DryRun = true })
	if err != nil {
		t.Fatalf("second dispatch = %v", err)
	}
	if again.ETAS <= res.ETAS*1.2 {
		t.Errorf("second ETA %.0f s, first %.0f s: want the slow flight learned", again.ETAS, res.ETAS)
	}
}

// TestHomeGateWhenOffThePad: a vehicle standing 40 m from the surveyed
// dock position is not launched: home is taken from the vehicle only on
// the pad, and the gate names both positions.
func TestHomeGateWhenOffThePad(t *testing.T) {
	r := newRig(t, nil)
	off := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 90, 40)
	r.veh.Set(func(s *dock.VehicleState) { s.Lat, s.Lon = off.Lat, off.Lon })
	_, err := r.dispatch(target.Lat, target.Lon, nil)
	if !errors.Is(err, dock.ErrPrecondition) || !strings.Contains(err.Error(), "home") {
		t.Fatalf("dispatch off the pad = %v, want precondition_failed with the home gate", err)
	}
	if n := r.callCount("SetHomeHere"); n != 0 {
		t.Errorf("SetHomeHere sent %d times off the pad", n)
	}
}

// dispatchAirborne dispatches to target and steps until the sortie is
// airborne.
func (r *rig) dispatchAirborne(t *testing.T) dock.DispatchResult {
	t.Helper()
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.until("airborne", fine, 20*time.Second, r.phaseIs(res.SortieID, dock.PhaseAirborne))
	return res
}

// TestAbortInFlightRecalls: abort after the take-off brings the vehicle
// home like recall; the dispatch ends not_reached.
func TestAbortInFlightRecalls(t *testing.T) {
	r := newRig(t, nil)
	res := r.dispatchAirborne(t)
	if err := r.eng.Abort(r.t.Context()); err != nil {
		t.Fatalf("abort in flight = %v", err)
	}
	r.until("returning", coarse, 5*time.Second, r.phaseIs(res.SortieID, dock.PhaseReturning))
	r.until("failed", coarse, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseFailed))
	if rep := r.ev.report(res.SortieID); rep["outcome"] != sortie.OutcomeNotReached {
		t.Errorf("report outcome %v, want %s", rep["outcome"], sortie.OutcomeNotReached)
	}
}

// TestEnergyLearnedRefusesWhatCannotBeFinished: a flight that drew twice
// the modelled charge teaches the engine; a dispatch the old model would
// have accepted at the same charge is then refused before launch with the
// battery gate, not recalled on the way.
func TestEnergyLearnedRefusesWhatCannotBeFinished(t *testing.T) {
	r := newRig(t, nil)
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 0, 2500)
	loiter := 120.0
	withLoiter := func(a *dock.DispatchRequest) { a.LoiterS = &loiter }
	r.pilot.drainPerS = 0.15 // three times the 3 %/min hover model
	res, err := r.dispatch(far.Lat, far.Lon, withLoiter)
	if err != nil {
		t.Fatalf("first dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.until("first flight over", coarse, 20*time.Minute, func() bool { return r.ev.report(res.SortieID) != nil })
	r.until("secured", coarse, time.Minute, func() bool { return r.sync().Sortie == nil })
	used := r.ev.report(res.SortieID)["battery_used_pct"].(float64)
	// The configured model says this flight needs 19 % + 25 % reserve:
	// 50 % would pass it; what the first flight drew says it would not.
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 50 })
	_, err = r.dispatch(far.Lat, far.Lon, withLoiter)
	if !errors.Is(err, dock.ErrPrecondition) || !strings.Contains(err.Error(), "battery") {
		t.Fatalf("dispatch at 50 %% after a flight that used %.0f %% = %v, want the battery gate", used, err)
	}
}
