package schedule

import (
	"slices"
	"time"
)

// Fire is one upcoming fire time of an entry.
type Fire struct {
	Entry string    `json:"entry"`
	Route string    `json:"route"`
	At    time.Time `json:"at"`
}

// Upcoming lists the next n fire times after now across all entries, in
// time order (ties by entry name), for `schedule.list`. Entries that never
// fire again contribute nothing.
func Upcoming(entries []Entry, now time.Time, n int) []Fire {
	if n <= 0 {
		return nil
	}
	var out []Fire
	for _, e := range entries {
		t := now
		for range n {
			t = e.Next(t)
			if t.IsZero() {
				break
			}
			out = append(out, Fire{Entry: e.Name, Route: e.Route, At: t})
		}
	}
	slices.SortFunc(out, func(a, b Fire) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if a.Entry < b.Entry {
			return -1
		}
		if a.Entry > b.Entry {
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))]
}
