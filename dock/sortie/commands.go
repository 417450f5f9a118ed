package sortie

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/schedule"
)

// The engine's commands (docs/mqtt-api.md). Each runs its work on the
// engine's loop and returns once the command is accepted or refused:
// sorties then report sortie.phase and command.progress events carrying
// the request id. None waits for a flight; all are safe for concurrent use.
// Shapes were checked by the caller (telemetry); limits that depend on the
// dock (altitude, loiter, the 5-minute circle, the geofence) are checked
// here. Refusals are dock's typed errors (dock.ErrInvalidArgument,
// dock.ErrOutOfRange, dock.ErrPrecondition, dock.ErrBusy, *dock.GateError).

// Dispatch sends the vehicle to a point: launched now, queued behind the
// active sortie, or diverting a patrol in the air (an alarm).
func (e *Engine) Dispatch(ctx context.Context, reqID string, a dock.DispatchRequest) (dock.DispatchResult, error) {
	var res dock.DispatchResult
	err := e.onLoop(ctx, "dispatch", func(now time.Time) (err error) {
		res, err = e.dispatch(now, reqID, a)
		return err
	})
	return res, err
}

// Patrol flies the stored route now.
func (e *Engine) Patrol(ctx context.Context, reqID, routeName string, dryRun bool) (dock.PatrolResult, error) {
	var res dock.PatrolResult
	err := e.onLoop(ctx, "patrol", func(now time.Time) (err error) {
		res, err = e.startPatrol(now, reqID, routeName, "", dryRun)
		return err
	})
	return res, err
}

// Recall brings the sortie in flight home (or aborts one not yet off the
// pad). reason, when given, is carried into the sortie's report.
func (e *Engine) Recall(ctx context.Context, reason string) error {
	why := "recall command"
	if reason != "" {
		why = "recall: " + reason
	}
	return e.onLoop(ctx, "recall", func(now time.Time) error { return e.recallCmd(now, why) })
}

// Abort stops the sortie before take-off, else the first queued dispatch,
// else recalls the sortie in flight.
func (e *Engine) Abort(ctx context.Context) error {
	return e.onLoop(ctx, "abort", e.abortCmd)
}

// SetBattery sets the battery mode: "ready" or "storage".
func (e *Engine) SetBattery(ctx context.Context, mode string) error {
	return e.onLoop(ctx, "battery", func(time.Time) error { return e.setBattery(mode) })
}

// PutRoute decodes, checks and stores a route given as waypoints or as a
// QGroundControl .plan (exactly one); it returns the stored route's
// RouteInfo.
func (e *Engine) PutRoute(ctx context.Context, name string, waypoints, plan json.RawMessage) (any, error) {
	var res any
	err := e.onLoop(ctx, "route.put", func(time.Time) (err error) {
		res, err = e.routePut(name, waypoints, plan)
		return err
	})
	return res, err
}

// DeleteRoute deletes a stored route no schedule entry or sortie uses.
func (e *Engine) DeleteRoute(ctx context.Context, name string) error {
	return e.onLoop(ctx, "route.delete", func(time.Time) error { return e.routeDelete(name) })
}

// Routes lists the routes: {"routes":[RouteInfo...]}.
func (e *Engine) Routes(ctx context.Context) (any, error) {
	var res any
	err := e.onLoop(ctx, "route.list", func(time.Time) error {
		res = e.routeList()
		return nil
	})
	return res, err
}

// PutSchedule replaces the schedule with entries (JSON, decoded by
// dock/schedule) and returns the new ScheduleList.
func (e *Engine) PutSchedule(ctx context.Context, entries json.RawMessage) (any, error) {
	return e.schedulePut(ctx, entries)
}

// Schedules is the ScheduleList: the entries and their next firings.
func (e *Engine) Schedules(context.Context) (any, error) {
	return e.scheduleList(e.clock.Now()), nil
}

