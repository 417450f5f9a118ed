package schedule

import "time"

// wallTime is a local wall-clock time in a time zone, kept as the same
// fields in UTC so that arithmetic on it ignores DST.
type wallTime = time.Time

// wallOf returns the wall-clock reading of t in loc as a wallTime.
func wallOf(t time.Time, loc *time.Location) wallTime {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// instant maps a wall-clock time in loc to the instant it names, with the
// DST policy of this package: a wall time that occurs twice (fall back)
// maps to its first occurrence; one that does not exist (spring forward)
// maps to the instant of the change. The mapping never decreases as w
// increases, so walking wall times in order yields instants in order.
func instant(w wallTime, loc *time.Location) time.Time {
	if loc == time.UTC {
		return w
	}
	n := w.Unix()
	var best time.Time
	var offsets [3]int
	for i, probe := range []int64{n - 86400, n, n + 86400} {
		_, offsets[i] = time.Unix(probe, 0).In(loc).Zone()
	}
	minOff := offsets[0]
	for _, off := range offsets {
		minOff = min(minOff, off)
		cand := time.Unix(n-int64(off), int64(w.Nanosecond())).In(loc)
		if _, got := cand.Zone(); got != off {
			continue
		}
		if best.IsZero() || cand.Before(best) {
			best = cand
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: n - minOff lies after the change; the change is the start
	// of the zone period in effect then.
	start, _ := time.Unix(n-int64(minOff), 0).In(loc).ZoneBounds()
	return start
}
