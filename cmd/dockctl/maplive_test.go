package main

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
)

// benchConfig has no TLS, so -live can reach a test broker with its
// settings; dock bench-1 at 24.3504, 102.542 with route demo.
const benchConfig = "../../config/examples/bench.yaml"

// Live messages as the agent publishes them: a dispatch in the air with its
// target, and the vehicle's telemetry.
const (
	liveState = `{"lid":"open","arms":"released","charger":false,"charging":false,"estop":false,"estop_latched":false,
"power":true,"fault":"","faults":[],"mode":"auto","heater":false,"fan":false,"strobe":false,"inside_temp_c":null,
"weather":{"wind_mps":3,"gust_mps":4,"dir_deg":200,"rain":false,"temp_c":12,"humidity_pct":60,"stale":false,"at":"2026-12-05T19:00:00Z"},
"vehicle":{"link":true,"armed":true,"landed":false,"docked":false,"battery_pct":81},
"sortie":{"id":"s-20261205-1900","kind":"dispatch","phase":"airborne","target":{"lat":24.356,"lon":102.548,"alt_m":60}},
"circles":{"radii_m":[900,2700,4500]},"clock_synced":true,"updated_at":"2026-12-05T19:00:10Z"}`
	liveTelemetryMsg = `{"ts":"2026-12-05T19:00:10.500Z","lat":24.3531,"lon":102.5452,"alt_m":1702.5,"rel_alt_m":54.3,
"heading_deg":45,"ground_speed_mps":11.8,"climb_mps":0.1,"roll_deg":0,"pitch_deg":0,"mode":"GUIDED","armed":true,
"battery":{"pct":81,"voltage_v":23.9,"current_a":18.2},"gps":{"fix":3,"sats":17,"hdop":0.7},"link":{"loss_pct":0,"rssi":0}}`
)

// dockOnBroker is a mochi broker holding the retained state and sending
// telemetry every 20 ms, as the agent would, until the test ends.
func dockOnBroker(t *testing.T, state string, telemetry bool) string {
	t.Helper()
	srv, addr, _ := inlineBroker(t, "127.0.0.1:0")
	if state != "" {
		if err := srv.Publish("dock/bench-1/state", []byte(state), true, 1); err != nil {
			t.Fatal(err)
		}
	}
	if telemetry {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { publishTelemetry(srv, stop) })
		t.Cleanup(func() { close(stop); wg.Wait() })
	}
	return "tcp://" + addr
}

func publishTelemetry(srv *mochi.Server, stop <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond) // the agent's telemetry rate, sped up
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			_ = srv.Publish("dock/bench-1/telemetry", []byte(liveTelemetryMsg), false, 0)
		}
	}
}

// TestMapLiveGeoJSON: -live adds the vehicle where its telemetry puts it
// and the dispatch's target from the retained state, styled, beside the
// config's features.
func TestMapLiveGeoJSON(t *testing.T) {
	url := dockOnBroker(t, liveState, true)
	code, out, _ := dockctl(t, "", "map", "-live", "-geojson", "-config", benchConfig, "-broker", url)
	if code != 0 {
		t.Fatalf("dockctl map -live -geojson = %d, want 0", code)
	}
	var doc geoJSONDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	found := map[string]bool{}
	for _, f := range doc.Features {
		p := f.Properties
		switch p["kind"] {
		case "vehicle":
			found["vehicle"] = true
			if string(f.Geometry.Coordinates) != "[102.5452,24.3531,1702.5]" || p["mode"] != "GUIDED" || p["armed"] != true ||
				p["battery_pct"] != 81.0 || p["heading_deg"] != 45.0 || p["marker-color"] != "#ef6c00" || p["sortie_id"] != "s-20261205-1900" {
				t.Errorf("vehicle feature = %s %v, want at 102.5452,24.3531,1702.5 GUIDED armed 81%% heading 45, orange", f.Geometry.Coordinates, p)
			}
		case "target":
			found["target"] = true
			if string(f.Geometry.Coordinates) != "[102.548,24.356,60]" || p["sortie_id"] != "s-20261205-1900" || p["phase"] != "airborne" || p["marker-color"] != "#c62828" {
				t.Errorf("target feature = %s %v, want at 102.548,24.356,60 of s-20261205-1900, red", f.Geometry.Coordinates, p)
			}
		case "dock", "circle", "route":
			found[p["kind"].(string)] = true
		}
	}
	for _, k := range []string{"vehicle", "target", "dock", "circle", "route"} {
		if !found[k] {
			t.Errorf("map -live has no %s feature", k)
		}
	}
}

