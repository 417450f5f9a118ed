package schedule

import (
	"fmt"
	"testing"
	"time"
)

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("load Europe/Berlin: %v", err)
	}
	return loc
}

// fires returns up to n fire times of e after from, as RFC 3339 strings in
// UTC for readable failures.
func fires(e Entry, from time.Time, n int) []string {
	var out []string
	t := from
	for range n {
		t = e.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t.UTC().Format("2006-01-02T15:04Z"))
	}
	return out
}

func compiled(t *testing.T, e Entry) Entry {
	t.Helper()
	if e.Name == "" {
		e.Name, e.Route = "test", "r"
	}
	if err := e.Compile(); err != nil {
		t.Fatalf("Compile(%+v) = %v", e, err)
	}
	return e
}

func TestNext(t *testing.T) {
	loc := berlin(t)
	at := func(s string) time.Time {
		tt, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	tests := []struct {
		name  string
		entry Entry
		from  time.Time
		n     int
		want  []string
	}{
		{"cron every 2h in Berlin winter", Entry{Cron: "0 */2 * * *", Zone: "Europe/Berlin"}, at("2026-12-05 19:30"), 3,
			[]string{"2026-12-05T19:00Z", "2026-12-05T21:00Z", "2026-12-05T23:00Z"}},
		{"cron hourly descriptor in UTC", Entry{Cron: "@hourly"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 2,
			[]string{"2026-01-01T01:00Z", "2026-01-01T02:00Z"}},
		// Spring forward 2026-03-29: 02:00 CET -> 03:00 CEST (01:00Z).
		{"cron 02:30 on spring forward fires at the change", Entry{Cron: "30 2 * * *", Zone: "Europe/Berlin"}, at("2026-03-28 12:00"), 3,
			[]string{"2026-03-29T01:00Z", "2026-03-30T00:30Z", "2026-03-31T00:30Z"}},
		{"cron every 30 min across spring forward", Entry{Cron: "*/30 * * * *", Zone: "Europe/Berlin"}, at("2026-03-29 01:00"), 4,
			[]string{"2026-03-29T00:30Z", "2026-03-29T01:00Z", "2026-03-29T01:30Z", "2026-03-29T02:00Z"}},
		// Fall back 2026-10-25: 03:00 CEST -> 02:00 CET (01:00Z); 02:xx occurs twice.
		{"cron 02:30 on fall back fires once", Entry{Cron: "30 2 * * *", Zone: "Europe/Berlin"}, at("2026-10-24 12:00"), 2,
			[]string{"2026-10-25T00:30Z", "2026-10-26T01:30Z"}},
		{"cron every 30 min across fall back", Entry{Cron: "*/30 * * * *", Zone: "Europe/Berlin"}, time.Date(2026, 10, 24, 23, 45, 0, 0, time.UTC), 5,
			[]string{"2026-10-25T00:00Z", "2026-10-25T00:30Z", "2026-10-25T02:00Z", "2026-10-25T02:30Z", "2026-10-25T03:00Z"}},
		{"cron from the second pass of the repeated hour", Entry{Cron: "*/30 * * * *", Zone: "Europe/Berlin"}, time.Date(2026, 10, 25, 1, 10, 0, 0, time.UTC), 2,
			[]string{"2026-10-25T02:00Z", "2026-10-25T02:30Z"}},
		{"window across midnight", Entry{Every: 2 * time.Hour, Between: Window{20 * time.Hour, 5 * time.Hour}, Zone: "Europe/Berlin"}, at("2026-12-05 12:00"), 6,
			[]string{"2026-12-05T19:00Z", "2026-12-05T21:00Z", "2026-12-05T23:00Z", "2026-12-06T01:00Z", "2026-12-06T03:00Z", "2026-12-06T19:00Z"}},
		{"window from inside the night", Entry{Every: 2 * time.Hour, Between: Window{20 * time.Hour, 5 * time.Hour}, Zone: "Europe/Berlin"}, at("2026-12-06 01:00"), 2,
			[]string{"2026-12-06T01:00Z", "2026-12-06T03:00Z"}},
		{"window end included", Entry{Every: 30 * time.Minute, Between: Window{11 * time.Hour, 12 * time.Hour}}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 4,
			[]string{"2026-06-01T11:00Z", "2026-06-01T11:30Z", "2026-06-01T12:00Z", "2026-06-02T11:00Z"}},
		// Night of 2026-03-28/29: 02:00 does not exist and fires at the change.
		{"window on spring forward night", Entry{Every: time.Hour, Between: Window{time.Hour, 4 * time.Hour}, Zone: "Europe/Berlin"}, at("2026-03-29 00:00"), 4,
			[]string{"2026-03-29T00:00Z", "2026-03-29T01:00Z", "2026-03-29T02:00Z", "2026-03-29T23:00Z"}},
		{"window on fall back night", Entry{Every: time.Hour, Between: Window{time.Hour, 4 * time.Hour}, Zone: "Europe/Berlin"}, at("2026-10-25 00:00"), 4,
			[]string{"2026-10-24T23:00Z", "2026-10-25T00:00Z", "2026-10-25T02:00Z", "2026-10-25T03:00Z"}},
		{"every from midnight", Entry{Every: 7 * time.Hour}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 4,
			[]string{"2026-06-01T07:00Z", "2026-06-01T14:00Z", "2026-06-01T21:00Z", "2026-06-02T00:00Z"}},
		{"event day range", Entry{Every: 30 * time.Minute, Zone: "Europe/Berlin", Active: Range{at("2026-12-05 16:00"), at("2026-12-05 17:00")}}, at("2026-12-01 00:00"), 5,
			[]string{"2026-12-05T15:00Z", "2026-12-05T15:30Z", "2026-12-05T16:00Z"}},
		{"event day range from inside", Entry{Every: 30 * time.Minute, Zone: "Europe/Berlin", Active: Range{at("2026-12-05 16:00"), at("2026-12-05 17:00")}}, at("2026-12-05 16:10"), 5,
			[]string{"2026-12-05T15:30Z", "2026-12-05T16:00Z"}},
		{"cron limited by active", Entry{Cron: "0 * * * *", Active: Range{time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC)}}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 5,
			[]string{"2026-01-02T00:00Z", "2026-01-02T01:00Z", "2026-01-02T02:00Z"}},
		{"one-off times sorted", Entry{At: []time.Time{at("2026-12-05 18:00"), at("2026-12-05 16:00")}}, at("2026-12-05 00:00"), 3,
			[]string{"2026-12-05T15:00Z", "2026-12-05T17:00Z"}},
		{"one-off in the past", Entry{At: []time.Time{at("2026-12-05 18:00")}}, at("2026-12-06 00:00"), 1, nil},
		{"never: 30 February", Entry{Cron: "0 0 30 2 *"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := compiled(t, tt.entry)
			got := fires(e, tt.from, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("fires = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("fires = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// Over a whole year in Berlin, every 15 minutes by cron and by window: fire
// times strictly increase (no duplicates) and every wall-clock slot of the
// year fires (none lost), minus the slots that collapse into the spring
// change.
func TestNextYearNoDuplicatesNoneLost(t *testing.T) {
	loc := berlin(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	for _, e := range []Entry{
		compiled(t, Entry{Cron: "*/15 * * * *", Zone: "Europe/Berlin"}),
		compiled(t, Entry{Every: 15 * time.Minute, Zone: "Europe/Berlin"}),
	} {
		t.Run(fmt.Sprintf("cron %q every %v", e.Cron, e.Every), func(t *testing.T) {
			n := 0
			prev := start.Add(-time.Nanosecond)
			for tt := e.Next(prev); tt.Before(end); tt = e.Next(tt) {
				if !tt.After(prev) {
					t.Fatalf("Next(%v) = %v, not after", prev, tt)
				}
				prev = tt
				n++
			}
			// 365 days * 96 slots; the spring change collapses 02:00..02:45
			// and 03:00 into one firing (-4), the fall change fires 02:xx once.
			if want := 365*96 - 4; n != want {
				t.Errorf("%d firings in 2026, want %d", n, want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		field string
	}{
		{"no name", Entry{Route: "r", Cron: "@daily"}, "name"},
		{"no route", Entry{Name: "n", Cron: "@daily"}, "route"},
		{"bad zone", Entry{Name: "n", Route: "r", Cron: "@daily", Zone: "Europe/Berln"}, "time_zone"},
		{"two kinds", Entry{Name: "n", Route: "r", Cron: "@daily", Every: time.Hour}, "cron"},
		{"no kind", Entry{Name: "n", Route: "r"}, "cron"},
		{"bad cron", Entry{Name: "n", Route: "r", Cron: "61 * * * *"}, "cron"},
		{"seconds field", Entry{Name: "n", Route: "r", Cron: "0 0 * * * *"}, "cron"},
		{"@every", Entry{Name: "n", Route: "r", Cron: "@every 1h"}, "cron"},
		{"tz in cron", Entry{Name: "n", Route: "r", Cron: "CRON_TZ=UTC 0 * * * *"}, "cron"},
		{"every too short", Entry{Name: "n", Route: "r", Every: 30 * time.Second}, "every"},
		{"between without every", Entry{Name: "n", Route: "r", Cron: "@daily", Between: Window{time.Hour, 2 * time.Hour}}, "between"},
		{"active reversed", Entry{Name: "n", Route: "r", Cron: "@daily", Active: Range{time.Unix(2, 0), time.Unix(1, 0)}}, "active"},
		{"negative grace", Entry{Name: "n", Route: "r", Cron: "@daily", Grace: -1}, "grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entry.Compile()
			fe, ok := err.(*FieldError)
			if !ok || fe.Field != tt.field {
				t.Errorf("Compile() = %v, want *FieldError on %s", err, tt.field)
			}
		})
	}
}
