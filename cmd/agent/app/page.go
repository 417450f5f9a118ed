package app

import (
	"log/slog"
	"maps"
	"os"
	"slices"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/telemetry/dockpage"
)

// newPage makes the dock page when http.page is on (nil when off): it
// reads the same state and vehicle the MQTT publisher reads, and the
// wiring hands it the events on their way to the outbox.
func newPage(cfg *config.Config, state dockpage.StateSource, veh *vehicleLink, clock clockwork.Clock, log *slog.Logger) (*dockpage.Page, error) {
	if !cfg.HTTP.Page {
		return nil, nil
	}
	return dockpage.NewPage(dockpage.Options{DockID: cfg.ID, Map: pageMap(cfg, log), Clock: clock, Logger: log}, state, veh.State)
}

// pageMap is the config's geometry for the page: the dock, the geofence
// and the routes (as the sortie engine reads them; a route whose plan file
// cannot be read is left off the map, the engine reports it).
func pageMap(cfg *config.Config, log *slog.Logger) dockpage.Map {
	m := dockpage.Map{Dock: dockpage.Point{Lat: cfg.Position.Lat, Lon: cfg.Position.Lon}, Routes: []dockpage.Route{}}
	if g := cfg.Limits.Geofence; len(g.Polygon) >= 3 {
		for _, v := range g.Polygon {
			m.Geofence = append(m.Geofence, dockpage.Point{Lat: v[0], Lon: v[1]})
		}
	} else {
		m.GeofenceRadiusM = g.RadiusM
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Routes)) {
		cr := cfg.Routes[name]
		r := dockpage.Route{Name: name}
		if cr.PlanFile != "" {
			b, err := os.ReadFile(cr.PlanFile)
			if err != nil {
				log.Warn("route left off the dock page: read plan file", "route", name, "err", err)
				continue
			}
			p, err := route.DecodePlan(b, route.Limits{MaxAltM: cfg.Limits.MaxAltM})
			if err != nil {
				log.Warn("route left off the dock page: plan file", "route", name, "err", err)
				continue
			}
			for _, w := range p.Waypoints {
				r.Points = append(r.Points, dockpage.Point{Lat: w.Lat, Lon: w.Lon})
			}
		}
		for _, w := range cr.Waypoints {
			r.Points = append(r.Points, dockpage.Point{Lat: w.Lat, Lon: w.Lon})
		}
		m.Routes = append(m.Routes, r)
	}
	return m
}
