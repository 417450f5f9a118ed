package sortie

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// launchResult is what the launch job reports to the loop.
type launchResult struct {
	err       error
	armed     bool
	takeoffAt time.Time
	tlog      string
}

// startLaunch runs the pipelined launch of s in a job: lid opening, arms
// releasing, and the vehicle preparation (streams, home, mission, mode) at
// the same time; arming right after both limit switches confirm and
// ArmPermitted agrees (invariant 2); take-off at once.
func (e *Engine) startLaunch(s *sortie) {
	p := struct {
		id       string
		dry      bool
		patrol   bool
		mission  []dock.MissionItem
		altM     float64
		prepared bool
	}{s.rec.ID, s.rec.DryRun, s.rec.Kind == dock.KindPatrol, s.mission, e.opts.Flight.PatrolAltM, s.staged}
	if s.rec.Target != nil {
		p.altM = s.rec.Target.AltM
	}
	if len(p.mission) > 0 && p.mission[0].Command == dock.MissionTakeoff && p.mission[0].AltM > 0 {
		p.altM = p.mission[0].AltM
	}
	s.launchAt = e.clock.Now()
	s.job = e.job(func(ctx context.Context) func(time.Time) {
		var r launchResult
		if e.opts.FlightLog != nil && !p.dry {
			f, err := e.opts.FlightLog.Start(p.id)
			if err != nil {
				e.log.Warn("flight log not started", "sortie_id", p.id, "err", err)
			}
			r.tlog = f
		}
		r.err = e.launchSteps(ctx, p.mission, p.dry, p.patrol, p.altM, p.prepared, &r)
		return func(now time.Time) { e.launched(now, s, r) }
	})
}

// launchSteps opens the dock and prepares the vehicle at once, then arms
// and takes off. On a dock an alert staged (prepared), the lid and arms
// are already at their ends (the motions return at once) and the vehicle
// has its streams, home and GUIDED: only the mission is sent again.
func (e *Engine) launchSteps(ctx context.Context, mission []dock.MissionItem, dry, patrol bool, altM float64, prepared bool, r *launchResult) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	lid, arms, err := e.openDock(ctx)
	if err != nil {
		return err
	}
	prep := make(chan error, 1)
	wg.Go(func() {
		if prepared {
			prep <- e.veh.UploadMission(ctx, mission)
			return
		}
		prep <- e.prepareVehicle(ctx, mission)
	})
	for pending := 3; pending > 0; pending-- {
		select {
		case err := <-lid:
			lid = nil
			if err != nil {
				return fmt.Errorf("open lid: %w", err)
			}
		case err := <-arms:
			arms = nil
			if err != nil {
				return fmt.Errorf("release arms: %w", err)
			}
		case err := <-prep:
			prep = nil
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("launch: %w", ctx.Err())
		}
	}
	if dry {
		return nil
	}
	// Invariant 2 (DESIGN.md §4): arm only while both limit switches say
	// lid open and arms released; the vehicle adapter checks again.
	if err := e.hw.ArmPermitted(); err != nil {
		return err
	}
	if err := e.veh.Arm(ctx); err != nil {
		return fmt.Errorf("arm: %w", err)
	}
	r.armed = true
	if patrol {
		err = e.veh.StartMission(ctx)
	} else {
		err = e.veh.Takeoff(ctx, altM)
	}
	if err != nil {
		return fmt.Errorf("take-off: %w", err)
	}
	r.takeoffAt = e.clock.Now()
	return nil
}

// prepareVehicle runs while the lid opens: stream rates, home where the
// vehicle stands (checked against the surveyed pad), the mission, GUIDED
// mode.
func (e *Engine) prepareVehicle(ctx context.Context, mission []dock.MissionItem) error {
	if err := e.veh.Streams(ctx); err != nil {
		return fmt.Errorf("request streams: %w", err)
	}
	if v := e.veh.State(); e.offPad(v) {
		return fmt.Errorf("set home: vehicle at %.6f,%.6f is %.1f m from the dock, beyond the pad radius %.1f m",
			v.Lat, v.Lon, route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, e.home), e.opts.Dock.PadRadiusM)
	}
	// Home from the vehicle itself: relative altitudes read 0 on the pad
	// whatever the surveyed altitude says.
	if err := e.veh.SetHomeHere(ctx); err != nil {
		return fmt.Errorf("set home: %w", err)
	}
	if err := e.veh.UploadMission(ctx, mission); err != nil {
		return fmt.Errorf("upload mission: %w", err)
	}
	if err := e.veh.SetMode(ctx, "GUIDED"); err != nil {
		return fmt.Errorf("set mode GUIDED: %w", err)
	}
	return nil
}

