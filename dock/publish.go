package dock

import (
	"context"
	"sync"
	"time"
)

// What the controller shows: the State snapshot and its subscribers, and
// the values other parts feed in without waiting for the loop.

// Snapshot returns the latest state. It never blocks.
func (c *Controller) Snapshot() State { return *c.snap.Load() }

// Subscribe returns a channel that receives the state on every change,
// starting with the current one. Delivery is latest-value-wins: a slow
// reader misses intermediate states but never blocks the loop. cancel
// unsubscribes and closes the channel.
func (c *Controller) Subscribe() (<-chan State, func()) {
	s := &subscriber{ch: make(chan State, 1)}
	c.subMu.Lock()
	s.ch <- *c.snap.Load()
	c.subs[s] = struct{}{}
	c.subMu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			c.subMu.Lock()
			delete(c.subs, s)
			close(s.ch)
			c.subMu.Unlock()
		})
	}
}

// Refresh reads every input now, applies the rules and returns the
// resulting state; the engine calls it when a decision needs fresh readings.
func (c *Controller) Refresh(ctx context.Context) (State, error) {
	if err := c.do(ctx, func(time.Time) { c.readInputs(); c.veh = c.vehicle() }); err != nil {
		return State{}, err
	}
	return c.Snapshot(), nil
}

// LidOpenEstimate is how long opening the lid from closed takes: the last
// measured full opening, or the lid timeout before any was measured. The
// engine uses it to open the lid in time for a returning vehicle
// (invariant 7).
func (c *Controller) LidOpenEstimate() time.Duration {
	if d := c.lidOpenEst.Load(); d > 0 {
		return time.Duration(d)
	}
	return c.opts.LidTimeout
}

// SelfTest returns the report of the hardware self-test Run made at start
// (the zero Report before).
func (c *Controller) SelfTest() Report {
	if r := c.selfReport.Load(); r != nil {
		return *r
	}
	return Report{}
}

// SetWeather feeds the latest good weather reading and the inside
// temperature (nil when unknown) to the controller; the app calls it from
// the weather station driver (rs485/weatherstation) after each good poll.
// Staleness is decided here, not by the driver: once w.At is older than
// WeatherStaleAfter, State marks the weather stale (keeping its last
// values, never zero wind) and drops the inside temperature. It never
// blocks.
func (c *Controller) SetWeather(w Weather, insideC *float64) {
	c.setExt(func(e *externals) {
		e.weather = w
		e.insideC = insideC
		e.insideAt = w.At
	})
}

// SetSortie names the active sortie in State (nil for none). While a
// non-terminal sortie is set the strobe flashes and the mode cannot change.
// It never blocks.
func (c *Controller) SetSortie(ref *SortieRef) {
	if ref != nil {
		r := *ref
		ref = &r
	}
	c.setExt(func(e *externals) { e.sortie = ref })
}

// SetCircles sets the response circles reported in State. It never blocks.
func (c *Controller) SetCircles(circles Circles) {
	c.setExt(func(e *externals) { e.circles = circles })
}

// notChecked is the readiness until the sortie engine has checked the
// gates: not ready, and saying why.
var notChecked = Readiness{Gates: []Gate{{Name: "starting", Note: "the sortie engine has not checked the gates yet"}}}

// SetReadiness sets the readiness reported in State. It never blocks.
func (c *Controller) SetReadiness(r Readiness) {
	r.Gates = append([]Gate{}, r.Gates...)
	c.setExt(func(e *externals) { e.readiness = r })
}

// SetClockSynced sets whether the system clock is NTP-synchronised. It
// never blocks.
func (c *Controller) SetClockSynced(ok bool) {
	c.setExt(func(e *externals) { e.clockSynced = ok })
}

