package sortie

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/schedule"
)

// Do executes one validated command of the MQTT contract (DESIGN.md §5)
// and returns the reply's result or an error carrying its contract code
// (dock.CodeOf). Sortie commands reply once accepted; the sortie then
// reports sortie.phase and command.progress events carrying req.ID. lid,
// arms and charger go to the controller (maintenance mode only), as do
// mode and reset. Do never waits for a flight; it is safe for concurrent
// use.
func (e *Engine) Do(ctx context.Context, req dock.Request) (any, error) {
	if !req.Expires.IsZero() && !e.clock.Now().Before(req.Expires) {
		return nil, dock.Errorf(dock.CodeExpired, "%s: expired at %s", req.Name, req.Expires.Format(time.RFC3339))
	}
	switch req.Name {
	case dock.CmdLid, dock.CmdArms, dock.CmdCharger:
		a, ok := req.Args.(*dock.ActuatorArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		if err := e.hw.Actuate(ctx, req.ID, req.Name, a.Action); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	case dock.CmdMode:
		a, ok := req.Args.(*dock.ModeArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		if err := e.hw.SetMode(ctx, a.Mode); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	case dock.CmdReset:
		if err := e.hw.Reset(ctx); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	case dock.CmdSchedulePut:
		a, ok := req.Args.(*dock.SchedulePutArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.schedulePut(ctx, a)
	case dock.CmdScheduleList:
		return e.scheduleList(e.clock.Now()), nil
	case dock.CmdQuote:
		a, ok := req.Args.(*dock.QuoteArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.Quote(ctx, a.Lat, a.Lon, a.AltM)
	case dock.CmdRetarget:
		a, ok := req.Args.(*dock.RetargetArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.Retarget(ctx, a.SortieID, a.Lat, a.Lon, a.AltM)
	case dock.CmdAlert:
		a, ok := req.Args.(*dock.AlertArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		var w time.Duration
		if a.WindowS != nil {
			w = time.Duration(*a.WindowS * float64(time.Second))
		}
		return e.Alert(ctx, a.Ref, a.Lat, a.Lon, w)
	}
	var res any
	var err error
	derr := e.do(ctx, func(now time.Time) { res, err = e.loopCommand(now, req) })
	if derr != nil {
		return nil, fmt.Errorf("%s: %w", req.Name, derr)
	}
	return res, err
}

func badArgs(req dock.Request) error {
	return dock.Errorf(dock.CodeInvalidArgument, "%s: arguments of type %T", req.Name, req.Args)
}

// loopCommand runs the commands that touch sortie state, on the loop.
func (e *Engine) loopCommand(now time.Time, req dock.Request) (any, error) {
	switch req.Name {
	case dock.CmdDispatch:
		a, ok := req.Args.(*dock.DispatchArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.dispatch(now, req.ID, a)
	case dock.CmdPatrol:
		a, ok := req.Args.(*dock.PatrolArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.startPatrol(now, req.ID, a.Route, "", a.DryRun)
	case dock.CmdRecall:
		why := "recall command"
		if a, ok := req.Args.(*dock.RecallArgs); ok && a != nil && a.Reason != "" {
			why = "recall: " + a.Reason
		}
		return e.recallCmd(now, why)
	case dock.CmdAbort:
		return e.abortCmd(now)
	case dock.CmdBattery:
		a, ok := req.Args.(*dock.BatteryArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.setBattery(a.Mode)
	case dock.CmdRoutePut:
		a, ok := req.Args.(*dock.RoutePutArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.routePut(a)
	case dock.CmdRouteDelete:
		a, ok := req.Args.(*dock.RouteNameArgs)
		if !ok || a == nil {
			return nil, badArgs(req)
		}
		return e.routeDelete(a.Name)
	case dock.CmdRouteList:
		return e.routeList(), nil
	case dock.CmdStatus:
		return e.status(now), nil
	}
	return nil, dock.Errorf(dock.CodeUnknownCommand, "unknown command %q", req.Name)
}

// startPatrol checks the gates and launches a patrol of routeName now, or
// refuses (busy, unknown route, gates). entry names the schedule entry of
// a scheduled patrol.
func (e *Engine) startPatrol(now time.Time, reqID, routeName, entry string, dry bool) (any, error) {
	r, ok := e.routes[routeName]
	if !ok {
		return nil, dock.Errorf(dock.CodeInvalidArgument, "patrol: no route %q", routeName)
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
		return nil, e.blocked(now, s, g)
	}
	s.rec.ID = e.newID(dock.KindPatrol, now)
	s.mission = missionOf(r, e.opts.Flight.CruiseSpeedMPS)
	e.begin(now, s)
	return dock.PatrolResult{SortieID: s.rec.ID, ETAS: math.Round(e.launch.Estimate().Seconds())}, nil
}

// dispatch answers a dispatch: the ETA and circle from the dock, refusal
// outside the 5-minute circle, then launch, queue or divert.
func (e *Engine) dispatch(now time.Time, reqID string, a *dock.DispatchArgs) (any, error) {
	t, err := e.target("dispatch", a.Lat, a.Lon, a.AltM)
	if err != nil {
		return nil, err
	}
	target, alt := route.Point{Lat: t.Lat, Lon: t.Lon}, t.AltM
	loiter := e.opts.Flight.DefaultLoiter
	if a.LoiterS != nil {
		if !(*a.LoiterS >= 0 && *a.LoiterS <= 3600) {
			return nil, dock.Errorf(dock.CodeOutOfRange, "dispatch: loiter_s %g outside [0, 3600]", *a.LoiterS)
		}
		loiter = time.Duration(*a.LoiterS * float64(time.Second))
	}
	if a.Priority != "" && a.Priority != dock.PriorityAlarm && a.Priority != dock.PriorityRoutine {
		return nil, dock.Errorf(dock.CodeInvalidArgument, "dispatch: priority %q is not alarm or routine", a.Priority)
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
		return nil, e.blocked(now, s, g)
	}
	if !ok || circ == nil {
		return nil, &dock.Error{Code: dock.CodeOutOfRange,
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
			return nil, e.blocked(now, s, g)
		}
		s.rec.ID = e.newID(dock.KindDispatch, now)
		res.SortieID = s.rec.ID
		e.alertUsed(now, s.rec.ID)
		e.begin(now, s)
		return res, nil
	}
	if a.DryRun {
		return nil, dock.Errorf(dock.CodeBusy, "dispatch dry run: dock busy")
	}
	if len(e.queue) >= maxQueue {
		return nil, dock.Errorf(dock.CodeBusy, "dispatch: %d dispatches already queued", len(e.queue))
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
	e.alertUsed(now, s.rec.ID)
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

func (e *Engine) recallCmd(now time.Time, why string) (any, error) {
	s := e.active
	if s == nil {
		return nil, dock.Errorf(dock.CodePreconditionFailed, "recall: no sortie in flight")
	}
	if s.beforeTakeoff() {
		e.abort(now, s, why)
		return struct{}{}, nil
	}
	if !s.inFlight() {
		return nil, dock.Errorf(dock.CodePreconditionFailed, "recall: sortie %s is %s", s.rec.ID, s.rec.Phase)
	}
	e.recall(now, s, why)
	return struct{}{}, nil
}

func (e *Engine) abortCmd(now time.Time) (any, error) {
	s := e.active
	if s == nil || !s.beforeTakeoff() {
		if len(e.queue) > 0 {
			q := e.queue[0]
			e.queue = e.queue[1:]
			q.reason("abort command")
			e.finish(now, q, dock.PhaseAborted, OutcomeAborted)
			return struct{}{}, nil
		}
		if s != nil && s.inFlight() {
			// In the air an abort is a recall: the vehicle comes home and a
			// dispatch short of the scene ends not_reached.
			e.recall(now, s, "abort command")
			return struct{}{}, nil
		}
		if s != nil {
			return nil, dock.Errorf(dock.CodePreconditionFailed, "abort: sortie %s is %s", s.rec.ID, s.rec.Phase)
		}
		if e.cancelAlert(now) {
			return struct{}{}, nil
		}
		return nil, dock.Errorf(dock.CodePreconditionFailed, "abort: no sortie before take-off")
	}
	e.abort(now, s, "abort command")
	return struct{}{}, nil
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

func (e *Engine) setBattery(mode string) (any, error) {
	if mode != "ready" && mode != "storage" {
		return nil, dock.Errorf(dock.CodeInvalidArgument, "battery: mode %q is not ready or storage", mode)
	}
	if err := e.store.write(fileBattery, map[string]string{"mode": mode}); err != nil {
		return nil, &dock.Error{Code: dock.CodeInternal, Message: "battery", Err: err}
	}
	e.battery = mode
	e.log.Info("battery mode", "mode", mode)
	return struct{}{}, nil
}
