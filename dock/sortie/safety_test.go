package sortie_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/sortie"
)

// The bench's fault campaign found each of these; here they run against
// the engine alone on a fake clock.

// TestStaleGroundStateAfterTakeoffIsNoLanding: the take-off is
// acknowledged, but the vehicle state still is the one from before it
// (disarmed, on the ground): the link dropped at once, or a heartbeat is
// late. The engine must not take that for a landing, clamp the arms under
// the climbing vehicle and close the lid.
func TestStaleGroundStateAfterTakeoffIsNoLanding(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	// The snapshot the engine sees from now on is the pre-take-off one.
	r.veh.Set(func(s *dock.VehicleState) {
		s.Armed, s.Landed, s.RelAltM, s.Mode = false, dock.LandedOnGround, 0, "GUIDED"
	})
	for range 100 { // 10 s
		r.step(coarse)
		if r.hw.Arms.Down.On() || r.hw.Lid.Down.On() {
			t.Fatalf("arms clamping %v, lid closing %v on a pre-take-off snapshot; phases %v",
				r.hw.Arms.Down.On(), r.hw.Lid.Down.On(), r.ev.phases(res.SortieID))
		}
	}
	if ps := r.ev.phases(res.SortieID); slices.Contains(ps, dock.PhaseLanded) {
		t.Fatalf("phases %v: landed on a snapshot from before the take-off", ps)
	}
	// The vehicle's own data comes in: it is climbing, and the flight goes
	// on to the end.
	r.veh.Set(func(s *dock.VehicleState) { s.Armed, s.Landed, s.RelAltM = true, dock.LandedInAir, 20 })
	r.until("complete", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if st := r.refresh(); st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped {
		t.Errorf("after the flight lid %s arms %s, want closed and clamped", st.Lid, st.Arms)
	}
}

// TestDisarmedLongAfterTakeoffIsLanded: a vehicle never seen in the air
// whose fresh heartbeats say disarmed on the ground well after the
// take-off did land (or never left): the dock is secured, not left open.
func TestDisarmedLongAfterTakeoffIsLanded(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	takeoff := r.clock.Now()
	r.veh.Set(func(s *dock.VehicleState) { s.Armed, s.Landed, s.RelAltM = false, dock.LandedOnGround, 0 })
	for range 50 {
		r.step(coarse)
	}
	r.veh.Set(func(s *dock.VehicleState) { s.LastHeartbeat = takeoff.Add(20 * time.Second) })
	// Secured, and honest: the dispatch never reached the scene.
	r.until("failed", coarse, 2*time.Minute, r.phaseIs(res.SortieID, dock.PhaseFailed))
	if rep := r.ev.report(res.SortieID); rep["outcome"] != sortie.OutcomeNotReached {
		t.Errorf("report outcome %v, want %s", rep["outcome"], sortie.OutcomeNotReached)
	}
	if st := r.refresh(); st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped {
		t.Errorf("after the landing lid %s arms %s, want closed and clamped", st.Lid, st.Arms)
	}
}

// TestSecuringRetriedWhenMainsReturn: mains power goes while the vehicle
// lands, so securing is refused and the sortie fails; once the mains are
// back the dock secures itself (arms clamped, lid closed) without an
// operator.
func TestSecuringRetriedWhenMainsReturn(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("landing", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseLanding))
	r.hw.Set(r.hw.Mains, false)
	r.until("failed", coarse, 2*time.Minute, r.phaseIs(res.SortieID, dock.PhaseFailed))
	if rep := r.ev.report(res.SortieID); !hasReason(rep, "power") {
		t.Errorf("report reasons %v, want the mains loss named", rep["reasons"])
	}
	for range 600 { // a minute without mains: nothing moves
		r.step(coarse)
	}
	if st := r.refresh(); st.Lid != dock.LidOpen {
		t.Fatalf("lid %s without mains, want it left open", st.Lid)
	}
	r.hw.Set(r.hw.Mains, true)
	r.until("secured after the mains returned", coarse, 2*time.Minute, func() bool {
		st := r.refresh()
		return st.Lid == dock.LidClosed && st.Arms == dock.ArmsClamped
	})
	if st := r.sync(); st.Sortie != nil {
		t.Errorf("status sortie %+v after securing, want none", st.Sortie)
	}
}

