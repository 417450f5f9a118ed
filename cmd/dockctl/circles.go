package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// runCircles implements "dockctl circles [-geojson]": the current 1-, 3- and
// 5-minute response circles from the dock's retained state. With -geojson
// it prints a GeoJSON FeatureCollection: the agent's own (retained on
// `circles`) when it published one, else circles drawn around the dock position (-lat/-lon, or
// position in the agent's config).
func runCircles(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("circles", usage{
		synopsis: "dockctl circles [-geojson] [-lat LAT -lon LON] [broker flags]",
		about: "Print the dock's current 1-, 3- and 5-minute response circles (radii in metres) from its\n" +
			"retained state. -geojson prints them as a GeoJSON FeatureCollection; for the dock point,\n" +
			"geofence and routes as well, see \"dockctl map\".",
		examples: []string{
			"dockctl circles",
			"dockctl circles -geojson > circles.geojson",
			"dockctl circles -broker tcp://10.0.0.5:1883 -dock d1 -geojson -lat 24.3504 -lon 102.5412",
		},
	}, stderr)
	bf := addBrokerFlags(fs)
	geojson := fs.Bool("geojson", false, "print the circles as a GeoJSON FeatureCollection")
	lat := fs.Float64("lat", math.NaN(), "dock latitude for -geojson (default: position.lat of the config)")
	lon := fs.Float64("lon", math.NaN(), "dock longitude for -geojson (default: position.lon of the config)")
	if code, stop := parseFlags(fs, stdout, stderr, func() error { return fs.Parse(args) }); stop {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	s, err := bf.resolve(true)
	if err != nil {
		return failed(stderr, "circles", err)
	}
	o := circlesOptions{geojson: *geojson, lat: *lat, lon: *lon}
	if math.IsNaN(o.lat) && bf.dockPosKnown {
		o.lat = bf.dockLat
	}
	if math.IsNaN(o.lon) && bf.dockPosKnown {
		o.lon = bf.dockLon
	}
	ctx, stop := interruptContext()
	defer stop()
	if err := circles(ctx, s, o, stdout); err != nil {
		return failed(stderr, "circles", err)
	}
	return 0
}

type circlesOptions struct {
	geojson  bool
	lat, lon float64 // NaN: unknown
}

// stateCircles is the part of the retained state circles needs.
type stateCircles struct {
	Circles struct {
		RadiiM []float64 `json:"radii_m"`
	} `json:"circles"`
	UpdatedAt string `json:"updated_at"`
}

// circlesGrace is how long circles waits for the retained `circles`
// message once the state is in: a broker sends retained messages right
// after the subscription, so a dock that published none has none.
const circlesGrace = time.Second

// retainedStateAndCircles reads the dock's retained state and, when the
// dock publishes them, its circles' GeoJSON (nil when none came).
func retainedStateAndCircles(ctx context.Context, s *session) (state, fc []byte, err error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer c.close()
	if err := c.subscribe(ctx, s.prefix+"state", s.prefix+"circles"); err != nil {
		return nil, nil, err
	}
	wait, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var grace <-chan time.Time
	for {
		select {
		case m := <-c.msgs:
			switch m.topic {
			case s.prefix + "state":
				state = m.payload
				if fc == nil {
					grace = time.After(circlesGrace)
				}
			case s.prefix + "circles":
				fc = m.payload
			}
			if state != nil && fc != nil {
				return state, fc, nil
			}
		case <-grace:
			return state, nil, nil
		case <-wait.Done():
			if errors.Is(wait.Err(), context.DeadlineExceeded) {
				return nil, nil, fmt.Errorf("no state on %sstate within %s (has the agent ever connected to this broker?)", s.prefix, s.timeout)
			}
			return nil, nil, wait.Err()
		}
	}
}

func circles(ctx context.Context, s *session, o circlesOptions, stdout io.Writer) error {
	payload, fc, err := retainedStateAndCircles(ctx, s)
	if err != nil {
		return err
	}
	var st stateCircles
	if err := json.Unmarshal(payload, &st); err != nil {
		return fmt.Errorf("decode %sstate: %w", s.prefix, err)
	}
	radii := st.Circles.RadiiM
	if len(radii) != 3 {
		return fmt.Errorf("%sstate: circles.radii_m has %d values, want 3 (1/3/5-minute)", s.prefix, len(radii))
	}
	if !o.geojson {
		fmt.Fprintf(stdout, "response circles of %s (state of %s):\n", s.prefix, st.UpdatedAt)
		for i, min := range []int{1, 3, 5} {
			fmt.Fprintf(stdout, "  %d-minute  %7.0f m\n", min, radii[i])
		}
		return nil
	}
	if len(fc) > 0 {
		_, err := fmt.Fprintln(stdout, string(fc))
		return err
	}
	if math.IsNaN(o.lat) || math.IsNaN(o.lon) {
		return fmt.Errorf("the dock published no %scircles and its position is unknown: give -lat and -lon or -config", s.prefix)
	}
	b, err := json.Marshal(circlesGeoJSON(o.lat, o.lon, radii))
	if err != nil {
		return fmt.Errorf("encode geojson: %w", err)
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}

// circlesGeoJSON draws each radius as a 72-gon around (lat, lon) on a
// spherical Earth, in GeoJSON's [lon, lat] order, with the circle's minutes
// and radius as properties.
func circlesGeoJSON(lat, lon float64, radii []float64) map[string]any {
	const earthR = 6371008.8
	const n = 72
	features := make([]any, 0, len(radii))
	for i, r := range radii {
		ring := make([][2]float64, 0, n+1)
		φ1, λ1, δ := lat*math.Pi/180, lon*math.Pi/180, r/earthR
		for k := 0; k <= n; k++ {
			θ := 2 * math.Pi * float64(k%n) / n
			φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
			λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
			ring = append(ring, [2]float64{round6(λ2 * 180 / math.Pi), round6(φ2 * 180 / math.Pi)})
		}
		features = append(features, map[string]any{
			"type":       "Feature",
			"properties": map[string]any{"circle_min": []int{1, 3, 5}[i%3], "radius_m": r},
			"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
		})
	}
	return map[string]any{"type": "FeatureCollection", "features": features}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
