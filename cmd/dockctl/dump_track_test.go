package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/tlog"
)

// flightLog writes a .tlog of a short flight of system 1: a position
// without fix (0, 0, dropped), then five positions a second apart, with a
// heartbeat between and one position of another system (a single point:
// no track).
func flightLog(t *testing.T) (path string, t0 time.Time) {
	t.Helper()
	t0 = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	w := tlog.NewWriter(&buf, tlog.WriterOptions{})
	write := func(at time.Time, h mavlink.Header, m mavlink.Message) {
		b, err := mavlink.AppendMessage(nil, h, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(at, b); err != nil {
			t.Fatal(err)
		}
	}
	vehicle := mavlink.Header{SysID: 1, CompID: 1}
	write(t0, vehicle, &mavlink.GlobalPositionInt{})
	for i := range 5 {
		write(t0.Add(time.Duration(i+1)*time.Second), vehicle, &mavlink.GlobalPositionInt{
			Lat: 243504000 + int32(i)*1000, Lon: 1025420000 - int32(i)*500, Alt: 1648200 + int32(i)*10000, RelativeAlt: int32(i) * 10000})
		write(t0.Add(time.Duration(i+1)*time.Second), vehicle, &mavlink.Heartbeat{})
	}
	write(t0, mavlink.Header{SysID: 2, CompID: 1}, &mavlink.GlobalPositionInt{Lat: 1, Lon: 1})
	path = filepath.Join(t.TempDir(), "s-1.tlog")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, t0
}

// wantTrack is the flight's track as [lon, lat, alt AMSL].
var wantTrack = [][]float64{
	{102.542, 24.3504, 1648.2},
	{102.54195, 24.3505, 1658.2},
	{102.5419, 24.3506, 1668.2},
	{102.54185, 24.3507, 1678.2},
	{102.5418, 24.3508, 1688.2},
}

func TestDumpTrackGeoJSON(t *testing.T) {
	path, _ := flightLog(t)
	code, out, _ := dockctl(t, "", "dump", "-geojson", path)
	if code != 0 {
		t.Fatalf("dump -geojson = %d, want 0", code)
	}
	var doc geoJSONDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(doc.Features) != 1 || doc.Features[0].Geometry.Type != "LineString" {
		t.Fatalf("features = %+v, want one LineString", doc.Features)
	}
	var line [][]float64
	if err := json.Unmarshal(doc.Features[0].Geometry.Coordinates, &line); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTrack, line); diff != "" {
		t.Errorf("track (-want +got):\n%s", diff)
	}
	p := doc.Features[0].Properties
	want := map[string]any{"name": "s-1.tlog system 1/1", "kind": "track", "sysid": 1.0, "compid": 1.0, "points": 5.0,
		"max_rel_alt_m": 40.0, "start": "2026-12-05T19:00:01Z", "end": "2026-12-05T19:00:05Z", "duration_s": 4.0,
		"stroke": "#00838f", "stroke-width": 3.0}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("properties (-want +got):\n%s", diff)
	}
}

func TestDumpTrackGPX(t *testing.T) {
	path, t0 := flightLog(t)
	code, out, _ := dockctl(t, "", "dump", "-gpx", path)
	if code != 0 {
		t.Fatalf("dump -gpx = %d, want 0", code)
	}
	var doc struct {
		XMLName xml.Name
		Version string `xml:"version,attr"`
		Tracks  []struct {
			Name   string `xml:"name"`
			Points []struct {
				Lat  float64 `xml:"lat,attr"`
				Lon  float64 `xml:"lon,attr"`
				Ele  float64 `xml:"ele"`
				Time string  `xml:"time"`
			} `xml:"trkseg>trkpt"`
		} `xml:"trk"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not XML: %v", err)
	}
	if doc.XMLName.Space != "http://www.topografix.com/GPX/1/1" || doc.Version != "1.1" || len(doc.Tracks) != 1 {
		t.Fatalf("gpx %v version %s with %d tracks, want GPX 1.1 with one", doc.XMLName, doc.Version, len(doc.Tracks))
	}
	pts := doc.Tracks[0].Points
	if len(pts) != len(wantTrack) {
		t.Fatalf("%d points, want %d", len(pts), len(wantTrack))
	}
	for i, p := range pts {
		w := wantTrack[i]
		wantTime := t0.Add(time.Duration(i+1) * time.Second).Format("2006-01-02T15:04:05.000Z")
		if p.Lon != w[0] || p.Lat != w[1] || p.Ele != w[2] || p.Time != wantTime {
			t.Errorf("point %d = %+v, want %v at %s", i, p, w, wantTime)
		}
	}
}

func TestDumpTrackKML(t *testing.T) {
	path, _ := flightLog(t)
	code, out, _ := dockctl(t, "", "dump", "-kml", path)
	if code != 0 {
		t.Fatalf("dump -kml = %d, want 0", code)
	}
	var doc struct {
		Placemarks []struct {
			Name   string `xml:"name"`
			Mode   string `xml:"LineString>altitudeMode"`
			Coords string `xml:"LineString>coordinates"`
		} `xml:"Document>Placemark"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not XML: %v", err)
	}
	if len(doc.Placemarks) != 1 {
		t.Fatalf("%d placemarks, want 1", len(doc.Placemarks))
	}
	pm := doc.Placemarks[0]
	want := "102.542,24.3504,1648.2 102.54195,24.3505,1658.2 102.5419,24.3506,1668.2 102.54185,24.3507,1678.2 102.5418,24.3508,1688.2"
	if pm.Mode != "absolute" || pm.Coords != want {
		t.Errorf("track %q: mode %q coordinates %q, want absolute %q", pm.Name, pm.Mode, pm.Coords, want)
	}
}

func TestDumpTrackErrors(t *testing.T) {
	path, _ := flightLog(t)
	code, _, errOut := dockctl(t, "", "dump", "-gpx", "-kml", path)
	if code != 2 || !strings.Contains(errOut, "at most one of -geojson, -kml and -gpx") {
		t.Errorf("dump -gpx -kml = %d, stderr %q; want 2", code, errOut)
	}
	// Frames without positions: nothing to draw is an error, not an empty map.
	var raw []byte
	for _, f := range testFrames(t)[1:] {
		raw = append(raw, f...)
	}
	code, _, errOut = dockctl(t, string(raw), "dump", "-geojson", "-format", "raw", "-")
	if code != 1 || !strings.Contains(errOut, "no GLOBAL_POSITION_INT with a position") {
		t.Errorf("dump -geojson of frames without positions = %d, stderr %q; want 1", code, errOut)
	}
}
