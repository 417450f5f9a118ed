package fleet

import (
	"math"
	"math/rand/v2"
	"time"
)

// Incident is one call of the stream: where and when (simulated time from
// the start of the run), and, for a moving incident, where it goes and how
// long after the dispatch.
type Incident struct {
	N      int // 1-based
	At     time.Duration
	Where  Point
	MoveTo *Point
	MoveAt time.Duration // after the dispatch
}

// StreamOptions shape a seeded incident stream.
type StreamOptions struct {
	Count int
	Seed  uint64
	// Docks are the dock positions: incidents fall inside their bounding
	// box (grown by a quarter of the spacing), so several docks reach each.
	Docks []Point
	// SpacingM is the grid spacing the docks were laid out with.
	SpacingM float64
	// Every is the mean time between incidents (exponential); 0 is 120 s.
	Every time.Duration
	// MoveFraction of the incidents move once (0..1); MoveAfter is when,
	// after the dispatch (uniform in [MoveAfter, 2 MoveAfter]); 0 is 20 s.
	MoveFraction float64
	MoveAfter    time.Duration
}

// Stream returns the seeded incident stream: the same options, the same
// incidents.
func Stream(opts StreamOptions) []Incident {
	if opts.Every == 0 {
		opts.Every = 120 * time.Second
	}
	if opts.MoveAfter == 0 {
		opts.MoveAfter = 20 * time.Second
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0x666c656574)) // "fleet"
	lo, hi := opts.Docks[0], opts.Docks[0]
	for _, p := range opts.Docks {
		lo.Lat, lo.Lon = min(lo.Lat, p.Lat), min(lo.Lon, p.Lon)
		hi.Lat, hi.Lon = max(hi.Lat, p.Lat), max(hi.Lon, p.Lon)
	}
	grow := opts.SpacingM / 4
	lo, hi = lo.offset(-grow, -grow), hi.offset(grow, grow)
	var at time.Duration
	out := make([]Incident, 0, opts.Count)
	for i := range opts.Count {
		if i > 0 {
			at += time.Duration(r.ExpFloat64() * float64(opts.Every)).Round(time.Second)
		}
		in := Incident{N: i + 1, At: at, Where: Point{
			Lat: round6(lo.Lat + r.Float64()*(hi.Lat-lo.Lat)),
			Lon: round6(lo.Lon + r.Float64()*(hi.Lon-lo.Lon)),
		}}
		if r.Float64() < opts.MoveFraction {
			// A moving incident (a car, a person running) goes 300 to 800 m.
			d, dir := 300+r.Float64()*500, r.Float64()*2*math.Pi
			to := in.Where.offset(d*math.Cos(dir), d*math.Sin(dir))
			to.Lat, to.Lon = round6(to.Lat), round6(to.Lon)
			in.MoveTo = &to
			in.MoveAt = opts.MoveAfter + time.Duration(r.Float64()*float64(opts.MoveAfter)).Round(time.Second)
		}
		out = append(out, in)
	}
	return out
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
