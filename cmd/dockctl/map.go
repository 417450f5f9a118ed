package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock/circle"
	"github.com/dockagent/dock-agent/dock/route"
)

// circleSegments is the number of sides of a drawn circle.
const circleSegments = 72

// runMap implements "dockctl map [-geojson|-kml|-plan ROUTE] [-config
// FILE]": the dock as the agent's config describes it, for GIS tools.
func runMap(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("map", usage{
		synopsis: "dockctl map [-geojson | -kml | -plan ROUTE] [-config FILE] [-live [-wait D] [broker flags]]",
		about: "Draw the dock as its config describes it, for GIS tools (QGIS, Google Earth, geojson.io):\n" +
			"the dock point, the 1/3/5-minute response circles in still air (from flight.cruise_speed_mps,\n" +
			"climb_mps, patrol_alt_m and launch_time; green, amber, red), the geofence and every route with\n" +
			"its waypoints. -plan writes one route as a QGroundControl .plan, which the agent imports back\n" +
			"unchanged (routes.NAME.plan_file, or route.put). A config with mistakes is refused with\n" +
			"the list \"dock-agent -check\" gives. -live adds where things are now, read from the broker\n" +
			"(the broker flags as for watch): the vehicle from its telemetry (orange) and the active\n" +
			"dispatch's target (red) from the retained state; the active patrol's route gets active=true.",
		examples: []string{
			"dockctl map -geojson > dock.geojson",
			"dockctl map -kml -config agent.yaml > dock.kml",
			"dockctl map -plan old-town > old-town.plan   # open in QGroundControl",
			"dockctl map -live -kml > now.kml             # with the vehicle and the target, from the broker",
		},
	}, stderr)
	// The broker flags bring -config, which is also the map's config.
	bf := addBrokerFlags(fs)
	fs.Lookup("config").Usage = "the agent's config `file`: the map, and the broker settings of -live"
	liveOn := fs.Bool("live", false, "add the vehicle and the active target, read from the broker")
	wait := fs.Duration("wait", 5*time.Second, "with -live: how long to wait for the retained state and a telemetry message")
	asGeoJSON := fs.Bool("geojson", false, "write GeoJSON (RFC 7946) with simplestyle colours (the default)")
	asKML := fs.Bool("kml", false, "write KML 2.2")
	plan := fs.String("plan", "", "write `ROUTE` as a QGroundControl .plan instead of a map")
	if code, stop := parseFlags(fs, stdout, stderr, func() error { return fs.Parse(args) }); stop {
		return code
	}
	n := 0
	for _, set := range []bool{*asGeoJSON, *asKML, *plan != ""} {
		if set {
			n++
		}
	}
	if fs.NArg() > 0 || n > 1 {
		fmt.Fprintln(stderr, "dockctl map: give at most one of -geojson, -kml and -plan ROUTE, and no arguments")
		fs.Usage()
		return 2
	}
	if *liveOn && *plan != "" {
		fmt.Fprintln(stderr, "dockctl map: -live draws a map; a .plan (-plan) has no vehicle or target")
		return 2
	}
	cfg, err := config.LoadWithOptions(bf.configPath, config.LoadOptions{AllowMissingSecrets: true})
	if err != nil {
		fmt.Fprintf(stderr, "dockctl map: read the agent's config: %v\n", err)
		return 1
	}
	routes, err := configRoutes(cfg)
	if err != nil {
		return failed(stderr, "map", err)
	}
	var features []mapFeature
	if *plan == "" {
		features = dockMap(cfg, routes)
	}
	if *liveOn {
		s, err := bf.resolve(true)
		if err != nil {
			fmt.Fprintf(stderr, "dockctl map: -live: %v\n", err)
			return 1
		}
		ctx, stop := interruptContext()
		l, err := readLive(ctx, s, *wait, stderr)
		stop()
		if err != nil {
			fmt.Fprintf(stderr, "dockctl map: -live: %v\n", err)
			return 1
		}
		markActiveRoute(features, l.state.Sortie)
		features = append(features, liveFeatures(l)...)
	}
	switch {
	case *plan != "":
		err = writeRoutePlan(stdout, cfg, routes, *plan)
	case *asKML:
		err = writeKML(stdout, "dock "+cfg.ID, features)
	default:
		err = writeGeoJSON(stdout, "dock "+cfg.ID, features)
	}
	if err != nil {
		return failed(stderr, "map", err)
	}
	return 0
}

// configRoutes returns the config's routes as the agent flies them: a
// waypoint without altitude at flight.patrol_alt_m, a plan_file read with
// route.DecodePlan.
func configRoutes(cfg *config.Config) ([]route.Route, error) {
	var out []route.Route
	for _, name := range slices.Sorted(maps.Keys(cfg.Routes)) {
		cr := cfg.Routes[name]
		r := route.Route{Name: name}
		if cr.PlanFile != "" {
			b, err := os.ReadFile(cr.PlanFile)
			if err != nil {
				return nil, fmt.Errorf("route %s: read plan file: %w", name, err)
			}
			p, err := route.DecodePlan(b, route.Limits{MaxAltM: cfg.Limits.MaxAltM})
			if err != nil {
				return nil, fmt.Errorf("route %s: plan file %s: %w", name, cr.PlanFile, err)
			}
			r.Waypoints = p.Waypoints
		}
		for _, w := range cr.Waypoints {
			alt := w.AltM
			if alt == 0 {
				alt = cfg.Flight.PatrolAltM
			}
			r.Waypoints = append(r.Waypoints, route.Waypoint{Lat: w.Lat, Lon: w.Lon, AltM: alt, SpeedMPS: w.SpeedMPS, Hold: w.Hold})
		}
		out = append(out, r)
	}
	return out, nil
}