// Status is the engine's Status: sortie, queue, battery mode, estimates and
// the dock's state.
func (e *Engine) Status(ctx context.Context) (any, error) {
	var res Status
	err := e.onLoop(ctx, "status", func(now time.Time) error {
		res = e.status(now)
		return nil
	})
	return res, err
}

// onLoop runs fn on the engine's loop and returns its error, or why it
// could not run (ctx ended, engine stopped) prefixed with the command.
func (e *Engine) onLoop(ctx context.Context, what string, fn func(now time.Time) error) error {
	var err error
	if derr := e.do(ctx, func(now time.Time) { err = fn(now) }); derr != nil {
		return fmt.Errorf("%s: %w", what, derr)
	}
	return err
}

// startPatrol checks the gates and launches a patrol of routeName now, or
// refuses (busy, unknown route, gates). entry names the schedule entry of
// a scheduled patrol.
func (e *Engine) startPatrol(now time.Time, reqID, routeName, entry string, dry bool) (dock.PatrolResult, error) {
	r, ok := e.routes[routeName]
	if !ok {
		return dock.PatrolResult{}, dock.Errorf(dock.ErrInvalidArgument, "patrol: no route %q", routeName)
	}
	s := &sortie{rec: Record{Kind: dock.KindPatrol, Priority: dock.PriorityRoutine, RequestID: reqID, Route: routeName, Schedule: entry, DryRun: dry, CommandAt: now}}
	s.rt = r
	g, _ := e.gates(now, r)
	if b, busy := e.busyGate(); busy {
		g = append([]dock.Gate{b}, g...)
	} else if e.staged != nil {
		g = append([]dock.Gate{{Name: "busy", Note: "dock staged by an alert for a dispatch"}}, g...)
	}
	if len(g) > 0 {
		return dock.PatrolResult{}, e.blocked(now, s, g)
	}
	s.rec.ID = e.newID(dock.KindPatrol, now)
	s.mission = missionOf(r, e.opts.Flight.CruiseSpeedMPS)
	e.begin(now, s)
	return dock.PatrolResult{SortieID: s.rec.ID, ETAS: math.Round(e.launch.Estimate().Seconds())}, nil
}

