package main

import (
	"encoding/json"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock/circle"
	"github.com/dockagent/dock-agent/dock/route"
)

// exampleConfig is the commented Raspberry Pi config: dock at 24.3504,
// 102.542, a 4000 m geofence, three routes.
const exampleConfig = "../../config/examples/dock.yaml"

type geoJSONDoc struct {
	Type     string `json:"type"`
	Features []struct {
		Properties map[string]any `json:"properties"`
		Geometry   struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	} `json:"features"`
}

func loadExample(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.LoadWithOptions(exampleConfig, config.LoadOptions{AllowMissingSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestMapGeoJSON: the dock point where the config puts it, circles of the
// radii the agent computes in still air and that size on the ground,
// counter-clockwise and styled, the geofence, and every route from the
// dock through its waypoints back, each waypoint a point.
func TestMapGeoJSON(t *testing.T) {
	cfg := loadExample(t)
	code, out, _ := dockctl(t, "", "map", "-geojson", "-config", exampleConfig)
	if code != 0 {
		t.Fatalf("dockctl map -geojson = %d, want 0", code)
	}
	var doc geoJSONDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	home := route.Point{Lat: cfg.Position.Lat, Lon: cfg.Position.Lon}
	radii := circle.Params{Dock: home, AirspeedMPS: cfg.Flight.CruiseSpeedMPS, ClimbMPS: cfg.Flight.ClimbMPS,
		PatrolAltM: cfg.Flight.PatrolAltM, Launch: cfg.Flight.LaunchTime}.Radii()
	kinds := map[string]int{}
	wantStroke := map[float64]string{1: "#2e7d32", 3: "#f9a825", 5: "#c62828"}
	for _, f := range doc.Features {
		p := f.Properties
		kind, _ := p["kind"].(string)
		kinds[kind]++
		switch kind {
		case "dock":
			var c []float64
			json.Unmarshal(f.Geometry.Coordinates, &c)
			if diff := cmp.Diff([]float64{cfg.Position.Lon, cfg.Position.Lat, cfg.Position.AltM}, c); diff != "" || f.Geometry.Type != "Point" {
				t.Errorf("dock %s (-want +got):\n%s", f.Geometry.Type, diff)
			}
			if p["dock_id"] != cfg.ID {
				t.Errorf("dock_id = %v, want %s", p["dock_id"], cfg.ID)
			}
		case "circle", "geofence":
			var rings [][][]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil || f.Geometry.Type != "Polygon" || len(rings) != 1 {
				t.Fatalf("%v: %s %v, want one Polygon ring", p["name"], f.Geometry.Type, err)
			}
			r := cfg.Limits.Geofence.RadiusM
			if kind == "circle" {
				m := p["circle_min"].(float64)
				r = radii[map[float64]int{1: 0, 3: 1, 5: 2}[m]]
				if p["stroke"] != wantStroke[m] || p["fill-opacity"] == nil {
					t.Errorf("%d-minute circle stroke %v fill-opacity %v, want %s and a fill", int(m), p["stroke"], p["fill-opacity"], wantStroke[m])
				}
				if math.Abs(p["radius_m"].(float64)-r) > 0.001 {
					t.Errorf("%d-minute radius_m = %v, want %v", int(m), p["radius_m"], r)
				}
			}
			checkRing(t, p["name"], rings[0], home, r)
		case "route":
			var line [][]float64
			json.Unmarshal(f.Geometry.Coordinates, &line)
			cr := cfg.Routes[p["route"].(string)]
			if len(line) != len(cr.Waypoints)+2 || line[0][0] != home.Lon || line[len(line)-1][1] != home.Lat {
				t.Errorf("route %v: %d points from %v to %v, want %d from and to the dock", p["route"], len(line), line[0], line[len(line)-1], len(cr.Waypoints)+2)
			}
			for i, w := range cr.Waypoints {
				alt := w.AltM
				if alt == 0 {
					alt = cfg.Flight.PatrolAltM
				}
				if diff := cmp.Diff([]float64{w.Lon, w.Lat, alt}, line[i+1]); diff != "" {
					t.Errorf("route %v point %d (-want +got):\n%s", p["route"], i+1, diff)
				}
			}
		}
	}
	wps := 0
	for _, r := range cfg.Routes {
		wps += len(r.Waypoints)
	}
	want := map[string]int{"dock": 1, "circle": 3, "geofence": 1, "route": len(cfg.Routes), "waypoint": wps}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("features by kind (-want +got):\n%s", diff)
	}
}

// checkRing: closed, counter-clockwise (RFC 7946 §3.1.6), every vertex r
// metres from c.
func checkRing(t *testing.T, name any, ring [][]float64, c route.Point, r float64) {
	t.Helper()
	if len(ring) < 4 || !cmp.Equal(ring[0], ring[len(ring)-1]) {
		t.Fatalf("%v: ring of %d points, not closed", name, len(ring))
	}
	area := 0.0
	for i := 0; i+1 < len(ring); i++ {
		area += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
		if d := route.Distance(c, route.Point{Lat: ring[i][1], Lon: ring[i][0]}); math.Abs(d-r) > 0.05 {
			t.Fatalf("%v: vertex %d is %.2f m from the dock, want %.2f", name, i, d, r)
		}
	}
	if area <= 0 {
		t.Errorf("%v: ring runs clockwise", name)
	}
}

// TestMapKML: the same features as placemarks, a shared style per kind
// with KML's straight-alpha aabbggrr colours.
func TestMapKML(t *testing.T) {
	code, out, _ := dockctl(t, "", "map", "-kml", "-config", exampleConfig)
	if code != 0 {
		t.Fatalf("dockctl map -kml = %d, want 0", code)
	}
	var doc struct {
		Document struct {
			Name   string `xml:"name"`
			Styles []struct {
				ID       string `xml:"id,attr"`
				Line     string `xml:"LineStyle>color"`
				Poly     string `xml:"PolyStyle>color"`
				PolyFill int    `xml:"PolyStyle>fill"`
			} `xml:"Style"`
			Placemarks []struct {
				Name    string `xml:"name"`
				Style   string `xml:"styleUrl"`
				Point   string `xml:"Point>coordinates"`
				Line    string `xml:"LineString>coordinates"`
				Polygon string `xml:"Polygon>outerBoundaryIs>LinearRing>coordinates"`
			} `xml:"Placemark"`
		} `xml:"Document"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not XML: %v", err)
	}
	cfg := loadExample(t)
	if doc.Document.Name != "dock "+cfg.ID {
		t.Errorf("document name = %q, want dock %s", doc.Document.Name, cfg.ID)
	}
	styles := map[string]string{}
	for _, s := range doc.Document.Styles {
		styles[s.ID] = s.Line + "/" + s.Poly
	}
	// circle-1: #2e7d32 stroke, fill at 0x33 alpha: aabbggrr.
	if styles["circle-1"] != "ff327d2e/33327d2e" {
		t.Errorf("style circle-1 = %q, want ff327d2e/33327d2e", styles["circle-1"])
	}
	got := map[string]int{}
	for _, p := range doc.Document.Placemarks {
		if _, ok := styles[strings.TrimPrefix(p.Style, "#")]; !ok {
			t.Errorf("placemark %q uses undefined style %q", p.Name, p.Style)
		}
		switch {
		case p.Point != "":
			got["point"]++
		case p.Line != "":
			got["line"]++
		case p.Polygon != "":
			got["polygon"]++
		}
		if p.Name == "dock "+cfg.ID && p.Point != "102.542,24.3504,1648.2" {
			t.Errorf("dock point = %q, want 102.542,24.3504,1648.2", p.Point)
		}
	}
	points := 1 // the dock
	for _, r := range cfg.Routes {
		points += len(r.Waypoints)
	}
	if want := map[string]int{"point": points, "line": len(cfg.Routes), "polygon": 4}; !cmp.Equal(want, got) {
		t.Errorf("placemarks = %v, want %v", got, want)
	}
}

// TestMapPlan: a route exported with -plan imports back (as the agent
// imports plan_file) to the route the agent flies from the config, with
// the dock as planned home.
func TestMapPlan(t *testing.T) {
	cfg := loadExample(t)
	routes, err := configRoutes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		code, out, _ := dockctl(t, "", "map", "-plan", r.Name, "-config", exampleConfig)
		if code != 0 {
			t.Fatalf("dockctl map -plan %s = %d, want 0", r.Name, code)
		}
		p, err := route.DecodePlan([]byte(out), route.Limits{MaxAltM: cfg.Limits.MaxAltM})
		if err != nil {
			t.Fatalf("DecodePlan(map -plan %s) = %v", r.Name, err)
		}
		want := route.Plan{Waypoints: r.Waypoints, Home: route.Point{Lat: 24.3504, Lon: 102.542}, HomeAltM: 1648.2, HasHome: true}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("route %s after export and import (-want +got):\n%s", r.Name, diff)
		}
	}
	// And as a config's plan_file: the agent's own loading reads it back.
	dir := t.TempDir()
	_, out, _ := dockctl(t, "", "map", "-plan", "old-town", "-config", exampleConfig)
	if err := os.WriteFile(filepath.Join(dir, "old-town.plan"), []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "agent.yaml")
	withPlan := strings.Replace(string(doc), "routes:\n", "routes:\n  from-plan: {plan_file: old-town.plan}\n", 1)
	if err := os.WriteFile(cfgPath, []byte(withPlan), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out2, _ := dockctl(t, "", "map", "-plan", "from-plan", "-config", cfgPath)
	if code != 0 || out2 != out {
		t.Errorf("plan_file route re-exported = %d, differs from the original export: %v", code, out2 != out)
	}
}

func TestMapUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"map", "-geojson", "-kml", "-config", exampleConfig}, 2, "at most one"},
		{[]string{"map", "-config", filepath.Join(t.TempDir(), "none.yaml")}, 1, "read the agent's config"},
		{[]string{"map", "-plan", "nope", "-config", exampleConfig}, 1, `no route "nope" in the config (have market, old-town, stadium)`},
	} {
		code, _, errOut := dockctl(t, "", tc.args...)
		if code != tc.want || !strings.Contains(errOut, tc.msg) {
			t.Errorf("dockctl %s = %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, errOut, tc.want, tc.msg)
		}
	}
}
