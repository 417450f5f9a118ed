package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/dock"
)

func TestCircles(t *testing.T) {
	r := newRig(t, nil, nil)
	broker := []string{"circles", "-config", "", "-broker", r.url, "-dock", "d1"}

	code, out, _ := dockctl(t, "", broker...)
	if code != 0 {
		t.Fatalf("dockctl circles = %d, want 0", code)
	}
	for _, w := range []string{"1-minute      900 m", "3-minute     2700 m", "5-minute     4500 m"} {
		if !strings.Contains(out, w) {
			t.Errorf("dockctl circles output lacks %q", w)
		}
	}

	// No GeoJSON in the state: drawn around the given dock position.
	code, out, _ = dockctl(t, "", append(broker, "-geojson", "-lat", "53.55", "-lon", "9.99")...)
	if code != 0 {
		t.Fatalf("dockctl circles -geojson = %d, want 0", code)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties struct {
				CircleMin int     `json:"circle_min"`
				RadiusM   float64 `json:"radius_m"`
			} `json:"properties"`
			Geometry struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil {
		t.Fatalf("geojson %q: %v", out, err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 3 {
		t.Fatalf("geojson: %s with %d features, want a FeatureCollection of 3", fc.Type, len(fc.Features))
	}
	for i, f := range fc.Features {
		ring := f.Geometry.Coordinates[0]
		if f.Geometry.Type != "Polygon" || ring[0] != ring[len(ring)-1] {
			t.Errorf("feature %d: %s, closed=%v; want a closed Polygon", i, f.Geometry.Type, ring[0] == ring[len(ring)-1])
		}
		wantMin, wantR := []int{1, 3, 5}[i], []float64{900, 2700, 4500}[i]
		if f.Properties.CircleMin != wantMin || f.Properties.RadiusM != wantR {
			t.Errorf("feature %d properties = %+v, want %d min %g m", i, f.Properties, wantMin, wantR)
		}
		for _, p := range ring {
			if d := haversine(53.55, 9.99, p[1], p[0]); math.Abs(d-wantR) > 1 {
				t.Fatalf("feature %d: point %v is %.1f m from the dock, want %g", i, p, d, wantR)
			}
		}
	}

	// Without a position the GeoJSON cannot be drawn: say how to fix it.
	code, _, errb := dockctl(t, "", append(broker, "-geojson")...)
	if code != 1 || !strings.Contains(errb, "give -lat and -lon") {
		t.Errorf("dockctl circles -geojson without position = %d %q, want 1 and a hint", code, errb)
	}
}

// TestCirclesStateGeoJSON: the agent's GeoJSON, retained on `circles`, is
// printed as it is.
func TestCirclesStateGeoJSON(t *testing.T) {
	r := newRig(t, nil, func(s *dock.State) {
		s.Circles.GeoJSON = map[string]any{"type": "FeatureCollection", "features": []any{}}
	})
	code, out, _ := dockctl(t, "", "circles", "-config", "", "-broker", r.url, "-dock", "d1", "-geojson")
	if code != 0 || strings.TrimSpace(out) != `{"features":[],"type":"FeatureCollection"}` {
		t.Errorf("dockctl circles -geojson = %d %q, want the published GeoJSON", code, out)
	}
}

func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dφ, dλ := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
