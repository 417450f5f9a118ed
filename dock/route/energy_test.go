package route

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestGroundSpeed(t *testing.T) {
	tests := []struct {
		name      string
		air, brg  float64
		wind      Wind
		wantCross float64
		wantGS    float64
	}{
		{"calm", 10, 90, Wind{}, 0, 10},
		{"headwind", 10, 0, Wind{SpeedMPS: 4, FromDeg: 0}, 0, 6},
		{"tailwind", 10, 180, Wind{SpeedMPS: 4, FromDeg: 0}, 0, 14},
		{"crosswind 6 of 10", 10, 90, Wind{SpeedMPS: 6, FromDeg: 0}, -6, 8},
		{"crosswind too strong", 10, 90, Wind{SpeedMPS: 10, FromDeg: 180}, 10, 0},
		{"headwind too strong", 10, 0, Wind{SpeedMPS: 12, FromDeg: 0}, 0, -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cross, gs := GroundSpeed(tt.air, tt.brg, tt.wind)
			if !near(math.Abs(cross), math.Abs(tt.wantCross), 1e-9) || !near(gs, tt.wantGS, 1e-9) {
				t.Errorf("GroundSpeed(%v, %v, %+v) = %v, %v, want %v, %v", tt.air, tt.brg, tt.wind, cross, gs, tt.wantCross, tt.wantGS)
			}
		})
	}
}

func testModel() Energy {
	return Energy{CruiseSpeedMPS: 10, ClimbMPS: 2, DescentMPS: 2, HoverPctPerMin: 3, CruisePctPerMin: 2.4, ClimbPctPerM: 0.01, WindPctPerMinPerMPS: 0.05, OverheadPct: 1}
}

func TestEstimate(t *testing.T) {
	home := Point{52.52, 13.405}
	north := Destination(home, 0, 1200)
	r := Route{Name: "out-and-back", Waypoints: []Waypoint{{Lat: north.Lat, Lon: north.Lon, AltM: 60, Hold: 60 * time.Second}}}
	tests := []struct {
		name         string
		wind         Wind
		wantDuration time.Duration
		wantPct      float64
	}{
		// Calm: 120 s out + 30 s climb + 60 s hold + 120 s back + 30 s descent.
		// Pct: 1 + 240 s cruise * 2.4/min + 120 s hover * 3/min + 60 m * 0.01.
		{"calm", Wind{}, 360 * time.Second, 1 + 9.6 + 6 + 0.6},
		// 5 m/s from the north: 240 s out at 5 m/s, 80 s back at 15 m/s.
		{"north wind", Wind{SpeedMPS: 5, FromDeg: 0}, (240 + 80 + 120) * time.Second, 1 + 320.0/60*2.4 + 6 + 0.6 + 440.0/60*0.05*5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est, err := testModel().Estimate(home, r, tt.wind)
			if err != nil {
				t.Fatalf("Estimate() error = %v", err)
			}
			if d := est.Duration - tt.wantDuration; d > 50*time.Millisecond || d < -50*time.Millisecond {
				t.Errorf("Estimate().Duration = %v, want %v", est.Duration, tt.wantDuration)
			}
			if !near(est.Pct, tt.wantPct, 0.01) {
				t.Errorf("Estimate().Pct = %.3f, want %.3f", est.Pct, tt.wantPct)
			}
			if !near(est.DistanceM, 2400, 0.01) || len(est.Legs) != 2 {
				t.Errorf("Estimate() distance %.2f over %d legs, want 2400 over 2", est.DistanceM, len(est.Legs))
			}
		})
	}
}

func TestCheck(t *testing.T) {
	home := Point{52.52, 13.405}
	far := Destination(home, 90, 3000)
	near := Destination(home, 90, 500)
	fence := Geofence{Center: home, RadiusM: 2000}
	tests := []struct {
		name      string
		route     Route
		wind      Wind
		battery   float64
		wantIs    []error
		wantNotIs []error
	}{
		{"ok", Route{Waypoints: []Waypoint{{Lat: near.Lat, Lon: near.Lon, AltM: 40}}}, Wind{}, 90, nil, []error{ErrOutsideGeofence, ErrBatteryLow}},
		{"outside and low", Route{Waypoints: []Waypoint{{Lat: far.Lat, Lon: far.Lon, AltM: 40}}}, Wind{}, 20, []error{ErrOutsideGeofence, ErrBatteryLow}, nil},
		{"battery only", Route{Waypoints: []Waypoint{{Lat: near.Lat, Lon: near.Lon, AltM: 40, Hold: 10 * time.Minute}}}, Wind{}, 50, []error{ErrBatteryLow}, []error{ErrOutsideGeofence}},
		{"wind", Route{Waypoints: []Waypoint{{Lat: near.Lat, Lon: near.Lon, AltM: 40}}}, Wind{SpeedMPS: 11, FromDeg: 90}, 90, []error{ErrWindTooStrong}, []error{ErrBatteryLow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.route, home, fence, testModel(), tt.wind, tt.battery, 30)
			if tt.wantIs == nil && err != nil {
				t.Fatalf("Check() = %v, want nil", err)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("Check() = %v, want errors.Is %v", err, target)
				}
			}
			for _, target := range tt.wantNotIs {
				if errors.Is(err, target) {
					t.Errorf("Check() = %v, want not %v", err, target)
				}
			}
		})
	}
	var be *BatteryError
	_, err := Check(Route{Waypoints: []Waypoint{{Lat: near.Lat, Lon: near.Lon, AltM: 40, Hold: 10 * time.Minute}}}, home, fence, testModel(), Wind{}, 50, 30)
	if !errors.As(err, &be) || be.AvailablePct != 50 || be.ReservePct != 30 || !(be.NeededPct > 20) {
		t.Errorf("Check() battery error = %+v", be)
	}
}
