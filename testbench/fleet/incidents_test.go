package fleet

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStreamSeeded(t *testing.T) {
	docks := Layout(20, DefaultSpacingM)
	opts := StreamOptions{Count: 50, Seed: 1, Docks: docks, SpacingM: DefaultSpacingM, MoveFraction: 0.3}
	a, b := Stream(opts), Stream(opts)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("Stream() twice with seed 1 differs (-first +second):\n%s", diff)
	}
	opts.Seed = 2
	if c := Stream(opts); cmp.Equal(a, c) {
		t.Fatal("Stream() with seeds 1 and 2 gave the same incidents")
	}
	var moving int
	var last time.Duration
	for _, in := range a {
		if in.At < last {
			t.Fatalf("incident %d at %v before the one before it (%v)", in.N, in.At, last)
		}
		last = in.At
		// Every incident is within 2 km of some dock: several 5-minute
		// circles (about 4 km at 15 m/s) reach it.
		if d := nearest(docks, in.Where); d > 2000 {
			t.Errorf("incident %d at %v is %.0f m from the nearest dock, want <= 2000", in.N, in.Where, d)
		}
		if in.MoveTo != nil {
			moving++
			if d := distM(in.Where, *in.MoveTo); d < 299 || d > 801 {
				t.Errorf("incident %d moves %.0f m, want 300..800", in.N, d)
			}
			if in.MoveAt < 20*time.Second || in.MoveAt > 40*time.Second {
				t.Errorf("incident %d moves %v after the dispatch, want 20..40 s", in.N, in.MoveAt)
			}
		}
	}
	if moving < 5 || moving > 25 {
		t.Errorf("%d of 50 incidents move with fraction 0.3, want 5..25", moving)
	}
	if mean := last / 49; mean < 60*time.Second || mean > 240*time.Second {
		t.Errorf("mean gap %v with the default Every (120 s), want 60..240 s", mean)
	}
}

func TestLayout(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 20} {
		ps := Layout(n, 2500)
		if len(ps) != n {
			t.Fatalf("Layout(%d) gave %d points", n, len(ps))
		}
		for i := range ps {
			for j := range i {
				if d := distM(ps[i], ps[j]); d < 2499 {
					t.Errorf("Layout(%d): docks %d and %d %.0f m apart, want >= 2500", n, i, j, d)
				}
			}
			if d := distM(ps[i], City); d > 2500*3 {
				t.Errorf("Layout(%d): dock %d %.0f m from the city centre", n, i, d)
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {99, 10}, {100, 10}, {0, 1}, {10, 1}, {11, 2}} {
		if got := Percentile(ds, tc.p); got != tc.want {
			t.Errorf("Percentile(1..10, %g) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil, 50) = %v, want 0", got)
	}
}

func nearest(ps []Point, q Point) float64 {
	best := math.Inf(1)
	for _, p := range ps {
		best = min(best, distM(p, q))
	}
	return best
}

// distM is the flat-earth distance, good to a few metres across a city.
func distM(a, b Point) float64 {
	const mPerDeg = 111_320.0
	dn := (b.Lat - a.Lat) * mPerDeg
	de := (b.Lon - a.Lon) * mPerDeg * math.Cos(a.Lat*math.Pi/180)
	return math.Hypot(dn, de)
}
