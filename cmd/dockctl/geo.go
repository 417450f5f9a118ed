package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"math"
	"time"

	"github.com/twpayne/go-kml/v3"

	"github.com/dockagent/dock-agent/dock/route"
)

// This file holds what "dockctl map" and "dockctl dump -geojson|-kml|-gpx"
// draw, in one neutral form, and the writers for GIS tools: GeoJSON
// (RFC 7946, with the simplestyle properties geojson.io, GitHub and
// uMap draw), KML 2.2 (Google Earth, QGIS; github.com/twpayne/go-kml/v3)
// and GPX 1.1 for tracks (encoding/xml). GeoJSON is written with
// encoding/json rather than paulmach/orb's geojson package, which would
// bring the MongoDB BSON driver into dockctl.

// geoPos is a position; Alt is metres (AMSL for tracks, above the dock for
// routes, see the feature's altMode), meaningful when HasAlt.
type geoPos struct {
	Lat, Lon, Alt float64
	HasAlt        bool
	Time          time.Time // zero: unknown (raw captures, map features)
}

// altMode says what a feature's altitudes are relative to.
type altMode int

const (
	altNone     altMode = iota // 2-D: drawn on the ground
	altAbsolute                // metres above mean sea level (GPS)
	altRelative                // metres above the dock (home)
)

// mapStyle is how a kind of feature is drawn; a zero fill draws none.
type mapStyle struct {
	id     string
	stroke color.NRGBA
	width  float64
	fill   color.NRGBA
}

// The styles: response circles green/amber/red by minutes (filled lightly,
// so the smaller ones stay visible), the geofence blue, routes purple,
// tracks teal, the dock black.
var (
	styleDock     = mapStyle{id: "dock", stroke: color.NRGBA{0x21, 0x21, 0x21, 0xff}, width: 2}
	styleCircle1  = mapStyle{id: "circle-1", stroke: color.NRGBA{0x2e, 0x7d, 0x32, 0xff}, width: 2, fill: color.NRGBA{0x2e, 0x7d, 0x32, 0x33}}
	styleCircle3  = mapStyle{id: "circle-3", stroke: color.NRGBA{0xf9, 0xa8, 0x25, 0xff}, width: 2, fill: color.NRGBA{0xf9, 0xa8, 0x25, 0x26}}
	styleCircle5  = mapStyle{id: "circle-5", stroke: color.NRGBA{0xc6, 0x28, 0x28, 0xff}, width: 2, fill: color.NRGBA{0xc6, 0x28, 0x28, 0x1a}}
	styleGeofence = mapStyle{id: "geofence", stroke: color.NRGBA{0x15, 0x65, 0xc0, 0xff}, width: 3}
	styleRoute    = mapStyle{id: "route", stroke: color.NRGBA{0x6a, 0x1b, 0x9a, 0xff}, width: 3}
	styleWaypoint = mapStyle{id: "waypoint", stroke: color.NRGBA{0x6a, 0x1b, 0x9a, 0xff}, width: 1}
	styleTrack    = mapStyle{id: "track", stroke: color.NRGBA{0x00, 0x83, 0x8f, 0xff}, width: 3}
)

// mapFeature is one thing on the map: a point, a line or a polygon (its
// outer ring closed, first point repeated last), exactly one of them.
type mapFeature struct {
	name  string
	kind  string // dock, circle, geofence, route, waypoint, track
	style mapStyle
	alt   altMode
	point *geoPos
	line  []geoPos
	ring  []geoPos
	props []prop // in order, for readable output
}

// prop is a property of a feature; values are strings, numbers or bools.
type prop struct {
	key string
	val any
}

// circleRing is a closed ring of n segments around c with radius r metres,
// counter-clockwise (as RFC 7946 wants exterior rings), from north.
func circleRing(c route.Point, r float64, n int) []geoPos {
	ring := make([]geoPos, 0, n+1)
	for k := 0; k <= n; k++ {
		p := route.Destination(c, -360*float64(k%n)/float64(n), r)
		ring = append(ring, geoPos{Lat: p.Lat, Lon: p.Lon})
	}
	return ring
}

