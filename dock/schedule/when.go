package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// When is the result of ParseWhen: the fields of an Entry it sets.
type When struct {
	Every   time.Duration
	Between Window
	Active  Range
}

// ParseWhen parses the human form of an interval schedule, clauses in any
// order, case-insensitive:
//
//	every 2h between 20:00 and 05:00
//	2026-12-05 16:00 to 2026-12-05 23:00 every 30m
//	from 2026-12-05 16:00 to 2026-12-05 23:00 every 30m between 16:00 and 23:00
//
// "every D" (a Go duration in whole minutes, 1m..24h) is required;
// "between HH:MM and HH:MM" sets the daily window; "[from] DATE TIME to
// DATE TIME" sets the active range, read in loc.
func ParseWhen(s string, loc *time.Location) (When, error) {
	f := strings.Fields(strings.ToLower(s))
	var w When
	seen := map[string]bool{}
	once := func(clause string) error {
		if seen[clause] {
			return fmt.Errorf("%q: %q given twice", s, clause)
		}
		seen[clause] = true
		return nil
	}
	for i := 0; i < len(f); {
		switch {
		case f[i] == "every":
			if err := once("every"); err != nil {
				return When{}, err
			}
			if i+1 >= len(f) {
				return When{}, fmt.Errorf("%q: every needs a duration such as 30m or 2h", s)
			}
			d, err := time.ParseDuration(f[i+1])
			if err != nil || d < MinEvery || d > 24*time.Hour || d%time.Minute != 0 {
				return When{}, fmt.Errorf("%q: every %q: want whole minutes from 1m to 24h", s, f[i+1])
			}
			w.Every = d
			i += 2
		case f[i] == "between":
			if err := once("between"); err != nil {
				return When{}, err
			}
			if i+3 >= len(f) || f[i+2] != "and" {
				return When{}, fmt.Errorf("%q: want between HH:MM and HH:MM", s)
			}
			a, errA := parseClock(f[i+1])
			b, errB := parseClock(f[i+3])
			if err := errors.Join(errA, errB); err != nil {
				return When{}, fmt.Errorf("%q: %w", s, err)
			}
			w.Between = Window{Start: a, End: b}
			i += 4
		default:
			if err := once("range"); err != nil {
				return When{}, err
			}
			if f[i] == "from" {
				i++
			}
			if i+4 >= len(f) || f[i+2] != "to" {
				return When{}, fmt.Errorf("%q: unexpected %q: want every, between or YYYY-MM-DD HH:MM to YYYY-MM-DD HH:MM", s, strings.Join(f[i:], " "))
			}
			from, err := parseTime(f[i]+" "+f[i+1], loc)
			if err != nil {
				return When{}, fmt.Errorf("%q: %w", s, err)
			}
			to, err := parseTime(f[i+3]+" "+f[i+4], loc)
			if err != nil {
				return When{}, fmt.Errorf("%q: %w", s, err)
			}
			if to.Before(from) {
				return When{}, fmt.Errorf("%q: range ends before it starts", s)
			}
			w.Active = Range{From: from, To: to}
			i += 5
		}
	}
	if w.Every == 0 {
		return When{}, fmt.Errorf("%q: missing every D (e.g. every 30m)", s)
	}
	return w, nil
}
