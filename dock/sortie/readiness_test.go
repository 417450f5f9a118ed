package sortie_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

func gateNames(r dock.Readiness) []string {
	var n []string
	for _, g := range r.Gates {
		n = append(n, g.Name)
	}
	return n
}

// TestReadinessFollowsEachGate: state.readiness flips with each gate in the
// state that follows the change, and back, without anything moving.
func TestReadinessFollowsEachGate(t *testing.T) {
	r := newRig(t, nil)
	ready := func(what string) {
		t.Helper()
		r.step(time.Second)
		st := r.refresh()
		if !st.Readiness.Ready || len(st.Readiness.Gates) != 0 {
			t.Fatalf("%s: readiness = %+v, want ready with no gates", what, st.Readiness)
		}
	}
	blocked := func(what, gate string) {
		t.Helper()
		r.step(time.Second)
		st := r.refresh()
		if st.Readiness.Ready {
			t.Fatalf("%s: readiness ready, want blocked by %q", what, gate)
		}
		for _, g := range st.Readiness.Gates {
			if g.Name == gate {
				return
			}
		}
		t.Fatalf("%s: gates %v, want %q among them", what, gateNames(st.Readiness), gate)
	}
	ready("at rest")

	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 20 })
	blocked("battery 20 %", "battery")
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 100 })
	ready("battery back")

	r.setWeather(func(w *dock.Weather) { w.WindMPS = 13 })
	blocked("wind 13 m/s", "wind")
	r.setWeather(func(w *dock.Weather) { w.WindMPS = 3 })
	ready("wind back")

	r.hw.Set(r.hw.EStop, true)
	blocked("e-stop pressed", "estop")
	r.hw.Set(r.hw.EStop, false)
	blocked("e-stop released, latched", "estop")
	if err := r.ctrl.Reset(context.Background()); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	ready("e-stop reset")

	if err := r.ctrl.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatalf("mode maintenance: %v", err)
	}
	blocked("maintenance", "maintenance")
	if err := r.ctrl.SetMode(t.Context(), dock.ModeAuto); err != nil {
		t.Fatalf("mode auto: %v", err)
	}
	ready("auto")

	r.veh.SetLink(false)
	blocked("link lost", "heartbeat")
	r.veh.SetLink(true)
	ready("link back")

	// Nothing was moved or launched by any of it.
	if n := len(r.ev.of(dock.EventPreflightBlocked)); n != 0 {
		t.Errorf("%d preflight.blocked events, want none: readiness is no launch", n)
	}
	if st := r.refresh(); st.Lid != dock.LidClosed {
		t.Errorf("lid %s, want closed", st.Lid)
	}
}

// TestReadinessBusyDuringSortie: a dock flying is not ready for another
// launch and says which sortie holds it.
func TestReadinessBusyDuringSortie(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(52.5230, 13.4050, nil)
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	r.step(100 * time.Millisecond)
	st := r.refresh()
	if st.Readiness.Ready || len(st.Readiness.Gates) == 0 || st.Readiness.Gates[0].Name != "busy" {
		t.Fatalf("readiness during sortie %s = %+v, want busy first", res.SortieID, st.Readiness)
	}
	if want := "sortie " + res.SortieID; len(st.Readiness.Gates[0].Note) < len(want) || st.Readiness.Gates[0].Note[:len(want)] != want {
		t.Errorf("busy note %q, want it to name %q", st.Readiness.Gates[0].Note, want)
	}
}
