package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/telemetry/dockpage"
)

// TestPageMap: the page draws the config's dock, geofence polygon (or
// radius) and routes, waypoints and plan files alike, in name order; a
// plan file that cannot be read leaves only its route off.
func TestPageMap(t *testing.T) {
	dir := t.TempDir()
	plan, err := route.EncodePlan(route.Plan{Waypoints: []route.Waypoint{{Lat: 24.36, Lon: 102.55, AltM: 40}}}, route.PlanOptions{CruiseSpeedMPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(dir, "b.plan")
	if err := os.WriteFile(planPath, plan, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Position: config.Position{Lat: 24.35, Lon: 102.54},
		Limits:   config.Limits{MaxAltM: 120, Geofence: config.Geofence{Polygon: [][2]float64{{24.3, 102.5}, {24.4, 102.5}, {24.4, 102.6}}}},
		Routes: map[string]config.Route{
			"c-gone": {PlanFile: filepath.Join(dir, "missing.plan")},
			"b-plan": {PlanFile: planPath},
			"a-wps":  {Waypoints: []config.Waypoint{{Lat: 24.351, Lon: 102.541}, {Lat: 24.352, Lon: 102.542, AltM: 30}}},
		},
	}
	got := pageMap(cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	want := dockpage.Map{
		Dock:     dockpage.Point{Lat: 24.35, Lon: 102.54},
		Geofence: []dockpage.Point{{Lat: 24.3, Lon: 102.5}, {Lat: 24.4, Lon: 102.5}, {Lat: 24.4, Lon: 102.6}},
		Routes: []dockpage.Route{
			{Name: "a-wps", Points: []dockpage.Point{{Lat: 24.351, Lon: 102.541}, {Lat: 24.352, Lon: 102.542}}},
			{Name: "b-plan", Points: []dockpage.Point{{Lat: 24.36, Lon: 102.55}}},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("pageMap() (-want +got):\n%s", d)
	}

	cfg.Limits.Geofence = config.Geofence{RadiusM: 4000}
	if m := pageMap(cfg, slog.New(slog.DiscardHandler)); m.GeofenceRadiusM != 4000 || m.Geofence != nil {
		t.Errorf("pageMap() with a radius fence = %v %v, want radius 4000 and no polygon", m.GeofenceRadiusM, m.Geofence)
	}
}

// TestPageOffByDefault: without http.page there is no page (and the
// metrics server serves only its own paths).
func TestPageOffByDefault(t *testing.T) {
	p, err := newPage(&config.Config{ID: "d1"}, lateState{ctrl: new(*dock.Controller)}, nil, nil, slog.New(slog.DiscardHandler))
	if p != nil || err != nil {
		t.Errorf("newPage() with http.page off = %v, %v; want nil, nil", p, err)
	}
}
