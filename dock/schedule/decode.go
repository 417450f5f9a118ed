package schedule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// entryJSON is the wire form of an Entry in `schedule.put` and
// `schedule.list`.
type entryJSON struct {
	Name    string      `json:"name"`
	Route   string      `json:"route"`
	When    string      `json:"when,omitempty"`
	Cron    string      `json:"cron,omitempty"`
	Zone    string      `json:"zone,omitempty"`
	EveryS  *float64    `json:"every_s,omitempty"`
	Between string      `json:"between,omitempty"`
	At      []string    `json:"at,omitempty"`
	Active  *activeJSON `json:"active,omitempty"`
	GraceS  *float64    `json:"grace_s,omitempty"`
}

type activeJSON struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// MaxEntries bounds one `schedule.put`.
const MaxEntries = 200

// DecodeEntries decodes and compiles the `entries` array of
// `schedule.put`. Each entry is an object:
//
//	{"name":"oldtown-night","route":"oldtown","zone":"Europe/Berlin",
//	 "cron":"0 */2 * * *" | "every_s":7200,"between":"20:00-05:00" |
//	 "at":["2026-12-05T16:00:00+01:00","2026-12-05 18:00"] |
//	 "when":"every 2h between 20:00 and 05:00",
//	 "active":{"from":"2026-12-05 16:00","to":"2026-12-05 23:00"},
//	 "grace_s":600}
//
// Times are RFC 3339 or "YYYY-MM-DD HH:MM" in the entry's zone. "when" is
// the human form of ParseWhen and excludes every_s, between and active.
// Decoding is strict: unknown fields, trailing data, duplicate names and
// invalid values are errors naming the entry and field (*FieldError).
func DecodeEntries(raw json.RawMessage) ([]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in []entryJSON
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("decode schedule entries: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode schedule entries: trailing data after the array")
	}
	if in == nil {
		return nil, errors.New("decode schedule entries: want an array")
	}
	if len(in) > MaxEntries {
		return nil, fmt.Errorf("decode schedule entries: %d entries, at most %d allowed", len(in), MaxEntries)
	}
	out := make([]Entry, len(in))
	names := make(map[string]int, len(in))
	for i, ej := range in {
		e, err := ej.entry()
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Index = i
			}
			return nil, fmt.Errorf("decode schedule entries: %w", err)
		}
		if j, dup := names[e.Name]; dup {
			return nil, fmt.Errorf("decode schedule entries: %w",
				&FieldError{Index: i, Field: "name", Err: fmt.Errorf("%q already used by entries[%d]", e.Name, j)})
		}
		names[e.Name] = i
		out[i] = e
	}
	return out, nil
}

func (ej entryJSON) entry() (Entry, error) {
	bad := func(field string, err error) (Entry, error) {
		return Entry{}, &FieldError{Index: -1, Field: field, Err: err}
	}
	e := Entry{Name: ej.Name, Route: ej.Route, Cron: ej.Cron, Zone: ej.Zone}
	loc, err := time.LoadLocation(ej.Zone)
	if err != nil || ej.Zone == "Local" {
		return bad("zone", fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Berlin)", ej.Zone))
	}
	if ej.When != "" {
		if ej.EveryS != nil || ej.Between != "" || ej.Active != nil || ej.Cron != "" || len(ej.At) > 0 {
			return bad("when", errors.New("excludes cron, every_s, between, at and active"))
		}
		w, err := ParseWhen(ej.When, loc)
		if err != nil {
			return bad("when", err)
		}
		e.Every, e.Between, e.Active = w.Every, w.Between, w.Active
	}
	if ej.EveryS != nil {
		v := *ej.EveryS
		if math.IsNaN(v) || v < MinEvery.Seconds() || v > 86400 {
			return bad("every_s", fmt.Errorf("%g out of range %g..86400", v, MinEvery.Seconds()))
		}
		e.Every = time.Duration(v) * time.Second
		if float64(int64(v)) != v {
			return bad("every_s", fmt.Errorf("%g is not whole seconds", v))
		}
	}
	if ej.Between != "" {
		w, err := ParseWindow(ej.Between)
		if err != nil {
			return bad("between", err)
		}
		e.Between = w
	}
	for k, s := range ej.At {
		t, err := parseTime(s, loc)
		if err != nil {
			return bad(fmt.Sprintf("at[%d]", k), err)
		}
		e.At = append(e.At, t)
	}
	if ej.Active != nil {
		if ej.Active.From != "" {
			if e.Active.From, err = parseTime(ej.Active.From, loc); err != nil {
				return bad("active.from", err)
			}
		}
		if ej.Active.To != "" {
			if e.Active.To, err = parseTime(ej.Active.To, loc); err != nil {
				return bad("active.to", err)
			}
		}
	}
	if ej.GraceS != nil {
		v := *ej.GraceS
		if math.IsNaN(v) || v < 0 || v > 86400 {
			return bad("grace_s", fmt.Errorf("%g out of range 0..86400", v))
		}
		e.Grace = time.Duration(v * float64(time.Second)).Round(time.Millisecond)
	}
	if err := e.Compile(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// parseTime accepts RFC 3339 or "YYYY-MM-DD HH:MM" in loc (DST policy of
// instant for local times that are repeated or skipped).
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02 15:04", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339 or YYYY-MM-DD HH:MM", s)
	}
	return instant(t, loc), nil
}

// MarshalJSON writes the entry in the form DecodeEntries reads (every_s,
// between, at in RFC 3339, active, grace_s), so schedule.list and the store
// round-trip.
func (e Entry) MarshalJSON() ([]byte, error) {
	ej := entryJSON{Name: e.Name, Route: e.Route, Cron: e.Cron, Zone: e.Zone}
	if e.Every != 0 {
		v := e.Every.Seconds()
		ej.EveryS = &v
	}
	if e.Between != (Window{}) {
		ej.Between = e.Between.String()
	}
	for _, t := range e.At {
		ej.At = append(ej.At, t.Format(time.RFC3339Nano))
	}
	if !e.Active.IsZero() {
		ej.Active = &activeJSON{}
		if !e.Active.From.IsZero() {
			ej.Active.From = e.Active.From.Format(time.RFC3339Nano)
		}
		if !e.Active.To.IsZero() {
			ej.Active.To = e.Active.To.Format(time.RFC3339Nano)
		}
	}
	if e.Grace != 0 {
		v := e.Grace.Seconds()
		ej.GraceS = &v
	}
	return json.Marshal(ej)
}