func (c *Controller) setExt(f func(*externals)) {
	c.extMu.Lock()
	f(&c.ext)
	c.extVer++
	c.extMu.Unlock()
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

func (c *Controller) externals() externals {
	c.extMu.Lock()
	defer c.extMu.Unlock()
	return c.ext
}

// view is the comparable part of State the loop owns.
type view struct {
	lid          LidState
	arms         ArmsState
	charger      bool
	charging     bool
	estop        bool
	estopLatched bool
	power        bool
	faultsVer    uint64
	mode         Mode
	heater, fan  bool
	strobe       bool
	vehicle      VehicleSummary
	rain         bool
	weatherStale bool
}

func (c *Controller) currentView(now time.Time, ext externals) view {
	charging := c.level[outCharger]
	if c.hw.ChargerStatus != nil {
		charging = c.in.charging
	}
	return view{
		lid:          c.lidState(),
		arms:         c.armsState(),
		charger:      c.level[outCharger],
		charging:     charging,
		estop:        c.in.estop,
		estopLatched: c.estopLatched,
		power:        c.in.mains,
		faultsVer:    c.faultsVer,
		mode:         c.mode,
		heater:       c.level[outHeater],
		fan:          c.level[outFan],
		strobe:       c.level[outStrobe],
		vehicle: VehicleSummary{
			Link:       c.veh.Link,
			Armed:      c.veh.Armed,
			Landed:     c.veh.Landed == LandedOnGround,
			Docked:     c.notDocked() == "",
			BatteryPct: c.veh.BatteryPct,
		},
		rain:         c.in.rain,
		weatherStale: ext.weather.At.IsZero() || now.Sub(ext.weather.At) > c.opts.WeatherStaleAfter,
	}
}

// publish stores and sends a new snapshot when anything changed.
func (c *Controller) publish(now time.Time) {
	ext := c.externals()
	c.extMu.Lock()
	ver := c.extVer
	c.extMu.Unlock()
	v := c.currentView(now, ext)
	if c.published && v == c.lastView && ver == c.lastExtVer {
		return
	}
	c.published, c.lastView, c.lastExtVer = true, v, ver
	w := ext.weather
	w.Stale = w.Stale || v.weatherStale
	w.Rain = w.Rain || v.rain
	insideC := ext.insideC
	if v.weatherStale {
		// An inside temperature as old as stale weather is not reported:
		// the climate control ignores it too (climate.go).
		insideC = nil
	}
	s := &State{
		Lid: v.lid, Arms: v.arms, Charger: v.charger, Charging: v.charging,
		EStop: v.estop, EStopLatched: v.estopLatched, Power: v.power,
		Fault: c.firstFault(), Faults: append([]Fault{}, c.faults...), Mode: v.mode, Heater: v.heater, Fan: v.fan, Strobe: v.strobe,
		InsideC: insideC, Weather: w, Vehicle: v.vehicle, Sortie: ext.sortie,
		Circles: ext.circles, Readiness: ext.readiness, ClockSynced: ext.clockSynced, UpdatedAt: now,
	}
	c.snap.Store(s)
	c.subMu.Lock()
	defer c.subMu.Unlock()
	for sub := range c.subs {
		select {
		case sub.ch <- *s:
		default:
			select { // drop the stale value, keep the newest
			case <-sub.ch:
			default:
			}
			sub.ch <- *s
		}
	}
}

func (c *Controller) lidState() LidState {
	if c.lid != nil {
		return c.lid.spec.moving.lid
	}
	switch {
	case c.in.lidOpen && c.in.lidClosed:
		return LidUnknown
	case c.in.lidOpen:
		return LidOpen
	case c.in.lidClosed:
		return LidClosed
	}
	return LidStopped
}

func (c *Controller) armsState() ArmsState {
	if c.arms != nil {
		return c.arms.spec.moving.arms
	}
	switch {
	case c.in.armsReleased && c.in.armsClamped:
		return ArmsUnknown
	case c.in.armsReleased:
		return ArmsReleased
	case c.in.armsClamped:
		return ArmsClamped
	}
	return ArmsStopped
}
