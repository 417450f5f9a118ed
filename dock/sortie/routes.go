package sortie

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// loadRoutes reads the config's routes, then those stored by route.put,
// which take precedence.
func (e *Engine) loadRoutes() error {
	for name, cr := range e.opts.Routes {
		r, err := e.configRoute(name, cr)
		if err != nil {
			return fmt.Errorf("new sortie engine: route %q: %w", name, err)
		}
		e.routes[name] = r
		e.fromConfig[name] = true
	}
	stored := map[string]route.Route{}
	if !e.readState(fileRoutes, &stored) {
		stored = nil
	}
	for name, r := range stored {
		r.Name = name
		e.routes[name] = r
		delete(e.fromConfig, name)
	}
	return nil
}

func (e *Engine) configRoute(name string, cr config.Route) (route.Route, error) {
	r := route.Route{Name: name}
	if cr.PlanFile != "" {
		b, err := os.ReadFile(cr.PlanFile)
		if err != nil {
			return r, fmt.Errorf("read plan file: %w", err)
		}
		p, err := route.DecodePlan(b, e.lim)
		if err != nil {
			return r, fmt.Errorf("plan file %s: %w", cr.PlanFile, err)
		}
		r.Waypoints = p.Waypoints
		return r, nil
	}
	for _, w := range cr.Waypoints {
		alt := w.AltM
		if alt == 0 {
			alt = e.opts.Flight.PatrolAltM
		}
		r.Waypoints = append(r.Waypoints, route.Waypoint{Lat: w.Lat, Lon: w.Lon, AltM: alt, SpeedMPS: w.SpeedMPS, Hold: w.Hold})
	}
	if len(r.Waypoints) == 0 {
		return r, fmt.Errorf("no waypoints")
	}
	return r, nil
}

// storedRoutes are the routes put by command (persisted in routes.json).
func (e *Engine) storedRoutes() map[string]route.Route {
	m := map[string]route.Route{}
	for n, r := range e.routes {
		if !e.fromConfig[n] {
			m[n] = r
		}
	}
	return m
}

// RouteInfo describes a route in route.list and route.put replies.
type RouteInfo struct {
	Name       string           `json:"name"`
	Source     string           `json:"source"` // "config" or "stored"
	Waypoints  []route.Waypoint `json:"waypoints"`
	DistanceM  float64          `json:"distance_m"`
	DurationS  float64          `json:"duration_s"`
	BatteryPct float64          `json:"battery_pct"` // calm air, without reserve
}

func (e *Engine) routeInfo(r route.Route) RouteInfo {
	ri := RouteInfo{Name: r.Name, Source: "stored", Waypoints: r.Waypoints}
	if e.fromConfig[r.Name] {
		ri.Source = "config"
	}
	if est, err := e.model().Estimate(e.home, r, route.Wind{}); err == nil {
		ri.DistanceM, ri.DurationS, ri.BatteryPct = est.DistanceM, est.Duration.Seconds(), est.Pct
	}
	return ri
}

// routePut decodes, checks (geofence, battery model on a full battery in
// calm air) and stores a route.
func (e *Engine) routePut(name string, waypoints, plan json.RawMessage) (any, error) {
	if name == "" {
		return nil, dock.Errorf(dock.ErrInvalidArgument, "route.put: name: required")
	}
	var wps []route.Waypoint
	var err error
	switch {
	case len(waypoints) > 0 && len(plan) > 0:
		return nil, dock.Errorf(dock.ErrInvalidArgument, "route.put %s: give waypoints or plan, not both", name)
	case len(waypoints) > 0:
		wps, err = route.DecodeWaypoints(waypoints, e.lim)
	case len(plan) > 0:
		var p route.Plan
		p, err = route.DecodePlan(plan, e.lim)
		wps = p.Waypoints
	default:
		return nil, dock.Errorf(dock.ErrInvalidArgument, "route.put %s: waypoints or plan required", name)
	}
	if err != nil {
		return nil, &dock.Error{Kind: dock.ErrInvalidArgument, Message: "route.put " + name, Err: err}
	}
	r := route.Route{Name: name, Waypoints: wps}
	if _, err := route.Check(r, e.home, e.fence, e.model(), route.Wind{}, 100, e.opts.Limits.BatteryReservePct); err != nil {
		return nil, &dock.Error{Kind: dock.ErrInvalidArgument, Message: "route.put " + name, Err: err}
	}
	old, had := e.routes[name]
	wasConfig := e.fromConfig[name]
	e.routes[name] = r
	delete(e.fromConfig, name)
	if err := e.store.write(fileRoutes, e.storedRoutes()); err != nil {
		if had {
			e.routes[name] = old
		} else {
			delete(e.routes, name)
		}
		if wasConfig {
			e.fromConfig[name] = true
		}
		return nil, fmt.Errorf("route.put %s: %w", name, err)
	}
	e.log.Info("route stored", "route", name, "waypoints", len(wps))
	return e.routeInfo(r), nil
}

