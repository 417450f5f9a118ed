package sortie

import (
	"math"
	"slices"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// readiness says whether the dock could take an alarm dispatch now: the
// gates a dispatch to the edge of its 5-minute circle (upwind, where the
// energy is worst) would check, and busy while a sortie runs or waits.
// Nothing moves. The geofence is left out: it says where the vehicle may
// go, not whether it can launch (a quote answers it for a point).
func (e *Engine) readiness(now time.Time) dock.Readiness {
	var g []dock.Gate
	if b, ok := e.busyGate(); ok {
		g = append(g, b)
	}
	g = append(g, withoutGate(e.refGates(now), "geofence")...)
	for i := range g {
		// Readings move all the time; a tenth is what the gate means.
		g[i].Value = math.Round(g[i].Value*10) / 10
	}
	if g == nil {
		g = []dock.Gate{}
	}
	return dock.Readiness{Ready: len(g) == 0, Gates: g}
}

// refGates checks the gates of a dispatch to the edge of the 5-minute
// circle, upwind of the dock.
func (e *Engine) refGates(now time.Time) []dock.Gate {
	st := e.hw.Snapshot()
	p := e.circleParams()
	far := route.Destination(e.home, st.Weather.DirDeg, p.Radii()[2])
	t := Target{Lat: far.Lat, Lon: far.Lon, AltM: e.opts.Flight.PatrolAltM}
	g, _ := e.gates(now, dispatchRoute("readiness", t, e.opts.Flight.DefaultLoiter))
	return g
}

// busyGate is the gate a sortie in progress (or queued, or the dock being
// secured) puts in front of a new launch.
func (e *Engine) busyGate() (dock.Gate, bool) {
	// An alert's staging is no work of its own: it waits for a dispatch.
	if e.active == nil && len(e.queue) == 0 && (!e.idleJob || e.staged != nil) {
		return dock.Gate{}, false
	}
	note := "dock busy"
	if e.active != nil {
		note = "sortie " + e.active.rec.ID + " " + string(e.active.rec.Phase)
	}
	return dock.Gate{Name: "busy", Note: note}, true
}

// updateReadiness hands the controller the readiness when it changed, so
// that `state` carries it with the change that caused it.
func (e *Engine) updateReadiness(now time.Time) {
	r := e.readiness(now)
	if r.Ready == e.lastReadiness.Ready && slices.Equal(r.Gates, e.lastReadiness.Gates) && e.readinessSet {
		return
	}
	e.lastReadiness, e.readinessSet = r, true
	e.hw.SetReadiness(r)
}

// readinessKey is the part of the dock's state whose change moves the
// readiness at once: e-stop, mains, faults, mode, the lid, the vehicle's
// link and landed state, and the weather going stale.
type readinessKey struct {
	estop, latched, power, stale bool
	fault                        string
	mode                         dock.Mode
	lid                          dock.LidState
	vehicle                      dock.VehicleSummary
}

func readinessKeyOf(st dock.State) readinessKey {
	v := st.Vehicle
	v.BatteryPct = 0
	return readinessKey{estop: st.EStop, latched: st.EStopLatched, power: st.Power, stale: st.Weather.Stale,
		fault: st.Fault, mode: st.Mode, lid: st.Lid, vehicle: v}
}