// ccw returns ring (closed) counter-clockwise in lon/lat, reversing it if
// its signed area says it runs clockwise.
func ccw(ring []geoPos) []geoPos {
	area := 0.0
	for i := 0; i+1 < len(ring); i++ {
		area += ring[i].Lon*ring[i+1].Lat - ring[i+1].Lon*ring[i].Lat
	}
	if area >= 0 {
		return ring
	}
	out := make([]geoPos, len(ring))
	for i, p := range ring {
		out[len(ring)-1-i] = p
	}
	return out
}

// round7 rounds degrees to 1e-7 (about 1 cm), the precision of MAVLink's
// integer positions; alt to the millimetre.
func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
func round3(v float64) float64 { return math.Round(v*1e3) / 1e3 }

// ---- GeoJSON ----

type gjCollection struct {
	Type     string      `json:"type"`
	Name     string      `json:"name,omitempty"`
	Features []gjFeature `json:"features"`
}

type gjFeature struct {
	Type       string     `json:"type"`
	Properties gjProps    `json:"properties"`
	Geometry   gjGeometry `json:"geometry"`
}

type gjGeometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

// gjProps keeps the properties in the order they were given.
type gjProps []prop

func (ps gjProps) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(p.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.val)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", p.key, err)
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

func hexColor(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func gjPos(p geoPos) []float64 {
	if p.HasAlt {
		return []float64{round7(p.Lon), round7(p.Lat), round3(p.Alt)}
	}
	return []float64{round7(p.Lon), round7(p.Lat)}
}

func gjLine(ps []geoPos) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = gjPos(p)
	}
	return out
}