func (e *Engine) routeDelete(name string) error {
	if _, ok := e.routes[name]; !ok {
		return dock.Errorf(dock.ErrInvalidArgument, "route.delete: no route %q", name)
	}
	if e.fromConfig[name] {
		return dock.Errorf(dock.ErrPrecondition, "route.delete %s: defined in the config file; remove it there", name)
	}
	if ents := e.entriesUsing(name); len(ents) > 0 {
		return dock.Errorf(dock.ErrPrecondition, "route.delete %s: used by schedule entries %v", name, ents)
	}
	if e.active != nil && e.active.rec.Route == name {
		return dock.Errorf(dock.ErrBusy, "route.delete %s: sortie %s flies it", name, e.active.rec.ID)
	}
	r := e.routes[name]
	delete(e.routes, name)
	if err := e.store.write(fileRoutes, e.storedRoutes()); err != nil {
		e.routes[name] = r
		return fmt.Errorf("route.delete %s: %w", name, err)
	}
	e.log.Info("route deleted", "route", name)
	return nil
}

func (e *Engine) routeList() any {
	names := make([]string, 0, len(e.routes))
	for n := range e.routes {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]RouteInfo, 0, len(names))
	for _, n := range names {
		out = append(out, e.routeInfo(e.routes[n]))
	}
	return map[string]any{"routes": out}
}

// missionOf converts a route to the mission the vehicle flies: take-off to
// the first waypoint's altitude, the waypoints (with a speed item where one
// changes, holds as waypoint hold times), then return to launch.
func missionOf(r route.Route, cruise float64) []dock.MissionItem {
	alt := 0.0
	if len(r.Waypoints) > 0 {
		alt = r.Waypoints[0].AltM
	}
	items := []dock.MissionItem{{Command: dock.MissionTakeoff, AltM: alt}}
	speed := 0.0
	for _, w := range r.Waypoints {
		s := w.SpeedMPS
		if s <= 0 {
			s = cruise
		}
		if s != speed {
			items = append(items, dock.MissionItem{Command: dock.MissionSpeed, SpeedMPS: s})
			speed = s
		}
		items = append(items, dock.MissionItem{Command: dock.MissionWaypoint, Lat: w.Lat, Lon: w.Lon, AltM: w.AltM, Hold: w.Hold})
	}
	return append(items, dock.MissionItem{Command: dock.MissionReturnToLaunch})
}

// waypointSeqs returns the mission sequence numbers of the first and the
// last waypoint item and of the return item.
func waypointSeqs(items []dock.MissionItem) (first, last, rtl int) {
	first, last, rtl = -1, -1, -1
	for i, it := range items {
		switch it.Command {
		case dock.MissionWaypoint:
			if first < 0 {
				first = i
			}
			last = i
		case dock.MissionReturnToLaunch:
			rtl = i
		}
	}
	return first, last, rtl
}

// dispatchRoute is the flight of a dispatch as a route: out to the target,
// loiter, home.
func dispatchRoute(id string, t Target, loiter time.Duration) route.Route {
	return route.Route{Name: id, Waypoints: []route.Waypoint{{Lat: t.Lat, Lon: t.Lon, AltM: t.AltM, Hold: loiter}}}
}
