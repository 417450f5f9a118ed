package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// ParseBetween parses a daily window "HH:MM-HH:MM" into offsets from
// midnight. end may be before start: the window crosses midnight
// ("20:00-05:00").
func ParseBetween(s string) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a window like 20:00-05:00", s)
	}
	if start, err = parseClock(strings.TrimSpace(a)); err == nil {
		end, err = parseClock(strings.TrimSpace(b))
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not a window like 20:00-05:00: %w", s, err)
	}
	if start == end {
		return 0, 0, fmt.Errorf("%q is an empty window (leave between out for all day)", s)
	}
	return start, end, nil
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Location loads TimeZone ("Local" when empty).
func (s Schedule) Location() (*time.Location, error) {
	name := s.TimeZone
	if name == "" {
		name = "Local"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	return loc, nil
}

// Bounds returns the active range in loc as [from, to): a date bound
// covers its whole day. A zero time is an open end.
func (a Active) Bounds(loc *time.Location) (from, to time.Time, err error) {
	if a.From != "" {
		if from, _, err = parseBound(a.From, loc); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if a.To != "" {
		var isDate bool
		if to, isDate, err = parseBound(a.To, loc); err != nil {
			return time.Time{}, time.Time{}, err
		}
		if isDate {
			to = to.AddDate(0, 0, 1)
		}
	}
	return from, to, nil
}

func parseBound(s string, loc *time.Location) (t time.Time, isDate bool, err error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is neither a date (2026-12-05) nor an RFC 3339 time", s)
}

// checkCron checks a cron expression lightly: five fields of the
// characters cron uses. The scheduler parses it fully.
func checkCron(s string) error {
	f := strings.Fields(s)
	if len(f) != 5 {
		return fmt.Errorf("%q has %d fields, want 5 (minute hour day-of-month month day-of-week)", s, len(f))
	}
	for _, field := range f {
		for _, r := range field {
			if !strings.ContainsRune("0123456789*,-/?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", r) {
				return fmt.Errorf("%q: field %q has %q, not a cron character", s, field, r)
			}
		}
	}
	return nil
}

// LocalZone returns the IANA name of the system's time zone, for a
// schedule whose time_zone is "Local": from $TZ, the /etc/localtime link
// (/usr/share/zoneinfo/Asia/Shanghai) or /etc/timezone; "UTC" when none
// names a zone this system knows. Schedules store a zone by name, so
// "Local" must become one.
func LocalZone() string { return localZone(os.Getenv("TZ"), "/etc/localtime", "/etc/timezone") }

func localZone(tz, localtime, timezone string) string {
	known := func(name string) bool {
		if name == "" || name == "Local" || strings.HasPrefix(name, "/") {
			return false
		}
		_, err := time.LoadLocation(name)
		return err == nil
	}
	if name := strings.TrimPrefix(tz, ":"); known(name) {
		return name
	}
	if target, err := os.Readlink(localtime); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok && known(name) {
			return name
		}
	}
	if b, err := os.ReadFile(timezone); err == nil {
		if name := strings.TrimSpace(string(b)); known(name) {
			return name
		}
	}
	return "UTC"
}
