package route

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestDistanceBearing(t *testing.T) {
	oneDeg := EarthRadiusM * math.Pi / 180
	tests := []struct {
		name        string
		a, b        Point
		wantM       float64
		wantBearing float64
	}{
		{"north one degree", Point{0, 0}, Point{1, 0}, oneDeg, 0},
		{"east at equator", Point{0, 0}, Point{0, 1}, oneDeg, 90},
		{"south", Point{10, 10}, Point{9, 10}, oneDeg, 180},
		{"west across antimeridian", Point{0, -179.5}, Point{0, 179.5}, oneDeg, 270},
		{"same point", Point{52.5, 13.4}, Point{52.5, 13.4}, 0, 0},
		{"pole to pole", Point{90, 0}, Point{-90, 0}, math.Pi * EarthRadiusM, 180},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); !near(got, tt.wantM, 0.01) {
				t.Errorf("Distance = %.3f, want %.3f", got, tt.wantM)
			}
			if got := Bearing(tt.a, tt.b); !near(got, tt.wantBearing, 1e-6) && !near(got, tt.wantBearing+360, 1e-6) {
				t.Errorf("Bearing = %.6f, want %.6f", got, tt.wantBearing)
			}
		})
	}
}

func TestDestinationRoundTrip(t *testing.T) {
	home := Point{52.5200, 13.4050}
	for _, brg := range []float64{0, 45, 90, 135, 180, 225, 270, 315, 359.9} {
		for _, d := range []float64{1, 100, 5000, 20000} {
			p := Destination(home, brg, d)
			if got := Distance(home, p); !near(got, d, 1e-6*d+1e-6) {
				t.Errorf("Distance(Destination(%v, %v)) = %v", brg, d, got)
			}
			if got := Bearing(home, p); !near(got, brg, 1e-6) {
				t.Errorf("Bearing(Destination(%v, %v)) = %v", brg, d, got)
			}
			e, n := Offset(home, p)
			if got := math.Hypot(e, n); !near(got, d, 0.001*d+0.01) {
				t.Errorf("Offset(Destination(%v, %v)) = %v m", brg, d, got)
			}
			q := FromOffset(home, e, n)
			if Distance(p, q) > 0.001*d+0.01 {
				t.Errorf("FromOffset(Offset) off by %v m", Distance(p, q))
			}
		}
	}
}

func TestOddInputsDoNotPanic(t *testing.T) {
	odd := []Point{{90, 0}, {-90, 180}, {math.NaN(), 0}, {0, math.Inf(1)}, {1e308, -1e308}}
	for _, a := range odd {
		for _, b := range odd {
			_ = Distance(a, b)
			_ = Bearing(a, b)
			_ = Destination(a, 45, 1000)
			e, n := Offset(a, b)
			_ = FromOffset(a, e, n)
		}
	}
}
