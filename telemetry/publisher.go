package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/dock"
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

// telemetryMsg is the `telemetry` payload (DESIGN.md §5). Battery pct is
// null while unknown.
type telemetryMsg struct {
	TS             string     `json:"ts"`
	Lat            float64    `json:"lat"`
	Lon            float64    `json:"lon"`
	AltM           float64    `json:"alt_m"`
	RelAltM        float64    `json:"rel_alt_m"`
	HeadingDeg     float64    `json:"heading_deg"`
	GroundSpeedMPS float64    `json:"ground_speed_mps"`
	ClimbMPS       float64    `json:"climb_mps"`
	RollDeg        float64    `json:"roll_deg"`
	PitchDeg       float64    `json:"pitch_deg"`
	Mode           string     `json:"mode"`
	Armed          bool       `json:"armed"`
	Battery        batteryMsg `json:"battery"`
	GPS            gpsMsg     `json:"gps"`
	Link           linkMsg    `json:"link"`
}

type batteryMsg struct {
	Pct      *float64 `json:"pct"`
	VoltageV float64  `json:"voltage_v"`
	CurrentA float64  `json:"current_a"`
}

type gpsMsg struct {
	Fix  int     `json:"fix"`
	Sats int     `json:"sats"`
	HDOP float64 `json:"hdop"`
}

type linkMsg struct {
	LossPct float64 `json:"loss_pct"`
	RSSI    int     `json:"rssi"`
}

func telemetryPayload(v dock.VehicleState, now time.Time) ([]byte, error) {
	m := telemetryMsg{
		TS: timestamp(now), Lat: v.Lat, Lon: v.Lon, AltM: v.AltM, RelAltM: v.RelAltM,
		HeadingDeg: v.HeadingDeg, GroundSpeedMPS: v.GroundSpeedMPS, ClimbMPS: v.ClimbMPS,
		RollDeg: v.RollDeg, PitchDeg: v.PitchDeg, Mode: v.Mode, Armed: v.Armed,
		Battery: batteryMsg{VoltageV: v.VoltageV, CurrentA: v.CurrentA},
		GPS:     gpsMsg{Fix: v.GPSFix, Sats: v.Sats, HDOP: v.HDOP},
		Link:    linkMsg{LossPct: v.LossPct, RSSI: v.RSSI},
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

	statePublished, telemetryPublished, telemetrySkipped atomic.Uint64
}

func newPublisher(o Options, c broker) *publisher {
	return &publisher{
		conn: c, clock: o.Clock, log: o.Logger.With("component", "publisher"), prefix: o.Prefix,
		interval: o.StateInterval, period: time.Duration(float64(time.Second) / o.TelemetryRate),
	}
}

// runState publishes src on `state` (QoS 1, retained) on change, at most
// once per MinStateGap, and every interval, until ctx ends. A change
// notification whose snapshot equals what was last published is skipped; the
// periodic and reconnect publishes always go out.
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
	var lastPayload []byte
	pending, force := true, true // publish once at start (when connected)
	var seen uint64              // connects handled
	for {
		changed := p.conn.watch() // before reading the state, so no change is missed
		if n := p.conn.connectCount(); n != seen && p.conn.isConnected() {
			seen = n
			pending, force = true, true
		}
		if pending && !gapArmed {
			b, err := json.Marshal(src.Snapshot())
			switch {
			case err != nil:
				p.log.Error("state not published: encode", "err", err)
				pending, force = false, false
			case !force && bytes.Equal(b, lastPayload):
				pending = false
			case !last.IsZero() && p.clock.Since(last) < MinStateGap:
				gap.Reset(MinStateGap - p.clock.Since(last))
				gapArmed = true
			default:
				if p.conn.isConnected() {
					last, lastPayload = p.clock.Now(), b
					p.conn.publish(p.prefix+"state", 1, true, b)
					p.statePublished.Add(1)
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

// runTelemetry publishes vehicle() on `telemetry` (QoS 0) every period
// while connected, until ctx ends.
func (p *publisher) runTelemetry(ctx context.Context, vehicle VehicleSource) {
	ticker := p.clock.NewTicker(p.period)
	defer ticker.Stop()
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
		b, err := telemetryPayload(vehicle(), p.clock.Now())
		if err != nil {
			p.log.Error("telemetry not published: encode", "err", err)
			continue
		}
		p.conn.publish(p.prefix+"telemetry", 0, false, b)
		p.telemetryPublished.Add(1)
	}
}