// TestMapLiveKML: the same two placemarks in KML, the vehicle at its
// altitude above sea level, the target above the dock.
func TestMapLiveKML(t *testing.T) {
	url := dockOnBroker(t, liveState, true)
	code, out, _ := dockctl(t, "", "map", "-live", "-kml", "-config", benchConfig, "-broker", url)
	if code != 0 {
		t.Fatalf("dockctl map -live -kml = %d, want 0", code)
	}
	var doc struct {
		Placemarks []struct {
			Name  string `xml:"name"`
			Style string `xml:"styleUrl"`
			Point string `xml:"Point>coordinates"`
			Mode  string `xml:"Point>altitudeMode"`
		} `xml:"Document>Placemark"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not XML: %v", err)
	}
	got := map[string]string{}
	for _, p := range doc.Placemarks {
		got[p.Name] = p.Style + " " + p.Point + " " + p.Mode
	}
	want := map[string]string{
		"vehicle":                   "#vehicle 102.5452,24.3531,1702.5 absolute",
		"target of s-20261205-1900": "#target 102.548,24.356,60 relativeToGround",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("placemark %q = %q, want %q", name, got[name], w)
		}
	}
}

// TestMapLivePatrol: a patrol has no target; its route is marked active.
func TestMapLivePatrol(t *testing.T) {
	st := strings.Replace(liveState, `"kind":"dispatch","phase":"airborne","target":{"lat":24.356,"lon":102.548,"alt_m":60}`,
		`"kind":"patrol","phase":"on_station","route":"demo"`, 1)
	url := dockOnBroker(t, st, true)
	code, out, _ := dockctl(t, "", "map", "-live", "-config", benchConfig, "-broker", url)
	if code != 0 {
		t.Fatalf("dockctl map -live = %d, want 0", code)
	}
	var doc geoJSONDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	var route, target bool
	for _, f := range doc.Features {
		switch f.Properties["kind"] {
		case "route":
			route = f.Properties["route"] == "demo" && f.Properties["active"] == true
		case "target":
			target = true
		}
	}
	if !route || target {
		t.Errorf("patrol map: route demo active %v, a target %v; want active, none", route, target)
	}
}

// TestMapLiveWithoutTelemetry: no telemetry within -wait: the map is
// drawn without the vehicle and says so.
func TestMapLiveWithoutTelemetry(t *testing.T) {
	url := dockOnBroker(t, liveState, false)
	code, out, errs := dockctl(t, "", "map", "-live", "-wait", "300ms", "-config", benchConfig, "-broker", url)
	if code != 0 {
		t.Fatalf("dockctl map -live = %d, want 0", code)
	}
	if strings.Contains(out, `"kind":"vehicle"`) || !strings.Contains(out, `"kind":"target"`) {
		t.Errorf("map without telemetry: want the target and no vehicle:\n%s", out)
	}
	if !strings.Contains(errs, "no telemetry with a position on dock/bench-1/telemetry within 300ms: the vehicle is left off the map") {
		t.Errorf("stderr = %q, want the missing telemetry named", errs)
	}
}

// TestMapLiveErrors: no retained state, a bad one, and -live with -plan.
func TestMapLiveErrors(t *testing.T) {
	url := dockOnBroker(t, "", true)
	code, _, errs := dockctl(t, "", "map", "-live", "-wait", "300ms", "-config", benchConfig, "-broker", url)
	if code != 1 || !strings.Contains(errs, "no retained state on dock/bench-1/state within 300ms (is the agent running, and -dock or -prefix right?)") {
		t.Errorf("map -live without a state = %d %q, want 1 naming the topic", code, errs)
	}
	bad := strings.Replace(liveState, `"lat":24.356`, `"lat":124.356`, 1)
	url = dockOnBroker(t, bad, true)
	code, _, errs = dockctl(t, "", "map", "-live", "-wait", "300ms", "-config", benchConfig, "-broker", url)
	if code != 1 || !strings.Contains(errs, "dock/bench-1/state skipped: state.sortie.target: lat 124.356, lon 102.548 is not a position") {
		t.Errorf("map -live with a bad target = %d %q, want 1, the state skipped and named", code, errs)
	}
	code, _, errs = dockctl(t, "", "map", "-live", "-plan", "demo", "-config", benchConfig)
	if code != 2 || !strings.Contains(errs, "-live draws a map") {
		t.Errorf("map -live -plan = %d %q, want 2", code, errs)
	}
}

// FuzzDecodeLive: the broker's state and telemetry are outside input: no
// panic, and what decodes has a real position.
func FuzzDecodeLive(f *testing.F) {
	f.Add([]byte(liveState))
	f.Add([]byte(liveTelemetryMsg))
	f.Add([]byte(`{"sortie":{"target":{"lat":1e999}}}`))
	f.Add([]byte(`{"lat":-91}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := decodeLiveState(b); err == nil && s.Sortie != nil && s.Sortie.Target != nil {
			if checkPosition(s.Sortie.Target.Lat, s.Sortie.Target.Lon) != nil {
				t.Errorf("decodeLiveState(%q) accepted target %+v", b, s.Sortie.Target)
			}
		}
		if v, err := decodeLiveTelemetry(b); err == nil {
			if v == nil || checkPosition(v.Lat, v.Lon) != nil {
				t.Errorf("decodeLiveTelemetry(%q) = %+v, nil", b, v)
			}
			_ = liveFeatures(live{vehicle: v})
		}
	})
}
