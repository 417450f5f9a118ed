package sortie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/schedule"
)

// loadSchedules reads the entries stored by schedule.put, or else converts
// the config's, and the last-run times of every entry.
func (e *Engine) loadSchedules() error {
	var raw json.RawMessage
	ok := e.readState(fileSchedules, &raw)
	if ok {
		ents, err := schedule.DecodeStoredEntries(raw) // maybe written by an earlier agent, with the old names
		if err != nil {
			e.log.Error("stored schedule unusable: moved aside, using the config's", "err", err)
			if qerr := e.store.quarantine(fileSchedules); qerr != nil {
				e.log.Error("damaged schedule not moved aside", "err", qerr)
			}
			ok = false
		}
		e.entries = ents
	}
	if !ok {
		for i, cs := range e.opts.Schedules {
			ent, err := entryOf(cs)
			if err != nil {
				return fmt.Errorf("new sortie engine: schedules[%d] %q: %w", i, cs.Name, err)
			}
			e.entries = append(e.entries, ent)
		}
	}
	if !e.readState(fileLastRun, &e.lastRun) || e.lastRun == nil {
		e.lastRun = map[string]time.Time{}
	}
	return nil
}

// entryOf converts a config schedule. "Local" (the default) becomes the
// system's zone by name (config.LocalZone), UTC when the system names none.
func entryOf(cs config.Schedule) (schedule.Entry, error) {
	zone := cs.TimeZone
	if zone == "Local" || zone == "" {
		zone = config.LocalZone()
	}
	ent := schedule.Entry{Name: cs.Name, Route: cs.Route, Cron: cs.Cron, Zone: zone, Every: cs.Every, At: cs.At, Grace: cs.Grace}
	if cs.Between != "" {
		w, err := schedule.ParseWindow(cs.Between)
		if err != nil {
			return ent, fmt.Errorf("between: %w", err)
		}
		ent.Between = w
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return ent, fmt.Errorf("time_zone: %w", err)
	}
	if cs.Active != nil {
		from, err := activeBound(cs.Active.From, loc, false)
		if err != nil {
			return ent, fmt.Errorf("active.from: %w", err)
		}
		to, err := activeBound(cs.Active.To, loc, true)
		if err != nil {
			return ent, fmt.Errorf("active.to: %w", err)
		}
		ent.Active = schedule.Range{From: from, To: to}
	}
	if err := ent.Compile(); err != nil {
		return ent, err
	}
	return ent, nil
}

// activeBound parses a date (the whole day: its start, or its last
// instant when end) or an RFC 3339 time; empty is open.
func activeBound(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if end {
			return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
		}
		return d, nil
	}
	return time.Parse(time.RFC3339, s)
}

func (e *Engine) entriesUsing(routeName string) []string {
	e.schedMu.Lock()
	defer e.schedMu.Unlock()
	var out []string
	for _, ent := range e.entries {
		if ent.Route == routeName {
			out = append(out, ent.Name)
		}
	}
	return out
}

// ScheduleList is the result of schedule.list and schedule.put.
type ScheduleList struct {
	Entries []schedule.Entry `json:"entries"`
	Next    []schedule.Fire  `json:"next"`
}

const upcomingN = 10

func (e *Engine) scheduleList(now time.Time) ScheduleList {
	e.schedMu.Lock()
	ents := append([]schedule.Entry(nil), e.entries...)
	e.schedMu.Unlock()
	if ents == nil {
		ents = []schedule.Entry{}
	}
	next := schedule.Upcoming(ents, now, upcomingN)
	if next == nil {
		next = []schedule.Fire{}
	}
	return ScheduleList{Entries: ents, Next: next}
}

// schedulePut runs in the caller's goroutine, not the loop: the scheduler
// may be waiting on the loop in a launch, so the loop must never wait on
// the scheduler.
func (e *Engine) schedulePut(ctx context.Context, entries json.RawMessage) (any, error) {
	ents, err := schedule.DecodeEntries(entries)
	if err != nil {
		return nil, &dock.Error{Kind: dock.ErrInvalidArgument, Message: "schedule.put", Err: err}
	}
	var missing []string
	if err := e.do(ctx, func(time.Time) {
		for _, ent := range ents {
			if _, ok := e.routes[ent.Route]; !ok {
				missing = append(missing, fmt.Sprintf("%s: unknown route %q", ent.Name, ent.Route))
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("schedule.put: %w", err)
	}
	if len(missing) > 0 {
		return nil, dock.Errorf(dock.ErrInvalidArgument, "schedule.put: %v", missing)
	}
	if err := e.store.write(fileSchedules, ents); err != nil {
		return nil, fmt.Errorf("schedule.put: %w", err)
	}
	if err := e.sched.SetEntries(ctx, ents); err != nil {
		return nil, fmt.Errorf("schedule.put: %w", err)
	}
	e.schedMu.Lock()
	e.entries = ents
	e.schedMu.Unlock()
	e.log.Info("schedule replaced", "entries", len(ents))
	return e.scheduleList(e.clock.Now()), nil
}

// noteRun persists the due time of a firing launched or missed, so a
// restart catches up from it (schedule.Options.LastRun).
func (e *Engine) noteRun(entry string, due time.Time) {
	e.schedMu.Lock()
	defer e.schedMu.Unlock()
	if due.After(e.lastRun[entry]) {
		e.lastRun[entry] = due
	}
	if err := e.store.write(fileLastRun, maps.Clone(e.lastRun)); err != nil {
		e.log.Error("schedule last run not stored", "entry", entry, "err", err)
	}
}

// scheduledLaunch is the scheduler's LaunchFunc: it starts a patrol of the
// firing's route now or says why not (gates, busy).
func (e *Engine) scheduledLaunch(ctx context.Context, f schedule.Firing) error {
	var err error
	if derr := e.do(ctx, func(now time.Time) {
		_, err = e.startPatrol(now, "", f.Route, f.Entry, false)
	}); derr != nil {
		return fmt.Errorf("launch %s: %w", f.Entry, derr)
	}
	if err == nil {
		e.noteRun(f.Entry, f.Due)
	}
	return err
}

// scheduleMissed is the scheduler's MissedFunc: the schedule.missed event.
func (e *Engine) scheduleMissed(m schedule.Missed) {
	f := map[string]any{
		"entry": m.Entry, "route": m.Route, "due": m.Due, "reason": m.Reason,
		"attempts": m.Attempts, "count": m.Count,
	}
	var ge *dock.GateError
	if errors.As(m.Err, &ge) {
		f["gates"] = ge.Gates
	}
	e.log.Warn("scheduled patrol missed", "entry", m.Entry, "due", m.Due, "reason", m.Reason)
	e.emit(dock.EventScheduleMissed, e.clock.Now(), f)
	e.noteRun(m.Entry, m.Due)
}
