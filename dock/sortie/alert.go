package sortie

import (
	"context"
	"errors"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// MaxAlertWindow bounds an alert's window: a dock is not left open
// longer for a dispatch that may never come.
const MaxAlertWindow = 10 * time.Minute

// staging is a dock pre-staged by an alert.
type staging struct {
	ref    string
	until  time.Time
	ready  bool // lid open, arms released, vehicle prepared
	target *Target
}

// Alert pre-stages the dock on an incoming call: the lid opens, the arms
// release and the vehicle is prepared (streams, home, a provisional
// mission to lat/lon when given, GUIDED) as for a launch, without arming;
// then the dock waits window (zero: flight.alert_window) for a dispatch,
// which launches from there, and secures itself when none came. An alert
// is refused, moving nothing, while a launch would be (the gates) or a
// sortie runs.
func (e *Engine) Alert(ctx context.Context, ref string, lat, lon *float64, window time.Duration) (dock.AlertResult, error) {
	var res dock.AlertResult
	var err error
	if derr := e.do(ctx, func(now time.Time) { res, err = e.alert(now, ref, lat, lon, window) }); derr != nil {
		return dock.AlertResult{}, derr
	}
	return res, err
}

func (e *Engine) alert(now time.Time, ref string, lat, lon *float64, window time.Duration) (dock.AlertResult, error) {
	if window == 0 {
		window = e.opts.Flight.AlertWindow
	}
	if window < 0 || window > MaxAlertWindow {
		return dock.AlertResult{}, dock.Errorf(dock.ErrOutOfRange, "alert: window_s %g outside (0, %g]", window.Seconds(), MaxAlertWindow.Seconds())
	}
	if (lat == nil) != (lon == nil) {
		return dock.AlertResult{}, dock.Errorf(dock.ErrInvalidArgument, "alert: lat and lon go together")
	}
	var t *Target
	if lat != nil {
		x, err := e.target("alert", *lat, *lon, nil)
		if err != nil {
			return dock.AlertResult{}, err
		}
		t = &x
	}
	res := dock.AlertResult{Until: now.Add(window), Window: window}
	if e.staged != nil {
		e.staged.until, res.Extended = res.Until, true
		e.secureAt = res.Until
		if t != nil {
			e.staged.target = t
		}
		e.alertEvent(now, "extended", nil)
		return res, nil
	}
	if b, busy := e.busyGate(); busy {
		return dock.AlertResult{}, &dock.GateError{Gates: []dock.Gate{b}}
	}
	var g []dock.Gate
	if t != nil {
		p := e.circleParams()
		p.PatrolAltM = t.AltM
		if _, dist, circ, ok := p.ETA(t.Point(), windOf(e.hw.Snapshot())); !ok || circ == nil {
			return dock.AlertResult{}, dock.Errorf(dock.ErrOutOfRange, "alert: %.0f m from the dock is outside the 5-minute circle", dist)
		}
		g, _ = e.gates(now, dispatchRoute("alert", *t, e.opts.Flight.DefaultLoiter))
	} else {
		g = withoutGate(e.refGates(now), "geofence")
	}
	if len(g) > 0 {
		return dock.AlertResult{}, &dock.GateError{Gates: g}
	}
	e.staged = &staging{ref: ref, until: res.Until, target: t}
	// The idle securing closes the dock when the window passes without a
	// dispatch (serveQueue); until then nothing secures it.
	e.unsecured, e.secureAt = true, res.Until
	e.idleJob = true
	mission := dispatchMission(Target{Lat: e.home.Lat, Lon: e.home.Lon, AltM: e.opts.Flight.PatrolAltM}, 0)
	if t != nil {
		mission = dispatchMission(*t, e.opts.Flight.DefaultLoiter)
	}
	e.alertEvent(now, "staging", nil)
	e.log.Info("alert: staging the dock", "ref", ref, "until", res.Until)
	e.job(func(ctx context.Context) func(time.Time) {
		err := e.stageSteps(ctx, mission)
		return func(now time.Time) {
			e.idleJob = false
			if e.staged == nil {
				return
			}
			if err != nil {
				e.log.Warn("alert: staging failed, securing the dock", "err", err)
				e.alertEvent(now, "failed", map[string]any{"message": err.Error()})
				e.staged = nil
				e.secureAt = now
				return
			}
			e.staged.ready = true
			e.alertEvent(now, "staged", nil)
		}
	})
	return res, nil
}

// stageSteps opens the dock and prepares the vehicle as a launch does,
// up to (not including) arming.
func (e *Engine) stageSteps(ctx context.Context, mission []dock.MissionItem) error {
	lid, arms, err := e.openDock(ctx)
	if err != nil {
		return err
	}
	prep := make(chan error, 1)
	go func() { prep <- e.prepareVehicle(ctx, mission) }()
	var errs []error
	for _, ch := range []<-chan error{lid, arms, prep} {
		select {
		case err := <-ch:
			errs = append(errs, err)
		case <-ctx.Done():
			<-prep // prepareVehicle returns on ctx
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// alertTick ends an alert whose window passed: the idle securing closes
// the dock (serveQueue).
func (e *Engine) alertTick(now time.Time) {
	if e.staged == nil || now.Before(e.staged.until) {
		return
	}
	e.log.Info("alert: no dispatch came, securing the dock", "ref", e.staged.ref)
	e.alertEvent(now, "expired", nil)
	e.staged = nil
}

// alertUsed hands a staged dock to the dispatch s that came for it: s
// launches without preparing the vehicle again when the staging was done.
func (e *Engine) alertUsed(now time.Time, s *sortie) {
	if e.staged == nil {
		return
	}
	s.staged = e.staged.ready
	sortieID := s.rec.ID
	e.alertEvent(now, "used", map[string]any{"sortie_id": sortieID})
	e.staged = nil
	e.unsecured = false // the sortie secures the dock after it
}

// cancelAlert ends an alert at once (abort): the dock secures itself.
func (e *Engine) cancelAlert(now time.Time) bool {
	if e.staged == nil {
		return false
	}
	e.alertEvent(now, "canceled", nil)
	e.staged = nil
	e.secureAt = now
	return true
}

func (e *Engine) alertEvent(now time.Time, state string, fields map[string]any) {
	f := map[string]any{"state": state}
	if e.staged != nil {
		f["until"] = e.staged.until
		if e.staged.ref != "" {
			f["ref"] = e.staged.ref
		}
	}
	for k, v := range fields {
		f[k] = v
	}
	e.emit(dock.EventAlert, now, f)
}

func withoutGate(g []dock.Gate, name string) []dock.Gate {
	out := g[:0:0]
	for _, x := range g {
		if x.Name != name {
			out = append(out, x)
		}
	}
	return out
}
