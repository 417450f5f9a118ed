package route

import (
	"errors"
	"testing"
)

func TestGeofenceContains(t *testing.T) {
	home := Point{52.52, 13.405}
	circle := Geofence{Center: home, RadiusM: 1000}
	// An L-shaped (concave) polygon 2 km x 2 km with the north-east
	// quarter cut away.
	p := func(e, n float64) Point { return FromOffset(home, e, n) }
	poly := Geofence{Polygon: []Point{p(-1000, -1000), p(1000, -1000), p(1000, 200), p(200, 200), p(200, 1000), p(-1000, 1000)}}
	tests := []struct {
		name  string
		fence Geofence
		pt    Point
		want  bool
	}{
		{"circle centre", circle, home, true},
		{"circle inside", circle, p(700, 700), true},
		{"circle outside", circle, p(800, 800), false},
		{"polygon inside west", poly, p(-500, 500), true},
		{"polygon inside south east", poly, p(500, -500), true},
		{"polygon notch", poly, p(500, 500), false},
		{"polygon far", poly, p(5000, 0), false},
		{"invalid point", circle, Point{91, 0}, false},
		{"zero fence", Geofence{}, home, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fence.Contains(tt.pt); got != tt.want {
				t.Errorf("Contains(%v) = %v, want %v", tt.pt, got, tt.want)
			}
		})
	}
}

func TestGeofenceCheckRoute(t *testing.T) {
	home := Point{52.52, 13.405}
	p := func(e, n float64) Point { return FromOffset(home, e, n) }
	wp := func(e, n, alt float64) Waypoint { q := p(e, n); return Waypoint{Lat: q.Lat, Lon: q.Lon, AltM: alt} }
	poly := Geofence{Polygon: []Point{p(-1000, -1000), p(1000, -1000), p(1000, 200), p(200, 200), p(200, 1000), p(-1000, 1000)}, MaxAltM: 100}
	tests := []struct {
		name    string
		route   Route
		wantErr *GeofenceError
	}{
		{"inside", Route{Waypoints: []Waypoint{wp(-500, 500, 50), wp(-500, -500, 50), wp(500, -500, 50)}}, nil},
		{"waypoint outside", Route{Waypoints: []Waypoint{wp(-500, 500, 50), wp(500, 500, 50)}}, &GeofenceError{Waypoint: 1}},
		{"leg across the notch", Route{Waypoints: []Waypoint{wp(-500, 900, 50), wp(900, -300, 50)}}, &GeofenceError{Waypoint: 1, Leg: true}},
		{"too high", Route{Waypoints: []Waypoint{wp(-500, 500, 150)}}, &GeofenceError{Waypoint: 0, AltM: 150, MaxAltM: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := poly.CheckRoute(home, tt.route)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckRoute() = %v, want nil", err)
				}
				return
			}
			var ge *GeofenceError
			if !errors.As(err, &ge) || !errors.Is(err, ErrOutsideGeofence) {
				t.Fatalf("CheckRoute() = %v, want *GeofenceError", err)
			}
			if ge.Waypoint != tt.wantErr.Waypoint || ge.Leg != tt.wantErr.Leg || ge.MaxAltM != tt.wantErr.MaxAltM {
				t.Errorf("CheckRoute() = %+v, want %+v", ge, tt.wantErr)
			}
			if ge.Leg && poly.Contains(ge.At) {
				t.Errorf("reported leg exit %v is inside the fence", ge.At)
			}
		})
	}
}

func TestGeofenceValidate(t *testing.T) {
	tests := []struct {
		name    string
		fence   Geofence
		wantErr bool
	}{
		{"circle", Geofence{Center: Point{52.5, 13.4}, RadiusM: 500}, false},
		{"polygon", Geofence{Polygon: []Point{{0, 0}, {0, 1}, {1, 1}}}, false},
		{"zero", Geofence{}, true},
		{"two vertices", Geofence{Polygon: []Point{{0, 0}, {0, 1}}, RadiusM: 5}, true},
		{"bad vertex", Geofence{Polygon: []Point{{0, 0}, {0, 1}, {95, 1}}}, true},
		{"bad centre", Geofence{Center: Point{0, 200}, RadiusM: 5}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fence.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
