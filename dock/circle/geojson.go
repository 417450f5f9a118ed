package circle

import (
	"math"

	"github.com/dockagent/dock-agent/dock/route"
)

// DefaultSegments is the number of polygon vertices per circle in GeoJSON
// when the caller passes 0.
const DefaultSegments = 72

// FeatureCollection is a GeoJSON FeatureCollection (RFC 7946).
type FeatureCollection struct {
	Type     string    `json:"type"` // "FeatureCollection"
	Features []Feature `json:"features"`
}

// Feature is a GeoJSON Feature with a Polygon geometry.
type Feature struct {
	Type       string     `json:"type"` // "Feature"
	Geometry   Polygon    `json:"geometry"`
	Properties Properties `json:"properties"`
}

// Polygon is a GeoJSON Polygon: one closed exterior ring of [lon, lat]
// positions, counter-clockwise (RFC 7946 §3.1.6).
type Polygon struct {
	Type        string         `json:"type"` // "Polygon"
	Coordinates [][][2]float64 `json:"coordinates"`
}

// Properties of a circle feature.
type Properties struct {
	Minutes   int     `json:"circle_min"`
	RadiusM   float64 `json:"radius_m"`
	CenterLat float64 `json:"center_lat"`
	CenterLon float64 `json:"center_lon"`
}

// GeoJSON returns the wind-shifted circles of p in wind w as polygons with
// segments vertices each (0: DefaultSegments, at least 8). A circle of
// radius 0 (not airborne yet at that time) is a degenerate ring at its
// centre, so the collection always holds the three features.
func (p Params) GeoJSON(w route.Wind, segments int) FeatureCollection {
	if segments <= 0 {
		segments = DefaultSegments
	}
	segments = max(segments, 8)
	fc := FeatureCollection{Type: "FeatureCollection", Features: make([]Feature, 0, 3)}
	for _, c := range p.Circles(w) {
		ring := make([][2]float64, 0, segments+1)
		for i := range segments {
			// Bearings decrease so the ring runs counter-clockwise.
			brg := 360 - float64(i)*360/float64(segments)
			q := route.Destination(c.Center, brg, c.RadiusM)
			ring = append(ring, [2]float64{round7(q.Lon), round7(q.Lat)})
		}
		ring = append(ring, ring[0])
		fc.Features = append(fc.Features, Feature{
			Type:     "Feature",
			Geometry: Polygon{Type: "Polygon", Coordinates: [][][2]float64{ring}},
			Properties: Properties{Minutes: c.Minutes, RadiusM: math.Round(c.RadiusM*10) / 10,
				CenterLat: round7(c.Center.Lat), CenterLon: round7(c.Center.Lon)},
		})
	}
	return fc
}

// round7 rounds degrees to 7 decimals (about 1 cm), keeping `state` small.
func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