// writeGeoJSON writes the features as one FeatureCollection: name and kind
// first, then the feature's own properties, then its style in simplestyle
// terms (stroke, stroke-width, fill, fill-opacity, marker-color).
func writeGeoJSON(w io.Writer, name string, fs []mapFeature) error {
	c := gjCollection{Type: "FeatureCollection", Name: name, Features: []gjFeature{}}
	for _, f := range fs {
		props := gjProps{{"name", f.name}, {"kind", f.kind}}
		props = append(props, f.props...)
		var g gjGeometry
		switch {
		case f.point != nil:
			g = gjGeometry{"Point", gjPos(*f.point)}
			props = append(props, prop{"marker-color", hexColor(f.style.stroke)})
		case f.line != nil:
			g = gjGeometry{"LineString", gjLine(f.line)}
			props = append(props, prop{"stroke", hexColor(f.style.stroke)}, prop{"stroke-width", f.style.width})
		default:
			g = gjGeometry{"Polygon", [][][]float64{gjLine(ccw(f.ring))}}
			props = append(props, prop{"stroke", hexColor(f.style.stroke)}, prop{"stroke-width", f.style.width},
				prop{"fill", hexColor(f.style.fill)}, prop{"fill-opacity", round3(float64(f.style.fill.A) / 255)})
		}
		c.Features = append(c.Features, gjFeature{Type: "Feature", Properties: props, Geometry: g})
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode geojson: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ---- KML ----

func kmlCoords(ps []geoPos) kml.CoordinatesElement {
	cs := make([]kml.Coordinate, len(ps))
	for i, p := range ps {
		cs[i] = kml.Coordinate{Lon: round7(p.Lon), Lat: round7(p.Lat), Alt: round3(p.Alt)}
	}
	return kml.Coordinates(cs...)
}

func kmlAltMode(m altMode) kml.Element {
	switch m {
	case altAbsolute:
		return kml.AltitudeMode(kml.AltitudeModeAbsolute)
	case altRelative:
		// The dock is the route's home: above ground at the dock is the
		// nearest KML has.
		return kml.AltitudeMode(kml.AltitudeModeRelativeToGround)
	}
	return kml.AltitudeMode(kml.AltitudeModeClampToGround)
}

// kmlColor hands go-kml a colour whose RGBA() is not alpha-premultiplied:
// go-kml writes RGBA()'s channels as they come, and KML's aabbggrr colours
// are straight alpha (a translucent fill keeps its hue).
type kmlColor color.NRGBA

func (c kmlColor) RGBA() (r, g, b, a uint32) {
	return uint32(c.R) * 0x101, uint32(c.G) * 0x101, uint32(c.B) * 0x101, uint32(c.A) * 0x101
}

// writeKML writes the features as one KML document with a shared style
// per kind, the properties as ExtendedData.
func writeKML(w io.Writer, name string, fs []mapFeature) error {
	children := []kml.Element{kml.Name(name), kml.Open(true)}
	seen := map[string]bool{}
	for _, f := range fs {
		s := f.style
		if seen[s.id] {
			continue
		}
		seen[s.id] = true
		children = append(children, kml.SharedStyle(s.id,
			kml.IconStyle(kml.Color(kmlColor(s.stroke)), kml.Scale(1)),
			kml.LineStyle(kml.Color(kmlColor(s.stroke)), kml.Width(s.width)),
			kml.PolyStyle(kml.Color(kmlColor(s.fill)), kml.Fill(s.fill.A > 0), kml.Outline(true)),
		))
	}
	for _, f := range fs {
		var data []kml.Element
		data = append(data, kml.Data("kind", kml.Value(f.kind)))
		for _, p := range f.props {
			data = append(data, kml.Data(p.key, kml.Value(fmt.Sprint(p.val))))
		}
		var geom kml.Element
		switch {
		case f.point != nil:
			geom = kml.Point(kmlAltMode(f.alt), kmlCoords([]geoPos{*f.point}))
		case f.line != nil:
			geom = kml.LineString(kml.Tessellate(true), kmlAltMode(f.alt), kmlCoords(f.line))
		default:
			geom = kml.Polygon(kml.Tessellate(true), kml.OuterBoundaryIs(kml.LinearRing(kmlCoords(ccw(f.ring)))))
		}
		children = append(children, kml.Placemark(kml.Name(f.name), kml.StyleURL("#"+f.style.id), kml.ExtendedData(data...), geom))
	}
	if err := kml.KML(kml.Document(children...)).WriteIndent(w, "", " "); err != nil {
		return fmt.Errorf("encode kml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// ---- GPX (tracks only) ----

type gpxFile struct {
	XMLName xml.Name   `xml:"gpx"`
	Xmlns   string     `xml:"xmlns,attr"`
	Version string     `xml:"version,attr"`
	Creator string     `xml:"creator,attr"`
	Tracks  []gpxTrack `xml:"trk"`
}

type gpxTrack struct {
	Name string   `xml:"name"`
	Seg  gpxTrSeg `xml:"trkseg"`
}

type gpxTrSeg struct {
	Points []gpxPoint `xml:"trkpt"`
}

type gpxPoint struct {
	Lat  float64 `xml:"lat,attr"`
	Lon  float64 `xml:"lon,attr"`
	Ele  float64 `xml:"ele"`
	Time string  `xml:"time,omitempty"`
}

// writeGPX writes the line features (tracks) as GPX 1.1 tracks: elevation
// AMSL and, when known, the time of each point.
func writeGPX(w io.Writer, fs []mapFeature) error {
	g := gpxFile{Xmlns: "http://www.topografix.com/GPX/1/1", Version: "1.1", Creator: "dockctl " + version}
	for _, f := range fs {
		if f.line == nil {
			continue
		}
		t := gpxTrack{Name: f.name}
		for _, p := range f.line {
			pt := gpxPoint{Lat: round7(p.Lat), Lon: round7(p.Lon), Ele: round3(p.Alt)}
			if !p.Time.IsZero() {
				pt.Time = p.Time.UTC().Format("2006-01-02T15:04:05.000Z")
			}
			t.Seg.Points = append(t.Seg.Points, pt)
		}
		g.Tracks = append(g.Tracks, t)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(g); err != nil {
		return fmt.Errorf("encode gpx: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
