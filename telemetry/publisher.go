package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
)

// StateSource gives the dock state to publish. Subscribe returns a channel
// that receives a value on every change (a slow reader may miss values; the
// publisher reads Snapshot for the newest) and a func that ends the
// subscription. dock.Controller fits.
type StateSource interface {
	Subscribe() (<-chan dock.State, func())
	Snapshot() dock.State
}

// VehicleSource returns the latest vehicle state; it must not block.
type VehicleSource func() dock.VehicleState

func telemetryPayload(v dock.VehicleState, now time.Time) ([]byte, error) {
	m := contract.Telemetry{
		TS: timestamp(now), Lat: v.Lat, Lon: v.Lon, AltM: v.AltM, RelAltM: v.RelAltM,
		HeadingDeg: v.HeadingDeg, GroundSpeedMPS: v.GroundSpeedMPS, ClimbMPS: v.ClimbMPS,
		RollDeg: v.RollDeg, PitchDeg: v.PitchDeg, Mode: v.Mode, Armed: v.Armed,
		Battery: contract.Battery{VoltageV: v.VoltageV, CurrentA: v.CurrentA},
		GPS:     contract.GPS{Fix: v.GPSFix, Sats: v.Sats, HDOP: v.HDOP},
		Link:    contract.Link{LossPct: v.LossPct, RSSI: v.RSSI},
	}
	if v.BatteryPct >= 0 {
		pct := v.BatteryPct
		m.Battery.Pct = &pct
	}
	return json.Marshal(m)
}

// publisher sends `state` and `telemetry`. Nothing is queued while the
// broker is away: a tick or change with no connection is skipped (latest
// value wins), and `state` is sent again as soon as the connection is back.
type publisher struct {
	conn     broker
	clock    clockwork.Clock
	log      *slog.Logger
	prefix   string
	interval time.Duration // state republish period
	period   time.Duration // telemetry period
	// dockedPeriod is the telemetry period while the vehicle is docked
	// and disarmed.
	dockedPeriod time.Duration

	statePublished, circlesPublished, telemetryPublished, telemetrySkipped atomic.Uint64
	stateUnchanged                                                         atomic.Uint64 // changes within the deadbands, not sent
}

func newPublisher(o Options, c broker) *publisher {
	return &publisher{
		conn: c, clock: o.Clock, log: o.Logger.With("component", "publisher"), prefix: o.Prefix,
		interval: o.StateInterval, period: time.Duration(float64(time.Second) / o.TelemetryRate),
		dockedPeriod: o.TelemetryDockedInterval,
	}
}

// runState publishes src on `state` (QoS 1, retained) when it changed in
// meaning (see stateKey), at most once per MinStateGap, plus a keep-alive
// every interval; and the circles' GeoJSON on `circles` (QoS 1, retained)
// when they changed. Both go out again after every reconnect.
func (p *publisher) runState(ctx context.Context, src StateSource) {
	updates, unsubscribe := src.Subscribe()
	defer unsubscribe()
	ticker := p.clock.NewTicker(p.interval)
	defer ticker.Stop()
	gap := p.clock.NewTimer(time.Hour)
	gap.Stop()
	defer gap.Stop()
	gapArmed := false
	var last time.Time
	var lastKey, lastCircles []byte
	pending, force := true, true // publish once at start (when connected)
	var seen uint64              // connects handled
	for {
		changed := p.conn.watch() // before reading the state, so no change is missed
		if n := p.conn.connectCount(); n != seen && p.conn.isConnected() {
			seen = n
			pending, force = true, true
			lastCircles = nil
		}
		if pending && !gapArmed {
			st := src.Snapshot()
			key, err := json.Marshal(stateKey(st))
			var b []byte
			if err == nil {
				b, err = contract.Marshal(st)
			}
			switch {
			case err != nil:
				p.log.Error("state not published: encode", "err", err)
				pending, force = false, false
			case !force && bytes.Equal(key, lastKey):
				pending = false
				p.stateUnchanged.Add(1)
			case !last.IsZero() && p.clock.Since(last) < MinStateGap:
				gap.Reset(MinStateGap - p.clock.Since(last))
				gapArmed = true
			default:
				if p.conn.isConnected() {
					last, lastKey = p.clock.Now(), key
					p.conn.publish(p.prefix+"state", 1, true, b)
					p.statePublished.Add(1)
					lastCircles = p.publishCircles(st.Circles, lastCircles)
				}
				pending, force = false, false
			}
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-updates:
			if !ok {
				updates = nil
			}
			pending = true
		case <-ticker.Chan():
			pending, force = true, true
		case <-gap.Chan():
			gapArmed = false
		case <-changed:
		}
	}
}

// publishCircles publishes the circles' GeoJSON on `circles` when it
// differs from last (what was published before) and returns what is on
// the broker now.
func (p *publisher) publishCircles(c dock.Circles, last []byte) []byte {
	if c.GeoJSON == nil {
		return last
	}
	b, err := contract.Marshal(c.GeoJSON)
	if err != nil {
		p.log.Error("circles not published: encode", "err", err)
		return last
	}
	if bytes.Equal(b, last) {
		return last
	}
	p.conn.publish(p.prefix+"circles", 1, true, b)
	p.circlesPublished.Add(1)
	return b
}

// stateKey is what of a state counts as a change worth a `state` message
// on a metered link: not the time it was built or the weather was read,
// and readings only beyond a deadband (wind and gust 0.5 m/s, direction
// 10°, temperatures 0.5 °C, humidity 5 %, battery 1 %). Gate readings
// count by the gate alone. The message sent carries the exact values.
func stateKey(s dock.State) dock.State {
	q := func(v, step float64) float64 { return math.Round(v/step) * step }
	s.UpdatedAt = time.Time{}
	w := &s.Weather
	w.At = time.Time{}
	w.WindMPS, w.GustMPS = q(w.WindMPS, 0.5), q(w.GustMPS, 0.5)
	w.DirDeg = math.Mod(q(w.DirDeg, 10), 360)
	w.TempC, w.HumidityPct = q(w.TempC, 0.5), q(w.HumidityPct, 5)
	if s.InsideC != nil {
		c := q(*s.InsideC, 0.5)
		s.InsideC = &c
	}
	s.Vehicle.BatteryPct = q(s.Vehicle.BatteryPct, 1)
	s.Circles.GeoJSON = nil
	s.Readiness.Gates = slices.Clone(s.Readiness.Gates)
	for i := range s.Readiness.Gates {
		s.Readiness.Gates[i].Value = 0
	}
	return s
}

// runTelemetry publishes vehicle() on `telemetry` (QoS 0) every period
// while connected, and every dockedPeriod while docked() says the vehicle
// sits disarmed in the dock, until ctx ends. docked may be nil.
func (p *publisher) runTelemetry(ctx context.Context, vehicle VehicleSource, docked func() bool) {
	ticker := p.clock.NewTicker(p.period)
	defer ticker.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.Chan():
		}
		if !p.conn.isConnected() {
			p.telemetrySkipped.Add(1)
			continue
		}
		now := p.clock.Now()
		if docked != nil && docked() && !last.IsZero() && now.Sub(last) < p.dockedPeriod {
			continue
		}
		b, err := telemetryPayload(vehicle(), now)
		if err != nil {
			p.log.Error("telemetry not published: encode", "err", err)
			continue
		}
		p.conn.publish(p.prefix+"telemetry", 0, false, b)
		p.telemetryPublished.Add(1)
		last = now
	}
}
