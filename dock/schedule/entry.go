package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultGrace is the grace window of an entry whose Grace is zero: how long
// after its due time a firing may still fly. It is the YAML config's
// default too (config.Schedule.Grace), so a schedule means the same
// whether it came from the file or over MQTT.
const DefaultGrace = 5 * time.Minute

// MinEvery is the shortest interval an entry may repeat at.
const MinEvery = time.Minute

// Window is a daily wall-clock window: Start and End are offsets from local
// midnight in [0, 24h). End before Start wraps past midnight ("20:00-05:00").
// Start equal to End is the whole day; the zero value is therefore 00:00 to
// 24:00.
type Window struct {
	Start, End time.Duration
}

// Len is the window's length: End - Start, plus 24h when it wraps, and
// 24h for a whole-day window.
func (w Window) Len() time.Duration {
	d := w.End - w.Start
	if d <= 0 {
		d += 24 * time.Hour
	}
	return d
}

// String formats the window as "HH:MM-HH:MM".
func (w Window) String() string {
	return clock(w.Start) + "-" + clock(w.End)
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ParseWindow parses "HH:MM-HH:MM" (24-hour clock).
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("window %q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(strings.TrimSpace(a))
	if err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	end, err := parseClock(strings.TrimSpace(b))
	if err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	return Window{Start: start, End: end}, nil
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 0, nil
		}
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Range limits an entry to the instants From..To, both inclusive; a zero
// bound is open.
type Range struct {
	From, To time.Time
}

// IsZero reports whether the range is unbounded.
func (r Range) IsZero() bool { return r.From.IsZero() && r.To.IsZero() }

// Contains reports whether t is inside the range.
func (r Range) Contains(t time.Time) bool {
	return (r.From.IsZero() || !t.Before(r.From)) && (r.To.IsZero() || !t.After(r.To))
}

// Entry is one schedule entry: which route flies when. Exactly one of
// Cron, Every and At says when:
//
//   - Cron: a standard 5-field expression or a descriptor (@hourly,
//     @daily, ...), evaluated in Zone (robfig/cron/v3 standard parser).
//   - Every: with Between, at Between.Start + k*Every each day while within
//     the window (its end included) in Zone's wall clock; with Active.From
//     and no Between, at Active.From + k*Every (event days); otherwise
//     every day from local midnight (00:00, 00:00+Every, ...).
//   - At: one-off instants.
//
// Active, when set, limits all kinds to its range. Grace is how long after
// its due time a firing may still fly (0: DefaultGrace). Zone is an IANA
// name; empty means UTC.
//
// Use Compile (DecodeEntries does) before calling Next; an Entry is an
// immutable value after Compile and safe to share.
type Entry struct {
	Name    string
	Route   string
	Cron    string
	Zone    string
	Every   time.Duration
	Between Window
	At      []time.Time
	Active  Range
	Grace   time.Duration

	loc  *time.Location
	spec *cron.SpecSchedule // Location set to UTC: evaluated on wall times
}

// FieldError names the entry (by index in its list, -1 when alone) and the
// field that is wrong.
type FieldError struct {
	Index int
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("entries[%d].%s: %v", e.Index, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// CheckCron reports whether expr is a cron expression the scheduler
// accepts. It runs the very parser Compile runs, so that config validation
// (dock-agent -check) refuses what the scheduler would refuse at start-up.
func CheckCron(expr string) error {
	_, err := parseCron(expr)
	return err
}

// parseCron parses expr with the standard 5-field parser (descriptors such
// as @daily included) into a schedule evaluated on wall times (Location
// UTC; the entry's zone is applied around it).
func parseCron(expr string) (*cron.SpecSchedule, error) {
	c := strings.TrimSpace(expr)
	if strings.HasPrefix(c, "TZ=") || strings.HasPrefix(c, "CRON_TZ=") {
		return nil, errors.New("give the time zone in time_zone, not in the expression")
	}
	s, err := cronParser.Parse(c)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w (fields: minute hour day-of-month month day-of-week; "+
			"names are three letters: JAN-DEC, SUN-SAT)", expr, err)
	}
	ss, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%q: use every for fixed intervals", expr)
	}
	cp := *ss
	cp.Location = time.UTC
	return &cp, nil
}

// Compile validates e and prepares it for Next: it loads the zone and
// parses the cron expression. Errors are *FieldError with Index -1.
func (e *Entry) Compile() error {
	bad := func(field string, err error) error { return &FieldError{Index: -1, Field: field, Err: err} }
	if strings.TrimSpace(e.Name) == "" {
		return bad("name", errors.New("missing"))
	}
	if strings.TrimSpace(e.Route) == "" {
		return bad("route", errors.New("missing"))
	}
	loc, err := time.LoadLocation(e.Zone)
	if err != nil || e.Zone == "Local" {
		return bad("time_zone", fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Berlin)", e.Zone))
	}
	kinds := 0
	for _, set := range []bool{e.Cron != "", e.Every != 0, len(e.At) > 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return bad("cron", errors.New("exactly one of cron, every and at must be given"))
	}
	var spec *cron.SpecSchedule
	switch {
	case e.Cron != "":
		s, err := parseCron(e.Cron)
		if err != nil {
			return bad("cron", err)
		}
		spec = s
	case e.Every != 0:
		if e.Every < MinEvery || e.Every > 24*time.Hour || e.Every%time.Minute != 0 {
			return bad("every", fmt.Errorf("%v: want whole minutes from 1m to 24h", e.Every))
		}
	default:
		for i, t := range e.At {
			if t.IsZero() {
				return bad(fmt.Sprintf("at[%d]", i), errors.New("missing"))
			}
		}
	}
	if e.Between != (Window{}) && e.Every == 0 {
		return bad("between", errors.New("only with every"))
	}
	for _, d := range []time.Duration{e.Between.Start, e.Between.End} {
		if d < 0 || d >= 24*time.Hour {
			return bad("between", fmt.Errorf("%v outside 00:00..23:59", d))
		}
	}
	if !e.Active.From.IsZero() && !e.Active.To.IsZero() && e.Active.To.Before(e.Active.From) {
		return bad("active", errors.New("to is before from"))
	}
	if e.Grace < 0 {
		return bad("grace", errors.New("negative"))
	}
	e.loc, e.spec = loc, spec
	e.At = slices.Clone(e.At)
	slices.SortFunc(e.At, func(a, b time.Time) int { return a.Compare(b) })
	return nil
}

// GraceOrDefault returns Grace, or DefaultGrace when it is zero.
func (e Entry) GraceOrDefault() time.Duration {
	if e.Grace == 0 {
		return DefaultGrace
	}
	return e.Grace
}

// Location returns the compiled time zone (UTC before Compile).
func (e Entry) Location() *time.Location {
	if e.loc == nil {
		return time.UTC
	}
	return e.loc
}

// Next returns the first fire time strictly after after, or the zero time
// when the entry never fires again (its active range or its one-off times
// are over) or was not compiled. Fire times follow the wall clock of the
// entry's zone; at DST changes a wall time that does not exist fires once
// at the instant of the change and a wall time that occurs twice fires
// once, at its first occurrence, so consecutive Next calls never repeat or
// go back in time and no wall time is lost.
func (e Entry) Next(after time.Time) time.Time {
	if e.loc == nil {
		return time.Time{}
	}
	if !e.Active.To.IsZero() && !after.Before(e.Active.To) {
		return time.Time{}
	}
	// Start the search just before the active range when it lies ahead.
	from := after
	if !e.Active.From.IsZero() && from.Before(e.Active.From) {
		from = e.Active.From.Add(-time.Nanosecond)
	}
	var t time.Time
	switch {
	case e.spec != nil:
		t = e.nextCron(from)
	case e.Every != 0 && e.Between == (Window{}) && !e.Active.From.IsZero():
		t = e.nextFixed(from)
	case e.Every != 0:
		t = e.nextWindow(from)
	default:
		i, _ := slices.BinarySearchFunc(e.At, from, func(a, b time.Time) int {
			if a.After(b) {
				return 1
			}
			return -1
		})
		if i < len(e.At) {
			t = e.At[i]
		}
	}
	if t.IsZero() || !e.Active.Contains(t) {
		return time.Time{}
	}
	return t.In(e.loc)
}

func (e Entry) nextCron(after time.Time) time.Time {
	w := wallOf(after, e.loc)
	// A wall time whose instant is not after `after` (second pass of a
	// repeated hour) is skipped; the loop ends within a few hours of
	// candidates for any sane expression and at robfig's 5-year horizon
	// (zero time) otherwise.
	for range 100000 {
		w = e.spec.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		if t := instant(w, e.loc); t.After(after) {
			return t
		}
	}
	return time.Time{}
}

func (e Entry) nextFixed(after time.Time) time.Time {
	from := e.Active.From
	if after.Before(from) {
		return from
	}
	k := after.Sub(from)/e.Every + 1
	return from.Add(k * e.Every)
}

func (e Entry) nextWindow(after time.Time) time.Time {
	w := wallOf(after, e.loc)
	day := time.Date(w.Year(), w.Month(), w.Day()-1, 0, 0, 0, 0, time.UTC)
	n := e.Between.Len()
	for d := range 4 {
		start := day.AddDate(0, 0, d).Add(e.Between.Start)
		for off := time.Duration(0); off <= n; off += e.Every {
			if off == 24*time.Hour {
				break // a whole-day window: that is the next day's start
			}
			c := start.Add(off)
			if c.Before(w.Add(-3 * time.Hour)) {
				continue // long before after, whatever DST does
			}
			if t := instant(c, e.loc); t.After(after) {
				return t
			}
		}
	}
	return time.Time{}
}