// dispatch answers a dispatch: the ETA and circle from the dock, refusal
// outside the 5-minute circle, then launch, queue or divert.
func (e *Engine) dispatch(now time.Time, reqID string, a dock.DispatchRequest) (dock.DispatchResult, error) {
	var none dock.DispatchResult
	t, err := e.target("dispatch", a.Lat, a.Lon, a.AltM)
	if err != nil {
		return none, err
	}
	target, alt := route.Point{Lat: t.Lat, Lon: t.Lon}, t.AltM
	loiter := e.opts.Flight.DefaultLoiter
	if a.LoiterS != nil {
		if !(*a.LoiterS >= 0 && *a.LoiterS <= 3600) {
			return none, dock.Errorf(dock.ErrOutOfRange, "dispatch: loiter_s %g outside [0, 3600]", *a.LoiterS)
		}
		loiter = time.Duration(*a.LoiterS * float64(time.Second))
	}
	if a.Priority != "" && a.Priority != dock.PriorityAlarm && a.Priority != dock.PriorityRoutine {
		return none, dock.Errorf(dock.ErrInvalidArgument, "dispatch: priority %q is not alarm or routine", a.Priority)
	}
	prio := a.Priority
	if prio == "" {
		prio = dock.PriorityAlarm
	}
	st := e.hw.Snapshot()
	p := e.circleParams()
	p.PatrolAltM = alt
	eta, dist, circ, ok := p.ETA(target, windOf(st))
	res := dock.DispatchResult{ETAS: math.Round(eta.Seconds()), DistanceM: math.Round(dist), CircleMin: circ}
	if sp := p.AirspeedMPS; !ok && st.Weather.WindMPS >= sp {
		// No way out in this wind: the vehicle cannot hold its ground
		// speed against it. That is the weather gates, not the distance.
		s := &sortie{rec: Record{Kind: dock.KindDispatch, RequestID: reqID, Ref: a.Ref, Target: &t}}
		g, _ := e.gates(now, dispatchRoute("dispatch", t, loiter))
		if !hasGate(g, "wind") {
			g = append(g, dock.Gate{Name: "wind", Unit: "mps", Value: st.Weather.WindMPS, Limit: sp,
				Note: "wind at least the vehicle's planned speed"})
		}
		return none, e.blocked(now, s, g)
	}
	if !ok || circ == nil {
		return none, &dock.Error{Kind: dock.ErrOutOfRange,
			Message: fmt.Sprintf("dispatch: %.0f m from the dock is outside the 5-minute circle (eta %.0f s)", dist, eta.Seconds()),
			Details: map[string]any{"distance_m": res.DistanceM, "eta_s": res.ETAS, "circle_min": nil}}
	}
	s := &sortie{rec: Record{Kind: dock.KindDispatch, Priority: prio, RequestID: reqID, Ref: a.Ref, Target: &t,
		LoiterS: loiter.Seconds(), DryRun: a.DryRun, CommandAt: now, ETAS: res.ETAS, CircleMin: circ}}
	s.rt = dispatchRoute("dispatch", t, loiter)
	s.mission = dispatchMission(t, loiter)

	if e.active == nil && len(e.queue) == 0 && !e.idleJob {
		g, _ := e.gates(now, s.rt)
		if len(g) > 0 {
			return none, e.blocked(now, s, g)
		}
		s.rec.ID = e.newID(dock.KindDispatch, now)
		res.SortieID = s.rec.ID
		e.alertUsed(now, s)
		e.begin(now, s)
		return res, nil
	}
	if a.DryRun {
		return none, dock.Errorf(dock.ErrBusy, "dispatch dry run: dock busy")
	}
	if len(e.queue) >= maxQueue {
		return none, dock.Errorf(dock.ErrBusy, "dispatch: %d dispatches already queued", len(e.queue))
	}
	s.rec.ID = e.newID(dock.KindDispatch, now)
	res.SortieID = s.rec.ID
	// An alarm preempts routine work: a patrol in the air is diverted when
	// its battery allows, else recalled (see preempt); one still launching
	// is handled once it is airborne.
	if prio == dock.PriorityAlarm && !e.hasQueuedAlarm() && e.preemptable() {
		if e.canDivert(e.active, s, st) {
			res.ETAS = math.Round(e.etaFromVehicle(t, st).Seconds())
			s.rec.ETAS = res.ETAS
			e.divert(now, e.active, s)
			return res, nil
		}
	}
	e.enqueue(now, s, prio == dock.PriorityAlarm)
	e.alertUsed(now, s)
	e.preempt(now)
	res.Queued = true
	return res, nil
}

func hasGate(g []dock.Gate, name string) bool {
	for _, x := range g {
		if x.Name == name {
			return true
		}
	}
	return false
}

// maxQueue bounds the dispatches waiting behind the active sortie.
const maxQueue = 8

func (e *Engine) hasQueuedAlarm() bool {
	for _, q := range e.queue {
		if q.rec.Priority == dock.PriorityAlarm {
			return true
		}
	}
	return false
}

// enqueue queues a dispatch: alarms after the alarms already queued,
// routine work at the end.
func (e *Engine) enqueue(now time.Time, s *sortie, alarm bool) {
	s.queuedAt = now
	i := len(e.queue)
	if alarm {
		i = 0
		for i < len(e.queue) && e.queue[i].rec.Priority == dock.PriorityAlarm {
			i++
		}
	}
	e.queue = append(e.queue[:i], append([]*sortie{s}, e.queue[i:]...)...)
	f := map[string]any{"sortie_id": s.rec.ID, "position": i + 1, "priority": string(s.rec.Priority)}
	if s.rec.Ref != "" {
		f["ref"] = s.rec.Ref
	}
	if s.rec.RequestID != "" {
		f["request_id"] = s.rec.RequestID
	}
	if e.active != nil {
		f["behind"] = e.active.rec.ID
	}
	e.log.Info("dispatch queued", "sortie_id", s.rec.ID, "position", i+1)
	e.emit(dock.EventDispatchQueued, now, f)
	e.setPhase(now, s, dock.PhaseQueued, "")
}

