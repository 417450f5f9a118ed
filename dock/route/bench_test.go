package route

import (
	"os"
	"testing"
)

// BenchmarkDecodePlan measures the .plan import of route.put.
func BenchmarkDecodePlan(b *testing.B) {
	data, err := os.ReadFile("testdata/patrol.plan")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodePlan(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck measures the preflight route check (fence sampling and
// the energy model) for a 4-waypoint route.
func BenchmarkCheck(b *testing.B) {
	data, err := os.ReadFile("testdata/patrol.plan")
	if err != nil {
		b.Fatal(err)
	}
	p, err := DecodePlan(data, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	r := Route{Name: "patrol", Waypoints: p.Waypoints}
	fence := Geofence{Center: p.Home, RadiusM: 2000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(r, p.Home, fence, testModel(), Wind{SpeedMPS: 5, FromDeg: 270}, 90, 25); err != nil {
			b.Fatal(err)
		}
	}
}