// dockMap lists the features of the dock's map: response circles largest
// first (so the smaller ones draw on top), the geofence, routes with their
// waypoints, and the dock.
func dockMap(cfg *config.Config, routes []route.Route) []mapFeature {
	home := route.Point{Lat: cfg.Position.Lat, Lon: cfg.Position.Lon}
	var fs []mapFeature
	p := circle.Params{Dock: home, AirspeedMPS: cfg.Flight.CruiseSpeedMPS, ClimbMPS: cfg.Flight.ClimbMPS,
		PatrolAltM: cfg.Flight.PatrolAltM, Launch: cfg.Flight.LaunchTime}
	radii := p.Radii()
	styles := []mapStyle{styleCircle1, styleCircle3, styleCircle5}
	for i := len(circle.Minutes) - 1; i >= 0; i-- {
		m := circle.Minutes[i]
		fs = append(fs, mapFeature{
			name: fmt.Sprintf("%d-minute response circle", m), kind: "circle", style: styles[i],
			ring:  circleRing(home, radii[i], circleSegments),
			props: []prop{{"circle_min", m}, {"radius_m", round3(radii[i])}, {"wind", "still air"}},
		})
	}
	if g := cfg.Limits.Geofence; len(g.Polygon) >= 3 {
		ring := make([]geoPos, 0, len(g.Polygon)+1)
		for _, v := range g.Polygon {
			ring = append(ring, geoPos{Lat: v[0], Lon: v[1]})
		}
		ring = append(ring, ring[0])
		fs = append(fs, mapFeature{name: "geofence", kind: "geofence", style: styleGeofence, ring: ring,
			props: []prop{{"max_alt_m", cfg.Limits.MaxAltM}}})
	} else if g.RadiusM > 0 {
		fs = append(fs, mapFeature{name: "geofence", kind: "geofence", style: styleGeofence,
			ring:  circleRing(home, g.RadiusM, circleSegments),
			props: []prop{{"radius_m", g.RadiusM}, {"max_alt_m", cfg.Limits.MaxAltM}}})
	}
	for _, r := range routes {
		// Take-off from the dock, the waypoints, the leg home.
		line := []geoPos{{Lat: home.Lat, Lon: home.Lon, HasAlt: true}}
		for _, w := range r.Waypoints {
			line = append(line, geoPos{Lat: w.Lat, Lon: w.Lon, Alt: w.AltM, HasAlt: true})
		}
		line = append(line, line[0])
		fs = append(fs, mapFeature{name: "route " + r.Name, kind: "route", style: styleRoute, alt: altRelative, line: line,
			props: []prop{{"route", r.Name}, {"waypoints", len(r.Waypoints)}, {"alt", "metres above the dock"}}})
		for i, w := range r.Waypoints {
			props := []prop{{"route", r.Name}, {"index", i}, {"alt_m", w.AltM}}
			if w.SpeedMPS > 0 {
				props = append(props, prop{"speed_mps", w.SpeedMPS})
			}
			if w.Hold > 0 {
				props = append(props, prop{"hold_s", w.Hold.Seconds()})
			}
			fs = append(fs, mapFeature{name: fmt.Sprintf("%s #%d", r.Name, i+1), kind: "waypoint", style: styleWaypoint, alt: altRelative,
				point: &geoPos{Lat: w.Lat, Lon: w.Lon, Alt: w.AltM, HasAlt: true}, props: props})
		}
	}
	fs = append(fs, mapFeature{name: "dock " + cfg.ID, kind: "dock", style: styleDock, alt: altAbsolute,
		point: &geoPos{Lat: home.Lat, Lon: home.Lon, Alt: cfg.Position.AltM, HasAlt: true},
		props: []prop{{"dock_id", cfg.ID}, {"alt_m", cfg.Position.AltM}}})
	return fs
}

// writeRoutePlan writes route name as a QGroundControl .plan with the dock
// as planned home.
func writeRoutePlan(w io.Writer, cfg *config.Config, routes []route.Route, name string) error {
	i := slices.IndexFunc(routes, func(r route.Route) bool { return r.Name == name })
	if i < 0 {
		names := make([]string, len(routes))
		for k, r := range routes {
			names[k] = r.Name
		}
		if len(names) == 0 {
			return errors.New("the config has no routes")
		}
		return fmt.Errorf("no route %q in the config (have %s)", name, strings.Join(names, ", "))
	}
	p := route.Plan{Waypoints: routes[i].Waypoints, Home: route.Point{Lat: cfg.Position.Lat, Lon: cfg.Position.Lon},
		HomeAltM: cfg.Position.AltM, HasHome: true}
	b, err := route.EncodePlan(p, route.PlanOptions{CruiseSpeedMPS: cfg.Flight.CruiseSpeedMPS})
	if err != nil {
		return fmt.Errorf("route %s: %w", name, err)
	}
	_, err = w.Write(b)
	return err
}