func dispatchMission(t Target, loiter time.Duration) []dock.MissionItem {
	return []dock.MissionItem{
		{Command: dock.MissionTakeoff, AltM: t.AltM},
		{Command: dock.MissionWaypoint, Lat: t.Lat, Lon: t.Lon, AltM: t.AltM},
		{Command: dock.MissionLoiterTime, Lat: t.Lat, Lon: t.Lon, AltM: t.AltM, Hold: loiter},
		{Command: dock.MissionReturnToLaunch},
	}
}

func (e *Engine) recallCmd(now time.Time, why string) error {
	s := e.active
	if s == nil {
		return dock.Errorf(dock.ErrPrecondition, "recall: no sortie in flight")
	}
	if s.beforeTakeoff() {
		e.abort(now, s, why)
		return nil
	}
	if !s.inFlight() {
		return dock.Errorf(dock.ErrPrecondition, "recall: sortie %s is %s", s.rec.ID, s.rec.Phase)
	}
	e.recall(now, s, why)
	return nil
}

func (e *Engine) abortCmd(now time.Time) error {
	s := e.active
	if s == nil || !s.beforeTakeoff() {
		if len(e.queue) > 0 {
			q := e.queue[0]
			e.queue = e.queue[1:]
			q.reason("abort command")
			e.finish(now, q, dock.PhaseAborted, OutcomeAborted)
			return nil
		}
		if s != nil && s.inFlight() {
			// In the air an abort is a recall: the vehicle comes home and a
			// dispatch short of the scene ends not_reached.
			e.recall(now, s, "abort command")
			return nil
		}
		if s != nil {
			return dock.Errorf(dock.ErrPrecondition, "abort: sortie %s is %s", s.rec.ID, s.rec.Phase)
		}
		if e.cancelAlert(now) {
			return nil
		}
		return dock.Errorf(dock.ErrPrecondition, "abort: no sortie before take-off")
	}
	e.abort(now, s, "abort command")
	return nil
}

// Status is the engine's view for the status command.
type Status struct {
	Sortie          *Record         `json:"sortie"`
	Queue           []Record        `json:"queue"`
	BatteryMode     string          `json:"battery_mode"`
	LaunchEstimateS float64         `json:"launch_estimate_s"`
	NextFires       []schedule.Fire `json:"next_fires"`
	Dock            dock.State      `json:"dock"`
	Circles         [3]float64      `json:"circles_radii_m"`
}

func (e *Engine) status(now time.Time) Status {
	st := Status{BatteryMode: e.battery, LaunchEstimateS: e.launch.Estimate().Seconds(), Dock: e.hw.Snapshot(), Queue: []Record{}}
	if e.active != nil {
		r := e.active.rec
		st.Sortie = &r
	}
	for _, q := range e.queue {
		st.Queue = append(st.Queue, q.rec)
	}
	st.NextFires = e.scheduleList(now).Next
	st.Circles = e.circleParams().Radii()
	return st
}

func (e *Engine) setBattery(mode string) error {
	if mode != "ready" && mode != "storage" {
		return dock.Errorf(dock.ErrInvalidArgument, "battery: mode %q is not ready or storage", mode)
	}
	if err := e.store.write(fileBattery, map[string]string{"mode": mode}); err != nil {
		return fmt.Errorf("battery: %w", err)
	}
	e.battery = mode
	e.log.Info("battery mode", "mode", mode)
	return nil
}
