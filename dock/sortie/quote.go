package sortie

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// Quote answers a quote for the point lat, lon (alt_m above home, or the
// patrol altitude): ETA, circle, distance, energy margin and the gates that
// would block a dispatch now. Nothing changes: no event, no motion, no
// vehicle command. A point outside the 5-minute circle is out_of_range,
// as a dispatch there would be.
func (e *Engine) Quote(ctx context.Context, lat, lon float64, altM *float64) (dock.QuoteResult, error) {
	var res dock.QuoteResult
	var err error
	if derr := e.do(ctx, func(now time.Time) { res, err = e.quote(now, lat, lon, altM) }); derr != nil {
		return dock.QuoteResult{}, derr
	}
	return res, err
}

func (e *Engine) quote(now time.Time, lat, lon float64, altM *float64) (dock.QuoteResult, error) {
	t, err := e.target("quote", lat, lon, altM)
	if err != nil {
		return dock.QuoteResult{}, err
	}
	st := e.hw.Snapshot()
	p := e.circleParams()
	p.PatrolAltM = t.AltM
	eta, dist, circ, ok := p.ETA(route.Point{Lat: t.Lat, Lon: t.Lon}, windOf(st))
	res := dock.QuoteResult{ETAS: math.Round(eta.Seconds()), DistanceM: math.Round(dist), CircleMin: circ}
	if !ok || circ == nil {
		return dock.QuoteResult{}, &dock.Error{Kind: dock.ErrOutOfRange,
			Message: fmt.Sprintf("quote: %.0f m from the dock is outside the 5-minute circle", dist),
			Details: map[string]any{"distance_m": res.DistanceM, "eta_s": res.ETAS, "circle_min": nil}}
	}
	g, est := e.gates(now, dispatchRoute("quote", t, e.opts.Flight.DefaultLoiter))
	if b, busy := e.busyGate(); busy {
		g = append([]dock.Gate{b}, g...)
	}
	if g == nil {
		g = []dock.Gate{}
	}
	res.Ready, res.Gates = len(g) == 0, g
	if v := e.veh.State(); v.BatteryPct >= 0 && len(est.Legs) > 0 {
		r := e.opts.Limits.BatteryReservePct
		res.Energy = &dock.QuoteEnergy{NeededPct: round1(est.Pct), ReservePct: r, BatteryPct: round1(v.BatteryPct),
			MarginPct: round1(v.BatteryPct - est.Pct - r)}
	}
	return res, nil
}

// target checks a commanded point: a valid position and an altitude above
// home between 2 m and the ceiling; altM nil is the patrol altitude.
func (e *Engine) target(cmd string, lat, lon float64, altM *float64) (Target, error) {
	if !(route.Point{Lat: lat, Lon: lon}).Valid() {
		return Target{}, dock.Errorf(dock.ErrInvalidArgument, "%s: %g,%g is not a valid position", cmd, lat, lon)
	}
	alt := e.opts.Flight.PatrolAltM
	if altM != nil {
		alt = *altM
	}
	maxAlt := e.opts.Limits.MaxAltM
	if maxAlt <= 0 {
		maxAlt = route.DefaultMaxAltM
	}
	if !(alt >= 2 && alt <= maxAlt) {
		return Target{}, dock.Errorf(dock.ErrOutOfRange, "%s: alt_m %g outside [2, %g] m above home", cmd, alt, maxAlt)
	}
	return Target{Lat: lat, Lon: lon, AltM: alt}, nil
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
