package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jonboulle/clockwork"
)

// Default Scheduler settings.
const (
	DefaultRetry      = 30 * time.Second
	DefaultMaxCatchUp = 100

	// maxSleep bounds every wait of Run so that a step of the system clock
	// (NTP synchronising after boot) delays a firing by at most this much:
	// clock timers run on elapsed time, fire times are wall-clock instants.
	maxSleep = time.Minute
)

// Reasons of Missed firings decided by the Scheduler itself (a Launch
// error's text is the reason otherwise).
const (
	ReasonAgentDown  = "agent not running at the due time"
	ReasonSuperseded = "superseded by the entry's next firing"
	ReasonRemoved    = "entry removed or replaced"
)

// Firing is one due fire time handed to LaunchFunc.
type Firing struct {
	Entry    string
	Route    string
	Due      time.Time // the fire time
	Deadline time.Time // Due + grace: the last moment it may still start
	Attempt  int       // 1 for the first try
	// CatchUp is true for a firing that came due while the agent was not
	// running and is still inside its grace window.
	CatchUp bool
}

// Missed is a firing that did not fly: the `schedule.missed` event.
type Missed struct {
	Entry    string
	Route    string
	Due      time.Time
	Reason   string // the last LaunchFunc error's text, or one of the Reason constants
	Err      error  // the last LaunchFunc error (e.g. the engine's gate error), if any
	Attempts int    // LaunchFunc calls made for it
	// Count is 1, or for a catch-up summary the number of firings from Due
	// on that were missed while the agent was down (see MaxCatchUp).
	Count int
}

// LaunchFunc tries to start the sortie of f now. It returns nil when the
// sortie was accepted (the Scheduler forgets the firing), or an error
// saying why it cannot fly now (weather, battery, e-stop, busy): the
// firing is retried until its deadline and then reported as Missed with
// that error's text. It is called from the Scheduler's goroutine and must
// return promptly (within ctx).
type LaunchFunc func(ctx context.Context, f Firing) error

// MissedFunc reports a firing that will not fly. Called from the
// Scheduler's goroutine; it must not block (queue the event).
type MissedFunc func(m Missed)

// Options configure a Scheduler. Zero fields take the defaults named.
type Options struct {
	Clock   clockwork.Clock // required
	Entries []Entry         // compiled entries (DecodeEntries); more via SetEntries
	// LastRun holds, per entry name, the due time of the last firing that
	// was launched or reported missed before the agent stopped (the caller
	// persists Firing.Due on a nil LaunchFunc and Missed.Due). Fire times
	// after it that passed while the agent was down are caught up when Run
	// starts: run if still within grace, else reported missed. Entries
	// without a LastRun start from now.
	LastRun    map[string]time.Time
	Retry      time.Duration // between attempts within grace; 0: DefaultRetry
	MaxCatchUp int           // missed firings reported one by one per entry before a summary; 0: DefaultMaxCatchUp
	Logger     *slog.Logger  // nil: discard
}

// Scheduler hands due firings of its entries to a LaunchFunc and reports
// each firing that could not fly within its grace window to a MissedFunc.
// Policy: a firing is tried at its due time and then every Retry until
// Due + grace; if it still could not fly it is Missed with the last
// reason. When an entry's next firing comes due while an earlier one is
// still being retried, the earlier one is Missed (ReasonSuperseded). No
// firing is dropped without a Missed, also not across restarts (LastRun)
// or when entries are replaced: the caller persists the due time of every
// firing it launched or was told was missed, and passes them as LastRun.
//
// Create with NewScheduler, then call Run once; SetEntries is safe from any
// goroutine.
type Scheduler struct {
	clock    clockwork.Clock
	retry    time.Duration
	maxCatch int
	log      *slog.Logger
	launch   LaunchFunc
	missed   MissedFunc

	set chan setRequest

	// Owned by Run.
	initial []Entry
	lastRun map[string]time.Time
	slots   map[string]*slot
}

type setRequest struct {
	entries []Entry
	done    chan struct{}
}

type slot struct {
	e       Entry
	next    time.Time // next due not yet handled; zero: never
	pending *pending
}

type pending struct {
	f       Firing
	retryAt time.Time
	lastErr error
}

