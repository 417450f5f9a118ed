package sortie_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

func hasReason(rep map[string]any, sub string) bool {
	rs, _ := rep["reasons"].([]any)
	for _, r := range rs {
		if s, ok := r.(string); ok && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (r *rig) phaseEvent(id string, p dock.Phase) map[string]any {
	for _, ev := range r.ev.of(dock.EventSortiePhase) {
		if ev.Fields["sortie_id"] == id && ev.Fields["phase"] == string(p) {
			return ev.Fields
		}
	}
	return nil
}

func TestLowBatteryRecall(t *testing.T) {
	r := newRig(t, nil)
	loiter := 600.0
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("on station", coarse, 3*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	// The first RTL is refused (a lost COMMAND_ACK): the engine repeats it.
	r.veh.Fail("ReturnToLaunch", errors.New("COMMAND_ACK: timeout"))
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 26 })
	r.until("returning", coarse, 5*time.Second, r.phaseIs(res.SortieID, dock.PhaseReturning))
	if ev := r.phaseEvent(res.SortieID, dock.PhaseReturning); !strings.Contains(ev["reason"].(string), "battery reserve") {
		t.Errorf("returning reason = %v, want battery reserve", ev["reason"])
	}
	r.until("complete", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if rep := r.ev.report(res.SortieID); !hasReason(rep, "battery reserve") {
		t.Errorf("report reasons %v, want battery reserve", rep["reasons"])
	}
	if n := r.callCount("ReturnToLaunch"); n != 2 {
		t.Errorf("ReturnToLaunch sent %d times, want 2 (refused, repeated)", n)
	}
}

// startPatrol flies the square route until the vehicle is on its way.
func (r *rig) startPatrol() string {
	r.t.Helper()
	res, err := r.eng.Patrol(r.t.Context(), "req-patrol", "square", false)
	if err != nil {
		r.t.Fatalf("patrol = %v", err)
	}
	id := res.SortieID
	r.until("patrol on station", coarse, 3*time.Minute, r.phaseIs(id, dock.PhaseOnStation))
	if ref := r.refresh().Sortie; ref == nil || ref.Route != "square" || ref.Target != nil {
		r.t.Errorf("state.sortie of the patrol = %+v, want route square and no target", ref)
	}
	return id
}

func TestDispatchDivertsPatrolInTheAir(t *testing.T) {
	r := newRig(t, nil)
	pid := r.startPatrol()
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.Ref = "INC-7" })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	if res.Queued {
		t.Fatalf("dispatch queued, want the patrol diverted")
	}
	r.sync()
	if ref := r.refresh().Sortie; ref == nil || ref.ID != res.SortieID || ref.Target == nil || ref.Target.Lat != target.Lat || ref.Route != "" {
		t.Errorf("state.sortie after the diversion = %+v, want %s with its target and no route", ref, res.SortieID)
	}
	if ev := r.phaseEvent(pid, dock.PhaseAborted); ev == nil || !strings.Contains(ev["reason"].(string), "diverted") {
		t.Fatalf("patrol aborted event = %v, want a diversion", ev)
	}
	r.until("dispatch complete", coarse, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	want := []dock.Phase{dock.PhaseQueued, dock.PhaseAirborne, dock.PhaseOnStation, dock.PhaseReturning,
		dock.PhaseLanding, dock.PhaseLanded, dock.PhaseSecuring, dock.PhaseComplete}
	if got := r.ev.phases(res.SortieID); !slices.Equal(got, want) {
		t.Errorf("dispatch phases = %v, want %v", got, want)
	}
	if n := r.callCount("Arm"); n != 1 {
		t.Errorf("vehicle armed %d times, want once (one flight)", n)
	}
	rep := r.ev.report(res.SortieID)
	if rep["diverted_from"] != pid {
		t.Errorf("report diverted_from = %v, want %s", rep["diverted_from"], pid)
	}
}

func TestDispatchRecallsPatrolWithoutBatteryAndRelaunches(t *testing.T) {
	r := newRig(t, nil)
	pid := r.startPatrol()
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 30 })
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	if !res.Queued {
		t.Fatalf("dispatch result %+v, want queued behind the recalled patrol", res)
	}
	if n := len(r.ev.of(dock.EventDispatchQueued)); n != 1 {
		t.Errorf("%d dispatch.queued events, want 1", n)
	}
	// The battery check after landing passes (the pack is better than the
	// model said), so it goes at once.
	r.until("patrol landing", coarse, 5*time.Minute, r.phaseIs(pid, dock.PhaseLanding))
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 80 })
	closings := len(r.hw.Lid.Down.Changes())
	r.until("patrol complete", coarse, 5*time.Minute, r.phaseIs(pid, dock.PhaseComplete))
	if ps := r.ev.phases(pid); slices.Contains(ps, dock.PhaseSecuring) {
		t.Errorf("patrol phases %v: secured although a dispatch waits", ps)
	}
	r.until("dispatch airborne", coarse, 30*time.Second, r.phaseIs(res.SortieID, dock.PhaseAirborne))
	if n := len(r.hw.Lid.Down.Changes()); n != closings {
		t.Errorf("lid moved toward closed during the turnaround")
	}
	r.until("dispatch complete", coarse, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if n := r.callCount("Arm"); n != 2 {
		t.Errorf("vehicle armed %d times, want 2 (patrol, then dispatch)", n)
	}
}

