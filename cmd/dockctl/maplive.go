package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// The live features of "dockctl map -live": the vehicle orange, the active
// dispatch's target red.
var (
	styleVehicle = mapStyle{id: "vehicle", stroke: color.NRGBA{0xef, 0x6c, 0x00, 0xff}, width: 2}
	styleTarget  = mapStyle{id: "target", stroke: color.NRGBA{0xc6, 0x28, 0x28, 0xff}, width: 2}
)

// live is what -live read from the broker: the retained state, and the
// vehicle's telemetry when a message came within the wait (nil if not).
type live struct {
	state   dock.State
	vehicle *contract.Telemetry
}

// decodeLiveState decodes a retained `state` payload and checks the
// target it names.
func decodeLiveState(b []byte) (dock.State, error) {
	var s dock.State
	if err := json.Unmarshal(b, &s); err != nil {
		return dock.State{}, fmt.Errorf("state is not the dock's state JSON: %w", err)
	}
	if s.Sortie != nil && s.Sortie.Target != nil {
		if err := checkPosition(s.Sortie.Target.Lat, s.Sortie.Target.Lon); err != nil {
			return dock.State{}, fmt.Errorf("state.sortie.target: %w", err)
		}
	}
	return s, nil
}

// decodeLiveTelemetry decodes a `telemetry` payload and checks its
// position.
func decodeLiveTelemetry(b []byte) (*contract.Telemetry, error) {
	var t contract.Telemetry
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("telemetry is not the dock's telemetry JSON: %w", err)
	}
	if err := checkPosition(t.Lat, t.Lon); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	return &t, nil
}

func checkPosition(lat, lon float64) error {
	if math.IsNaN(lat) || lat < -90 || lat > 90 || math.IsNaN(lon) || lon < -180 || lon > 180 {
		return fmt.Errorf("lat %v, lon %v is not a position (lat -90..90, lon -180..180)", lat, lon)
	}
	return nil
}

// errNoState is returned when the broker holds no retained state for the
// dock.
var errNoState = errors.New("no retained state")

// readLive subscribes to the dock's state and telemetry and returns the
// retained state and the first telemetry message that carries a position,
// waiting at most wait for the telemetry (it is not retained: sent at the
// agent's telemetry rate while it runs). A bad message is reported on
// stderr and skipped.
func readLive(ctx context.Context, s *session, wait time.Duration, stderr io.Writer) (live, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return live{}, err
	}
	defer c.close()
	if err := c.subscribe(ctx, s.prefix+"state", s.prefix+"telemetry"); err != nil {
		return live{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var out live
	gotState := false
	for !gotState || out.vehicle == nil {
		select {
		case <-ctx.Done():
			if !gotState {
				return live{}, fmt.Errorf("%w on %sstate within %s (is the agent running, and -dock or -prefix right?)", errNoState, s.prefix, wait)
			}
			fmt.Fprintf(stderr, "dockctl map: no telemetry with a position on %stelemetry within %s: the vehicle is left off the map\n", s.prefix, wait)
			return out, nil
		case err := <-c.lost:
			return live{}, fmt.Errorf("lost the broker while reading the dock's state: %w", err)
		case m := <-c.msgs:
			switch m.topic {
			case s.prefix + "state":
				st, err := decodeLiveState(m.payload)
				if err != nil {
					fmt.Fprintf(stderr, "dockctl map: %s skipped: %v\n", m.topic, err)
					continue
				}
				out.state, gotState = st, true
			case s.prefix + "telemetry":
				t, err := decodeLiveTelemetry(m.payload)
				if err != nil {
					fmt.Fprintf(stderr, "dockctl map: %s skipped: %v\n", m.topic, err)
					continue
				}
				if t.Lat == 0 && t.Lon == 0 {
					continue // no position reported yet: wait for one
				}
				out.vehicle = t
			}
		}
	}
	return out, nil
}

// liveFeatures are the vehicle and the active dispatch's target as map
// features; routes names the active patrol's route for dockMap.
func liveFeatures(l live) []mapFeature {
	var fs []mapFeature
	if sr := l.state.Sortie; sr != nil && sr.Target != nil {
		fs = append(fs, mapFeature{name: "target of " + sr.ID, kind: "target", style: styleTarget, alt: altRelative,
			point: &geoPos{Lat: sr.Target.Lat, Lon: sr.Target.Lon, Alt: sr.Target.AltM, HasAlt: true},
			props: []prop{{"sortie_id", sr.ID}, {"sortie_kind", string(sr.Kind)}, {"phase", string(sr.Phase)}, {"alt_m", sr.Target.AltM}}})
	}
	if v := l.vehicle; v != nil {
		props := []prop{{"mode", v.Mode}, {"armed", v.Armed}, {"link", l.state.Vehicle.Link}, {"heading_deg", v.HeadingDeg},
			{"ground_speed_mps", v.GroundSpeedMPS}, {"rel_alt_m", v.RelAltM}, {"alt_m", v.AltM}}
		if v.Battery.Pct != nil {
			props = append(props, prop{"battery_pct", *v.Battery.Pct})
		}
		if v.TS != "" {
			props = append(props, prop{"ts", v.TS})
		}
		if sr := l.state.Sortie; sr != nil {
			props = append(props, prop{"sortie_id", sr.ID}, prop{"phase", string(sr.Phase)})
		}
		fs = append(fs, mapFeature{name: "vehicle", kind: "vehicle", style: styleVehicle, alt: altAbsolute,
			point: &geoPos{Lat: v.Lat, Lon: v.Lon, Alt: v.AltM, HasAlt: true}, props: props})
	}
	return fs
}

// markActiveRoute sets active=true on the route feature (and its
// waypoints) of the patrol sr flies.
func markActiveRoute(fs []mapFeature, sr *dock.SortieRef) {
	if sr == nil || sr.Route == "" {
		return
	}
	for i, f := range fs {
		if (f.kind == "route" || f.kind == "waypoint") && len(f.props) > 0 && f.props[0].key == "route" && f.props[0].val == sr.Route {
			fs[i].props = append(f.props, prop{"active", true}, prop{"sortie_id", sr.ID})
		}
	}
}
