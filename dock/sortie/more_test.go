package sortie_test

import (
	"errors"
	"fmt"
	"github.com/dockagent/dock-agent/dock/route"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

func TestWeatherWorseningRecalls(t *testing.T) {
	r := newRig(t, nil)
	loiter := 600.0
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("on station", coarse, 3*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	r.setWeather(func(w *dock.Weather) { w.GustMPS = 17 })
	r.until("returning", coarse, 5*time.Second, r.phaseIs(res.SortieID, dock.PhaseReturning))
	if ev := r.phaseEvent(res.SortieID, dock.PhaseReturning); !strings.Contains(ev["reason"].(string), "gust") {
		t.Errorf("returning reason = %v, want the gust", ev["reason"])
	}
	if r.veh.State().Mode != "RTL" {
		t.Errorf("vehicle mode %s, want RTL", r.veh.State().Mode)
	}
}

func TestRecallCommand(t *testing.T) {
	r := newRig(t, nil)
	if err := r.eng.Recall(r.t.Context(), ""); !errors.Is(err, dock.ErrPrecondition) {
		t.Errorf("recall with nothing flying = %v, want precondition_failed", err)
	}
	loiter := 600.0
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("on station", coarse, 3*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	if err := r.eng.Recall(r.t.Context(), "suspect caught"); err != nil {
		t.Fatalf("recall = %v", err)
	}
	r.until("complete", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	if rep := r.ev.report(res.SortieID); !hasReason(rep, "suspect caught") {
		t.Errorf("report reasons %v, want the recall's", rep["reasons"])
	}
	if abort := r.ev.of(dock.EventCommandProgress); len(abort) == 0 {
		t.Errorf("no command.progress events for the sortie")
	}
}

func TestDispatchArgumentsRefused(t *testing.T) {
	r := newRig(t, nil)
	alt, loiter := 900.0, -1.0
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		mod  func(a *dock.DispatchRequest)
		kind error
	}{
		{"altitude", func(a *dock.DispatchRequest) { a.AltM = &alt }, dock.ErrOutOfRange},
		{"loiter", func(a *dock.DispatchRequest) { a.LoiterS = &loiter }, dock.ErrOutOfRange},
		{"nan latitude", func(a *dock.DispatchRequest) { a.Lat = nan }, dock.ErrInvalidArgument},
		{"priority", func(a *dock.DispatchRequest) { a.Priority = "urgent" }, dock.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.dispatch(target.Lat, target.Lon, tc.mod); !errors.Is(err, tc.kind) {
				t.Errorf("dispatch = %v, want %v", err, tc.kind)
			}
		})
	}
	if _, err := r.eng.Patrol(r.t.Context(), "req-patrol", "nope", false); !errors.Is(err, dock.ErrInvalidArgument) {
		t.Errorf("patrol of an unknown route = %v, want invalid_argument", err)
	}
}

// TestMaintenanceBlocksSorties: manual commands go to the controller, not
// the engine; in maintenance mode the engine refuses to launch.
func TestMaintenanceBlocksSorties(t *testing.T) {
	r := newRig(t, nil)
	if err := r.ctrl.SetMode(r.t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatalf("mode maintenance = %v", err)
	}
	if _, err := r.dispatch(target.Lat, target.Lon, nil); !errors.Is(err, dock.ErrPrecondition) ||
		!strings.Contains(err.Error(), "maintenance") {
		t.Errorf("dispatch in maintenance = %v, want the maintenance gate", err)
	}
	if err := r.ctrl.ManualLid(r.t.Context(), "m1", dock.ActionLidOpen); err != nil {
		t.Fatalf("lid open in maintenance = %v", err)
	}
	r.until("lid open", coarse, 20*time.Second, func() bool { return r.refresh().Lid == dock.LidOpen })
	if err := r.ctrl.Reset(r.t.Context()); err != nil {
		t.Errorf("reset = %v", err)
	}
}

// TestCirclesFollowTheVehicle: the response circles are planned with the
// speed the vehicle flies. A multicopter holds its ground speed in a wind
// slower than it, so an 8 m/s wind neither moves nor shrinks them; a
// vehicle whose own cruise (WPNAV_SPEED) is 10 m/s shrinks them.
func TestCirclesFollowTheVehicle(t *testing.T) {
	r := newRig(t, nil)
	r.step(time.Second)
	c1 := r.refresh().Circles
	// 15 m/s, 15 s launch + 3 s climb to the 15 m clearance + 6 s to
	// speed up and slow down at 2.5 m/s²: 5-minute radius 15 * 276 s.
	if math.Abs(c1.RadiiM[2]-4140) > 1 || c1.GeoJSON == nil {
		t.Fatalf("circles %v, want a 4140 m 5-minute radius and GeoJSON", c1.RadiiM)
	}
	r.setWeather(func(w *dock.Weather) { w.WindMPS, w.DirDeg = 8, 90 })
	for range 60 {
		r.step(coarse)
	}
	if c := r.refresh().Circles; c.RadiiM != c1.RadiiM || fmtAny(c.GeoJSON) != fmtAny(c1.GeoJSON) {
		t.Errorf("circles moved in an 8 m/s wind: %v, want %v unmoved", c.RadiiM, c1.RadiiM)
	}
	r.veh.Set(func(s *dock.VehicleState) { s.Limits.CruiseMPS = 10 })
	// 10 m/s: 15 s + 3 s + 4 s overhead, 5-minute radius 10 * 278 s.
	r.until("circles at the vehicle's speed", coarse, 10*time.Second, func() bool {
		return math.Abs(r.refresh().Circles.RadiiM[2]-2780) < 1
	})
}

func fmtAny(v any) string { return strings.TrimSpace(fmt.Sprint(v)) }

func TestGeofenceBreachRecalls(t *testing.T) {
	r := newRig(t, nil)
	loiter := 600.0
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("on station", coarse, 3*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	r.veh.Set(func(s *dock.VehicleState) { s.Lat += 0.05 }) // blown 5.5 km north
	r.until("returning", coarse, 5*time.Second, r.phaseIs(res.SortieID, dock.PhaseReturning))
	if ev := r.phaseEvent(res.SortieID, dock.PhaseReturning); !strings.Contains(ev["reason"].(string), "geofence") {
		t.Errorf("returning reason = %v, want the geofence", ev["reason"])
	}
}

func TestLinkLossInFlightOpensLid(t *testing.T) {
	r := newRig(t, nil)
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 0, 2000)
	loiter := 600.0
	res, err := r.dispatch(far.Lat, far.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("on station", coarse, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	r.setWeather(func(w *dock.Weather) { w.Rain = true })
	r.until("lid closed in flight", coarse, 60*time.Second, func() bool { return r.hw.Lid.Position() <= 0 })
	r.veh.SetLink(false)
	r.until("lid open for the failsafe return", coarse, 30*time.Second, func() bool { return r.hw.Lid.Position() >= 1 })
	r.until("link loss noted", coarse, 10*time.Second, func() bool {
		st := r.sync()
		return st.Sortie != nil && len(st.Sortie.Reasons) > 0 && strings.Contains(st.Sortie.Reasons[0], "link lost")
	})
	// The lid stays open while the link is down, rain or not.
	for range 100 {
		r.step(coarse)
		if r.hw.Lid.Down.On() {
			t.Fatalf("lid closing with the vehicle link lost")
		}
	}
}