func TestTurnaroundWaitsForCharge(t *testing.T) {
	r := newRig(t, nil)
	pid := r.startPatrol()
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 30 })
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil || !res.Queued {
		t.Fatalf("dispatch = %+v, %v; want queued", res, err)
	}
	r.until("patrol complete", coarse, 5*time.Minute, r.phaseIs(pid, dock.PhaseComplete))
	// 30 % is not enough: the dock secures so the vehicle charges.
	r.until("charging", coarse, 60*time.Second, func() bool { return r.hw.Charger.On() })
	if ps := r.ev.phases(res.SortieID); slices.Contains(ps, dock.PhasePreflight) {
		t.Fatalf("dispatch phases %v: started without charge", ps)
	}
	blocked := r.ev.of(dock.EventPreflightBlocked)
	if len(blocked) == 0 || !strings.Contains(blocked[len(blocked)-1].Fields["message"].(string), "battery") {
		t.Errorf("no preflight.blocked naming the battery")
	}
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 95 })
	r.until("dispatch airborne", coarse, 60*time.Second, r.phaseIs(res.SortieID, dock.PhaseAirborne))
}

func TestAlarmDuringPatrolLaunchDivertsOnceAirborne(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.eng.Patrol(r.t.Context(), "req-patrol", "square", false)
	if err != nil {
		t.Fatalf("patrol = %v", err)
	}
	pid := res.SortieID
	r.step(time.Second)
	d, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil || !d.Queued {
		t.Fatalf("dispatch during the patrol's launch = %+v, %v; want queued", d, err)
	}
	r.until("diverted", coarse, time.Minute, r.phaseIs(d.SortieID, dock.PhaseAirborne))
	if ps := r.ev.phases(pid); ps[len(ps)-1] != dock.PhaseAborted {
		t.Errorf("patrol phases %v, want aborted by the diversion", ps)
	}
	if got := r.ev.phases(d.SortieID); !slices.Equal(got, []dock.Phase{dock.PhaseQueued, dock.PhaseAirborne}) {
		t.Errorf("dispatch phases %v, want queued, airborne", got)
	}
	r.until("dispatch complete", coarse, 10*time.Minute, r.phaseIs(d.SortieID, dock.PhaseComplete))
}

func TestSecondAlarmQueued(t *testing.T) {
	r := newRig(t, nil)
	first, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("first dispatch = %v", err)
	}
	r.step(fine)
	other := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 180, 800)
	second, err := r.dispatch(other.Lat, other.Lon, func(a *dock.DispatchRequest) { a.Ref = "INC-2" })
	if err != nil {
		t.Fatalf("second dispatch = %v", err)
	}
	if !second.Queued || second.CircleMin == nil {
		t.Fatalf("second dispatch = %+v, want queued with a circle", second)
	}
	q := r.ev.of(dock.EventDispatchQueued)
	if len(q) != 1 || q[0].Fields["sortie_id"] != second.SortieID || q[0].Fields["behind"] != first.SortieID {
		t.Fatalf("dispatch.queued events = %v", q)
	}
	if st := r.sync(); len(st.Queue) != 1 || st.Queue[0].ID != second.SortieID {
		t.Errorf("status queue = %v, want the second alarm", st.Queue)
	}
	r.until("first complete", coarse, 10*time.Minute, r.phaseIs(first.SortieID, dock.PhaseComplete))
	r.until("second complete", coarse, 10*time.Minute, r.phaseIs(second.SortieID, dock.PhaseComplete))
	got := r.ev.phases(second.SortieID)
	if got[0] != dock.PhaseQueued || got[1] != dock.PhasePreflight {
		t.Errorf("second phases %v, want queued then preflight", got)
	}
}

func TestRainClosesLidAndReopensForReturn(t *testing.T) {
	r := newRig(t, nil)
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 0, 2000)
	res, err := r.dispatch(far.Lat, far.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("airborne", fine, 20*time.Second, r.phaseIs(res.SortieID, dock.PhaseAirborne))
	r.setWeather(func(w *dock.Weather) { w.Rain = true })
	r.until("lid closed in flight", coarse, 60*time.Second, func() bool { return r.hw.Lid.Position() <= 0 })
	if v := r.veh.State(); !v.Armed || v.RelAltM < 15 {
		t.Fatalf("lid closed with the vehicle at %.0f m armed=%v", v.RelAltM, v.Armed)
	}
	r.until("complete", coarse, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if n := r.callCount("Hold"); n != 1 {
		t.Errorf("Hold sent %d times, want 1 (the loiter only): the lid should open in time", n)
	}
	// The lid opened again before the landing (invariant 7 is checked on
	// every step by the rig).
	if ups := r.hw.Lid.Up.Changes(); len(ups) < 4 {
		t.Errorf("lid open relay changes %v, want launch and reopening", ups)
	}
}

func TestHoldWhenLidCannotOpenInTime(t *testing.T) {
	r := newRig(t, func(s rigSetup) { s.opts.LidMargin = time.Nanosecond })
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 0, 2000)
	res, err := r.dispatch(far.Lat, far.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("airborne", fine, 20*time.Second, r.phaseIs(res.SortieID, dock.PhaseAirborne))
	r.setWeather(func(w *dock.Weather) { w.Rain = true })
	r.until("lid closed in flight", coarse, 60*time.Second, func() bool { return r.hw.Lid.Position() <= 0 })
	// Ice: the lid now opens at half speed, slower than its estimate.
	r.hw.Lid.Speed(0.5)
	r.until("returning", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseReturning))
	// Held in GUIDED (invariant 8), not LOITER: the second Hold, after the
	// one on station.
	r.until("held", coarse, 5*time.Minute, func() bool { return r.callCount("Hold") >= 2 && r.veh.State().Mode == "GUIDED" })
	if r.hw.Lid.Position() >= 1 {
		t.Fatalf("held although the lid is open")
	}
	r.until("complete", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if rep := r.ev.report(res.SortieID); !hasReason(rep, "held") {
		t.Errorf("report reasons %v, want the hold", rep["reasons"])
	}
}
