package circle

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock/route"
)

var dock = route.Point{Lat: 52.52, Lon: 13.405}

func testParams() Params {
	// Overhead: 13 s launch + 60 m / 5 m/s = 25 s.
	return Params{Dock: dock, AirspeedMPS: 15, ClimbMPS: 5, PatrolAltM: 60, Launch: 13 * time.Second}
}

func TestRadii(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		want [3]float64
	}{
		{"typical", testParams(), [3]float64{35 * 15, 155 * 15, 275 * 15}},
		{"slow launch", Params{AirspeedMPS: 10, Launch: 70 * time.Second}, [3]float64{0, 110 * 10, 230 * 10}},
		{"no airspeed", Params{Launch: time.Second}, [3]float64{}},
		{"no climb rate", Params{AirspeedMPS: 10, PatrolAltM: 50}, [3]float64{600, 1800, 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Radii()
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-6 {
					t.Errorf("Radii() = %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}

// bruteFlightTime tries every heading on a 0.01° grid: flying heading θ
// at airspeed a in wind (wx, wy) the drone moves along the ray v(θ)·t; the
// ray's closest approach to the target (dx, dy) gives a time and a miss
// distance. The earliest time among headings missing by at most 1 m is the
// brute-force flight time.
func bruteFlightTime(dx, dy, wx, wy, a float64) (float64, bool) {
	const headings = 36000
	const tolM = 1.0
	best, found := math.Inf(1), false
	for h := range headings {
		θ := float64(h) * 2 * math.Pi / headings
		vx, vy := a*math.Sin(θ)+wx, a*math.Cos(θ)+wy
		v2 := vx*vx + vy*vy
		if v2 == 0 {
			continue
		}
		t := (dx*vx + dy*vy) / v2
		if t < 0 || t > 3600 { // longer than any battery lasts
			continue
		}
		if math.Hypot(vx*t-dx, vy*t-dy) <= tolM && t < best {
			best, found = t, true
		}
	}
	return best, found
}

func TestETAAgainstBruteForce(t *testing.T) {
	p := testParams()
	tests := []struct {
		name   string
		brg, d float64
		wind   route.Wind
		reach  bool
	}{
		{"calm north 1 km", 0, 1000, route.Wind{}, true},
		{"headwind east 2 km", 90, 2000, route.Wind{SpeedMPS: 8, FromDeg: 90}, true},
		{"tailwind east 2 km", 90, 2000, route.Wind{SpeedMPS: 8, FromDeg: 270}, true},
		{"crosswind south 1.5 km", 180, 1500, route.Wind{SpeedMPS: 10, FromDeg: 90}, true},
		{"quartering 3 km", 45, 3000, route.Wind{SpeedMPS: 12, FromDeg: 200}, true},
		{"wind faster, downwind", 0, 2000, route.Wind{SpeedMPS: 20, FromDeg: 190}, true},
		{"wind faster, upwind", 0, 2000, route.Wind{SpeedMPS: 20, FromDeg: 10}, false},
		{"wind equal, against", 0, 500, route.Wind{SpeedMPS: 15, FromDeg: 0}, false},
		{"wind equal, across", 90, 500, route.Wind{SpeedMPS: 15, FromDeg: 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := route.Destination(dock, tt.brg, tt.d)
			eta, dist, _, ok := p.ETA(target, tt.wind)
			if ok != tt.reach {
				t.Fatalf("ETA() ok = %v, want %v", ok, tt.reach)
			}
			if math.Abs(dist-tt.d) > 0.01 {
				t.Errorf("ETA() distance = %.2f, want %.2f", dist, tt.d)
			}
			dx, dy := route.Offset(dock, target)
			wx, wy := tt.wind.Vector()
			bt, bok := bruteFlightTime(dx, dy, wx, wy, p.AirspeedMPS)
			if bok != tt.reach {
				t.Fatalf("brute force reachable = %v, want %v", bok, tt.reach)
			}
			if !ok {
				return
			}
			got := (eta - p.Overhead()).Seconds()
			if math.Abs(got-bt) > 0.5 {
				t.Errorf("ETA() flight time = %.2f s, brute force %.2f s", got, bt)
			}
		})
	}
}

func TestETACircleMin(t *testing.T) {
	p := testParams()
	one, three, five := 1, 3, 5
	tests := []struct {
		name string
		d    float64
		want *int
	}{
		{"at the dock", 0, &one},
		{"inside 1", 500, &one},
		{"edge of 1", 525, &one},
		{"inside 3", 526, &three},
		{"inside 5", 4000, &five},
		{"outside 5", 4200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eta, _, got, ok := p.ETA(route.Destination(dock, 30, tt.d), route.Wind{})
			if !ok {
				t.Fatal("ETA() not reachable")
			}
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("ETA() = %v, circle %v, want circle %v", eta, deref(got), deref(tt.want))
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// The boundary of each wind-shifted circle is where the ETA equals its
// minutes.
func TestCirclesBoundaryETA(t *testing.T) {
	p := testParams()
	for _, w := range []route.Wind{{}, {SpeedMPS: 6, FromDeg: 250}, {SpeedMPS: 12, FromDeg: 0}} {
		for _, c := range p.Circles(w) {
			for brg := 0.0; brg < 360; brg += 30 {
				q := route.Destination(c.Center, brg, c.RadiusM)
				eta, _, _, ok := p.ETA(q, w)
				want := time.Duration(c.Minutes) * time.Minute
				if !ok || (eta-want).Abs() > 500*time.Millisecond {
					t.Errorf("wind %+v, %d-min circle at bearing %v: ETA = %v, %v, want %v", w, c.Minutes, brg, eta, ok, want)
				}
			}
		}
	}
}

func TestETAOddInputs(t *testing.T) {
	p := testParams()
	odd := []struct {
		name   string
		p      Params
		target route.Point
		wind   route.Wind
	}{
		{"north pole", p, route.Point{Lat: 90}, route.Wind{}},
		{"dock at pole", Params{Dock: route.Point{Lat: -90}, AirspeedMPS: 10}, route.Point{Lat: -89.99}, route.Wind{SpeedMPS: 3}},
		{"nan target", p, route.Point{Lat: math.NaN()}, route.Wind{}},
		{"nan wind", p, dock, route.Wind{SpeedMPS: math.NaN()}},
		{"inf airspeed", Params{Dock: dock, AirspeedMPS: math.Inf(1)}, route.Point{Lat: 1}, route.Wind{}},
		{"zero airspeed", Params{Dock: dock}, route.Point{Lat: 1}, route.Wind{}},
		{"negative wind", p, route.Point{Lat: 52.6, Lon: 13.4}, route.Wind{SpeedMPS: -5}},
		{"antipode", p, route.Point{Lat: -52.52, Lon: -166.595}, route.Wind{SpeedMPS: 5}},
	}
	for _, tt := range odd {
		t.Run(tt.name, func(t *testing.T) {
			eta, _, _, ok := tt.p.ETA(tt.target, tt.wind)
			if ok && eta < 0 {
				t.Errorf("ETA() = %v, ok", eta)
			}
			_ = tt.p.Circles(tt.wind)
			_ = tt.p.GeoJSON(tt.wind, 0)
		})
	}
}

func TestGeoJSON(t *testing.T) {
	p := testParams()
	fc := p.GeoJSON(route.Wind{SpeedMPS: 5, FromDeg: 270}, 36)
	if fc.Type != "FeatureCollection" || len(fc.Features) != 3 {
		t.Fatalf("GeoJSON() = %s with %d features", fc.Type, len(fc.Features))
	}
	for i, f := range fc.Features {
		ring := f.Geometry.Coordinates[0]
		if len(ring) != 37 || ring[0] != ring[36] {
			t.Errorf("feature %d: ring of %d points, closed %v", i, len(ring), ring[0] == ring[len(ring)-1])
		}
		// Shoelace: positive area means counter-clockwise in lon/lat.
		var area float64
		for k := 0; k+1 < len(ring); k++ {
			area += ring[k][0]*ring[k+1][1] - ring[k+1][0]*ring[k][1]
		}
		if area <= 0 {
			t.Errorf("feature %d: ring is not counter-clockwise (area %g)", i, area)
		}
		if f.Properties.Minutes != Minutes[i] {
			t.Errorf("feature %d: minutes %d", i, f.Properties.Minutes)
		}
		// Wind from the west: centres drift east of the dock.
		if f.Properties.CenterLon <= dock.Lon {
			t.Errorf("feature %d: centre %v not east of the dock", i, f.Properties.CenterLon)
		}
	}
	b, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil || back["type"] != "FeatureCollection" {
		t.Errorf("GeoJSON round trip: %v, %v", back["type"], err)
	}
}

func TestLaunchEstimator(t *testing.T) {
	s := func(secs ...int) []time.Duration {
		out := make([]time.Duration, len(secs))
		for i, x := range secs {
			out[i] = time.Duration(x) * time.Second
		}
		return out
	}
	tests := []struct {
		name    string
		opts    LaunchOptions
		samples []time.Duration
		want    time.Duration
	}{
		{"configured at first", LaunchOptions{Configured: 15 * time.Second}, s(10, 11, 12, 13), 15 * time.Second},
		{"p90 of ten", LaunchOptions{Configured: 15 * time.Second}, s(10, 11, 12, 13, 14, 9, 8, 7, 6, 20), 14 * time.Second},
		{"window drops old", LaunchOptions{Configured: 15 * time.Second, N: 5, MinSamples: 5}, s(60, 60, 10, 11, 12, 13, 12), 13 * time.Second},
		{"median", LaunchOptions{Configured: time.Second, MinSamples: 1, Quantile: 0.5}, s(3, 1, 2), 2 * time.Second},
		{"ignores non-positive", LaunchOptions{Configured: time.Second, MinSamples: 2}, s(0, -1, 5), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewLaunchEstimator(tt.opts, tt.samples...)
			if got := e.Estimate(); got != tt.want {
				t.Errorf("Estimate() = %v, want %v (samples %v)", got, tt.want, e.Samples())
			}
		})
	}
}