// NewScheduler returns a Scheduler; launch and missed are required.
func NewScheduler(opts Options, launch LaunchFunc, missed MissedFunc) (*Scheduler, error) {
	if opts.Clock == nil || launch == nil || missed == nil {
		return nil, errors.New("new scheduler: Clock, launch and missed are required")
	}
	if err := checkEntries(opts.Entries); err != nil {
		return nil, fmt.Errorf("new scheduler: %w", err)
	}
	s := &Scheduler{
		clock: opts.Clock, retry: opts.Retry, maxCatch: opts.MaxCatchUp, log: opts.Logger,
		launch: launch, missed: missed,
		initial: slices.Clone(opts.Entries), lastRun: opts.LastRun,
		set: make(chan setRequest), slots: map[string]*slot{},
	}
	if s.retry <= 0 {
		s.retry = DefaultRetry
	}
	if s.maxCatch <= 0 {
		s.maxCatch = DefaultMaxCatchUp
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// SetEntries replaces the entries (schedule.put) and returns once Run has
// applied them, or with ctx's error. Entries whose name and definition are
// unchanged keep their state; a pending firing of an entry removed or
// changed is reported Missed (ReasonRemoved); new or changed entries start
// from now. Safe from any goroutine while Run runs.
func (s *Scheduler) SetEntries(ctx context.Context, entries []Entry) error {
	if err := checkEntries(entries); err != nil {
		return fmt.Errorf("set schedule entries: %w", err)
	}
	req := setRequest{entries: slices.Clone(entries), done: make(chan struct{})}
	select {
	case s.set <- req:
	case <-ctx.Done():
		return fmt.Errorf("set schedule entries: %w", ctx.Err())
	}
	select {
	case <-req.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("set schedule entries: %w", ctx.Err())
	}
}

// Run hands out firings until ctx ends and returns nil. Firings still being
// retried then are not reported: their due time is after the caller's
// LastRun, so the next start catches them up (run within grace, else
// Missed with ReasonAgentDown), exactly as after a crash.
func (s *Scheduler) Run(ctx context.Context) error {
	s.apply(s.clock.Now(), s.initial, s.lastRun)
	s.initial, s.lastRun = nil, nil
	for {
		now := s.clock.Now()
		s.step(ctx, now)
		sleep := maxSleep
		if wake, ok := s.nextWake(); ok {
			sleep = min(max(wake.Sub(now), 0), maxSleep)
		}
		timer := s.clock.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.Chan():
		case req := <-s.set:
			timer.Stop()
			s.apply(s.clock.Now(), req.entries, nil)
			close(req.done)
		}
	}
}

// apply installs entries: the initial ones with catch-up from lastRun, or
// those of SetEntries.
func (s *Scheduler) apply(now time.Time, entries []Entry, lastRun map[string]time.Time) {
	keep := make(map[string]*slot, len(entries))
	for _, e := range entries {
		if old, ok := s.slots[e.Name]; ok && sameEntry(old.e, e) {
			keep[e.Name] = old
			continue
		}
		sl := &slot{e: e, next: e.Next(now.Add(-time.Nanosecond))}
		if last, ok := lastRun[e.Name]; ok && !last.IsZero() {
			s.catchUp(sl, last, now)
		}
		keep[e.Name] = sl
	}
	for _, old := range s.sorted() {
		if keep[old.e.Name] != old && old.pending != nil {
			s.miss(old, old.pending, ReasonRemoved)
		}
	}
	s.slots = keep
}

// checkEntries refuses entries that were not compiled and duplicate
// names, which would silently shadow each other.
func checkEntries(entries []Entry) error {
	seen := make(map[string]int, len(entries))
	for i, e := range entries {
		if e.loc == nil {
			return fmt.Errorf("entry %d (%q) not compiled", i, e.Name)
		}
		if j, dup := seen[e.Name]; dup {
			return fmt.Errorf("entries %d and %d both named %q", j, i, e.Name)
		}
		seen[e.Name] = i
	}
	return nil
}

func sameEntry(a, b Entry) bool {
	ja, errA := a.MarshalJSON()
	jb, errB := b.MarshalJSON()
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// catchUp walks the fire times after last up to now: those past their
// grace are Missed (ReasonAgentDown), the latest one still inside grace
// becomes pending; sl.next continues after now.
func (s *Scheduler) catchUp(sl *slot, last, now time.Time) {
	grace := sl.e.GraceOrDefault()
	reported, more := 0, 0
	var firstMore, inGrace time.Time
	for t := sl.e.Next(last); !t.IsZero() && !t.After(now); t = sl.e.Next(t) {
		if !now.After(t.Add(grace)) {
			if !inGrace.IsZero() {
				s.missed(Missed{Entry: sl.e.Name, Route: sl.e.Route, Due: inGrace, Reason: ReasonSuperseded, Count: 1})
			}
			inGrace = t
			continue
		}
		if reported < s.maxCatch {
			reported++
			s.missed(Missed{Entry: sl.e.Name, Route: sl.e.Route, Due: t, Reason: ReasonAgentDown, Count: 1})
			continue
		}
		// Summarise the rest in one report rather than flooding.
		if more == 0 {
			firstMore = t
		}
		more++
	}
	if more > 0 {
		s.missed(Missed{Entry: sl.e.Name, Route: sl.e.Route, Due: firstMore, Reason: ReasonAgentDown, Count: more})
	}
	if reported+more > 0 {
		s.log.Warn("schedule firings missed while down", "entry", sl.e.Name, "count", reported+more)
	}
	if !inGrace.IsZero() {
		sl.pending = &pending{f: Firing{Entry: sl.e.Name, Route: sl.e.Route, Due: inGrace, Deadline: inGrace.Add(grace), CatchUp: true}, retryAt: now}
	}
	sl.next = sl.e.Next(now)
}

// step moves due fire times to pending and makes the attempts due now.
func (s *Scheduler) step(ctx context.Context, now time.Time) {
	for _, sl := range s.sorted() {
		for !sl.next.IsZero() && !sl.next.After(now) {
			if sl.pending != nil {
				s.miss(sl, sl.pending, ReasonSuperseded)
			}
			g := sl.e.GraceOrDefault()
			sl.pending = &pending{f: Firing{Entry: sl.e.Name, Route: sl.e.Route, Due: sl.next, Deadline: sl.next.Add(g)}, retryAt: sl.next}
			sl.next = sl.e.Next(sl.next)
		}
		p := sl.pending
		if p == nil || p.retryAt.After(now) {
			continue
		}
		if now.After(p.f.Deadline) {
			s.miss(sl, p, reason(p.lastErr, "not attempted within the grace window"))
			continue
		}
		p.f.Attempt++
		err := s.launch(ctx, p.f)
		if err == nil {
			s.log.Info("scheduled sortie launched", "entry", p.f.Entry, "route", p.f.Route, "due", p.f.Due, "attempt", p.f.Attempt)
			sl.pending = nil
			continue
		}
		if p.lastErr == nil || p.lastErr.Error() != err.Error() {
			s.log.Warn("scheduled sortie cannot fly yet", "entry", p.f.Entry, "due", p.f.Due, "attempt", p.f.Attempt, "err", err)
		}
		p.lastErr = err
		if !now.Before(p.f.Deadline) {
			s.miss(sl, p, err.Error())
			continue
		}
		p.retryAt = now.Add(s.retry)
		if p.retryAt.After(p.f.Deadline) {
			p.retryAt = p.f.Deadline
		}
	}
}

func reason(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
}

func (s *Scheduler) miss(sl *slot, p *pending, why string) {
	if why == ReasonSuperseded && p.lastErr != nil {
		why += " (last: " + p.lastErr.Error() + ")"
	}
	s.log.Warn("scheduled sortie missed", "entry", p.f.Entry, "due", p.f.Due, "reason", why, "attempts", p.f.Attempt)
	s.missed(Missed{Entry: p.f.Entry, Route: p.f.Route, Due: p.f.Due, Reason: why, Err: p.lastErr, Attempts: p.f.Attempt, Count: 1})
	if sl.pending == p {
		sl.pending = nil
	}
}

func (s *Scheduler) nextWake() (time.Time, bool) {
	var w time.Time
	for _, sl := range s.slots {
		for _, t := range []time.Time{sl.next, pendingAt(sl.pending)} {
			if !t.IsZero() && (w.IsZero() || t.Before(w)) {
				w = t
			}
		}
	}
	return w, !w.IsZero()
}

func pendingAt(p *pending) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.retryAt
}

// sorted returns the slots ordered by name, so that simultaneous firings
// are tried in a stable order.
func (s *Scheduler) sorted() []*slot {
	out := make([]*slot, 0, len(s.slots))
	for _, sl := range s.slots {
		out = append(out, sl)
	}
	slices.SortFunc(out, func(a, b *slot) int {
		switch {
		case a.e.Name < b.e.Name:
			return -1
		case a.e.Name > b.e.Name:
			return 1
		}
		return 0
	})
	return out
}
