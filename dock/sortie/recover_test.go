package sortie_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

func TestRestartMidFlight(t *testing.T) {
	r := newRig(t, nil)
	loiter := 60.0
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("on station", coarse, 3*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	if _, err := os.Stat(filepath.Join(r.opts.StateDir, "active.json")); err != nil {
		t.Fatalf("active sortie record: %v", err)
	}
	r.stopEngine() // the agent dies; the vehicle keeps loitering
	for range 100 {
		r.step(coarse)
	}
	r.startEngine()
	if st := r.sync(); st.Sortie == nil || st.Sortie.ID != res.SortieID {
		t.Fatalf("after restart status sortie = %+v, want %s", st.Sortie, res.SortieID)
	}
	r.until("complete", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	ps := r.ev.phases(res.SortieID)
	if n := slices.Index(ps, dock.PhaseOnStation); n < 0 || !slices.Equal(ps[n:], []dock.Phase{
		dock.PhaseOnStation, dock.PhaseReturning, dock.PhaseLanding, dock.PhaseLanded, dock.PhaseSecuring, dock.PhaseComplete}) {
		t.Errorf("phases %v, want the flight resumed on station", ps)
	}
	if rep := r.ev.report(res.SortieID); !hasReason(rep, "agent_restart") || rep["outcome"] != "complete" {
		t.Errorf("report %v, want complete with agent_restart noted", rep)
	}
	if _, err := os.Stat(filepath.Join(r.opts.StateDir, "active.json")); !os.IsNotExist(err) {
		t.Errorf("active.json still there after the sortie ended: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.opts.StateDir, "sorties", res.SortieID+".json")); err != nil {
		t.Errorf("stored report: %v", err)
	}
}

func TestRestartAfterLanding(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("landing", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseLanding))
	r.stopEngine()
	r.until("touchdown", coarse, time.Minute, func() bool {
		v := r.veh.State()
		return v.Landed == dock.LandedOnGround && !v.Armed
	})
	if st := r.refresh(); st.Lid != dock.LidOpen {
		t.Fatalf("lid %s after landing without the engine", st.Lid)
	}
	r.startEngine()
	r.until("complete", coarse, time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if st := r.refresh(); st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped {
		t.Errorf("after recovery lid %s arms %s, want closed and clamped", st.Lid, st.Arms)
	}
	ps := r.ev.phases(res.SortieID)
	if !slices.Equal(ps[len(ps)-3:], []dock.Phase{dock.PhaseLanded, dock.PhaseSecuring, dock.PhaseComplete}) {
		t.Errorf("phases %v, want landed, securing, complete at the end", ps)
	}
}

func TestRestartBeforeTakeoffAborts(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	for range 30 {
		r.step(coarse) // 3 s into the launch
	}
	r.stopEngine()
	r.step(coarse)
	r.startEngine()
	r.until("aborted", coarse, time.Minute, r.phaseIs(res.SortieID, dock.PhaseAborted))
	if ev := r.phaseEvent(res.SortieID, dock.PhaseAborted); ev["reason"] != "agent_restart" {
		t.Errorf("aborted reason = %v, want agent_restart", ev["reason"])
	}
	if r.callCount("Arm") != 0 {
		t.Errorf("vehicle armed")
	}
	r.until("secured", coarse, time.Minute, func() bool { return r.refresh().Lid == dock.LidClosed })
}

func TestDryRun(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.DryRun = true })
	if err != nil {
		t.Fatalf("dispatch dry run = %v", err)
	}
	r.until("complete", coarse, 2*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	want := []dock.Phase{dock.PhaseQueued, dock.PhasePreflight, dock.PhaseLaunching, dock.PhaseSecuring, dock.PhaseComplete}
	if got := r.ev.phases(res.SortieID); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	if rep := r.ev.report(res.SortieID); rep["outcome"] != "dry_run_ok" {
		t.Errorf("outcome %v, want dry_run_ok", rep["outcome"])
	}
	if r.callCount("Arm") != 0 || r.callCount("UploadMission") != 1 {
		t.Errorf("dry run: Arm %d UploadMission %d, want 0 and 1", r.callCount("Arm"), r.callCount("UploadMission"))
	}
	if len(r.hw.Lid.Up.Changes()) < 2 {
		t.Errorf("dry run never opened the lid")
	}
	if st := r.refresh(); st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped {
		t.Errorf("after dry run lid %s arms %s, want closed and clamped", st.Lid, st.Arms)
	}
}

func TestAbortBeforeTakeoff(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	for range 50 {
		r.step(coarse)
	}
	if err := r.eng.Abort(r.t.Context()); err != nil {
		t.Fatalf("abort = %v", err)
	}
	r.until("aborted", coarse, time.Minute, r.phaseIs(res.SortieID, dock.PhaseAborted))
	if r.callCount("Arm") != 0 {
		t.Errorf("vehicle armed after abort")
	}
	if st := r.refresh(); st.Lid != dock.LidClosed {
		t.Errorf("lid %s after abort, want closed", st.Lid)
	}
	if err := r.eng.Abort(r.t.Context()); !errors.Is(err, dock.ErrPrecondition) {
		t.Errorf("abort with nothing to abort = %v, want precondition_failed", err)
	}
}