// TestRestartAtTakeoffResumesFlight: the agent died right after the
// take-off, before the sortie store said airborne. The restarted engine
// finds the vehicle flying: it resumes the flight (goes to the target,
// returns, secures) instead of aborting a launch that already happened.
func TestRestartAtTakeoffResumesFlight(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.stopEngine()
	// What the store held when the agent died: still launching.
	path := filepath.Join(r.opts.StateDir, "active.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("active sortie record: %v", err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("active.json: %v", err)
	}
	rec["phase"] = string(dock.PhaseLaunching)
	delete(rec, "takeoff_at")
	if b, err = json.Marshal(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r.step(coarse)
	r.startEngine()
	r.until("complete", coarse, 6*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	ps := r.ev.phases(res.SortieID)
	if slices.Contains(ps, dock.PhaseAborted) || !slices.Contains(ps, dock.PhaseOnStation) {
		t.Errorf("phases %v, want the flight resumed to the target, never aborted", ps)
	}
	if rep := r.ev.report(res.SortieID); rep["outcome"] != "complete" || !hasReason(rep, "agent_restart") {
		t.Errorf("report outcome %v reasons %v, want complete with agent_restart noted", rep["outcome"], rep["reasons"])
	}
	if r.callCount("GoTo") < 1 {
		t.Errorf("no GoTo after the restart")
	}
	if st := r.refresh(); st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped {
		t.Errorf("after the flight lid %s arms %s, want closed and clamped", st.Lid, st.Arms)
	}
}

// TestDispatchProgressEndsOnce: a client following a dispatch's
// command.progress sees in_progress steps and one final status, the
// sortie's end; the lid and arms motions of the launch do not end it early.
func TestDispatchProgressEndsOnce(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("complete", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	var steps []string
	final := 0
	for _, ev := range r.ev.of(dock.EventCommandProgress) {
		if ev.Fields["id"] != "req-dispatch" {
			continue
		}
		steps = append(steps, fmt.Sprint(ev.Fields["step"], ":", ev.Fields["status"]))
		if ev.Fields["status"] != string(dock.ProgressInProgress) {
			final++
		}
	}
	if final != 1 || len(steps) == 0 || steps[len(steps)-1] != "sortie.complete:ok" {
		t.Errorf("progress of the dispatch %v, want in_progress steps ending with one sortie.complete:ok", steps)
	}
}

// TestQueuedAlarmSurvivesRestart: an alarm accepted as queued behind a
// flight is still queued after the agent restarts, and flies after it.
func TestQueuedAlarmSurvivesRestart(t *testing.T) {
	r := newRig(t, nil)
	first, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("first dispatch = %v", err)
	}
	r.until("on station", coarse, 3*time.Minute, r.phaseIs(first.SortieID, dock.PhaseOnStation))
	other := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 180, 800)
	second, err := r.dispatch(other.Lat, other.Lon, func(a *dock.DispatchRequest) { a.Ref = "INC-2" })
	if err != nil || !second.Queued {
		t.Fatalf("second dispatch = %+v, %v; want queued", second, err)
	}
	r.stopEngine()
	r.step(coarse)
	r.startEngine()
	if st := r.sync(); len(st.Queue) != 1 || st.Queue[0].ID != second.SortieID || st.Queue[0].Ref != "INC-2" {
		t.Fatalf("status queue after restart = %+v, want %s (INC-2)", st.Queue, second.SortieID)
	}
	r.until("first complete", coarse, 10*time.Minute, r.phaseIs(first.SortieID, dock.PhaseComplete))
	r.until("second complete", coarse, 10*time.Minute, r.phaseIs(second.SortieID, dock.PhaseComplete))
	if st := r.sync(); len(st.Queue) != 0 {
		t.Errorf("queue %v after both flew", st.Queue)
	}
	r.stopEngine()
	r.startEngine() // nothing queued comes back
	if st := r.sync(); len(st.Queue) != 0 || st.Sortie != nil {
		t.Errorf("after a second restart: sortie %v queue %v, want none", st.Sortie, st.Queue)
	}
}