// launched handles the launch job's end on the loop.
func (e *Engine) launched(now time.Time, s *sortie, r launchResult) {
	s.job = nil
	s.rec.TLog = r.tlog
	if s != e.active {
		return
	}
	switch {
	case r.err == nil && s.rec.DryRun:
		e.log.Info("dry run: dock sequence complete, securing", "sortie_id", s.rec.ID)
		e.startSecure(now, s, false)
	case r.err == nil && s.aborting:
		// Too late: the take-off was acknowledged. Bring it back.
		s.launched = true
		s.rec.TakeoffAt = r.takeoffAt
		e.setPhase(now, s, dock.PhaseAirborne, "")
		e.recall(now, s, s.rec.Reasons[0])
	case r.err == nil:
		s.launched = true
		s.rec.TakeoffAt = r.takeoffAt
		lat := r.takeoffAt.Sub(s.rec.CommandAt)
		s.rec.LaunchLatencyS = lat.Seconds()
		// The estimator plans dispatches from idle: it learns the launch
		// itself, not the time a sortie waited in the queue, nor one from
		// a dock an alert had opened.
		if !s.staged {
			e.launch.Add(r.takeoffAt.Sub(s.launchAt))
			e.storeLaunchTimes()
		}
		e.log.Info("take-off", "sortie_id", s.rec.ID, "launch_latency", lat)
		e.setPhase(now, s, dock.PhaseAirborne, "")
		e.updateCircles(false)
	default:
		if !s.aborting || !errors.Is(r.err, context.Canceled) {
			s.reason(r.err.Error())
		}
		s.aborting = true
		e.log.Warn("launch failed, securing the dock", "sortie_id", s.rec.ID, "err", r.err)
		e.startSecure(now, s, r.armed)
	}
}

func (e *Engine) storeLaunchTimes() {
	var out []float64
	for _, d := range e.launch.Samples() {
		out = append(out, d.Seconds())
	}
	if err := e.store.write(fileLaunch, out); err != nil {
		e.log.Warn("launch times not stored", "err", err)
	}
}

// startSecure secures the dock after s (landed, or never launched): the
// vehicle disarmed if disarm (it never left the ground), arms clamped, lid
// closed, charger on. The controller refuses the lid over a vehicle that is
// not docked (invariant 1).
func (e *Engine) startSecure(now time.Time, s *sortie, disarm bool) {
	e.setPhase(now, s, dock.PhaseSecuring, "")
	s.job = e.job(func(ctx context.Context) func(time.Time) {
		err := e.secureSteps(ctx, disarm)
		return func(now time.Time) {
			s.job = nil
			if err != nil {
				s.reason("secure: " + err.Error())
				e.leftOpen(now, err)
			}
			switch {
			case s.aborting:
				e.finish(now, s, dock.PhaseAborted, OutcomeAborted)
			case err != nil:
				e.finish(now, s, dock.PhaseFailed, OutcomeFailed)
			default:
				ph, out := e.verdict(s)
				e.finish(now, s, ph, out)
			}
		}
	})
}

func (e *Engine) secureSteps(ctx context.Context, disarm bool) error {
	if v := e.veh.State(); disarm && v.Armed && v.Landed != dock.LandedInAir {
		if err := e.veh.Disarm(ctx); err != nil {
			return fmt.Errorf("disarm: %w", err)
		}
	}
	for _, m := range []dock.Motion{dock.MotionClampArms, dock.MotionCloseLid} {
		done, err := e.hw.StartMotion(context.WithoutCancel(ctx), m, "")
		if err != nil {
			return err
		}
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", m, ctx.Err())
		}
	}
	if v := e.veh.State(); v.BatteryPct >= 0 && v.BatteryPct < e.chargeBand().hi {
		if err := e.hw.SetCharger(ctx, true); err != nil {
			return fmt.Errorf("charger on: %w", err)
		}
	}
	return nil
}

// openDock starts the lid opening and the arms releasing, and returns
// when each motion ends. Motions are asked for with a ctx that is not
// canceled: the request only waits for the controller to accept it, and
// the motion itself is bounded by its timeout (invariant 6) and ended by
// securing. They carry no request id: a dispatch's command.progress is its
// sortie's phases, and the lid's own "ok" would read as the request's end
// to a client following it.
func (e *Engine) openDock(ctx context.Context) (lid, arms <-chan error, err error) {
	accept := context.WithoutCancel(ctx)
	lid, err = e.hw.StartMotion(accept, dock.MotionOpenLid, "")
	if err != nil {
		return nil, nil, fmt.Errorf("open lid: %w", err)
	}
	arms, err = e.hw.StartMotion(accept, dock.MotionReleaseArms, "")
	if err != nil {
		return nil, nil, fmt.Errorf("release arms: %w", err)
	}
	return lid, arms, nil
}
