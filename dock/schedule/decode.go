package schedule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// entryJSON is the wire form of an Entry in `schedule.put` and
// `schedule.list`: the field names and duration form of the YAML config's
// schedules (time_zone, every, grace as "2h", "10m").
type entryJSON struct {
	Name     string      `json:"name"`
	Route    string      `json:"route"`
	When     string      `json:"when,omitempty"`
	Cron     string      `json:"cron,omitempty"`
	TimeZone string      `json:"time_zone,omitempty"`
	Every    string      `json:"every,omitempty"`
	Between  string      `json:"between,omitempty"`
	At       []string    `json:"at,omitempty"`
	Active   *activeJSON `json:"active,omitempty"`
	Grace    string      `json:"grace,omitempty"`

	// The old names (zone, every_s, grace_s): refused in
	// schedule.put with the new name; read in a stored file written by an
	// earlier agent (DecodeStoredEntries).
	OldZone   *string  `json:"zone,omitempty"`
	OldEveryS *float64 `json:"every_s,omitempty"`
	OldGraceS *float64 `json:"grace_s,omitempty"`
}

// renamed lists the old field names and their new ones.
var renamed = [...]struct{ old, now string }{{"zone", "time_zone"}, {"every_s", "every"}, {"grace_s", "grace"}}

type activeJSON struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// MaxEntries bounds one `schedule.put`.
const MaxEntries = 200

// DecodeEntries decodes and compiles the `entries` array of
// `schedule.put`. Each entry is an object with the names of the YAML
// config's schedules:
//
//	{"name":"oldtown-night","route":"oldtown","time_zone":"Europe/Berlin",
//	 "cron":"0 */2 * * *" | "every":"2h","between":"20:00-05:00" |
//	 "at":["2026-12-05T16:00:00+01:00","2026-12-05 18:00"] |
//	 "when":"every 2h between 20:00 and 05:00",
//	 "active":{"from":"2026-12-05 16:00","to":"2026-12-05 23:00"},
//	 "grace":"10m"}
//
// Times are RFC 3339 or "YYYY-MM-DD HH:MM" in the entry's zone; every and
// grace are Go durations ("90m", "1h30m"). "when" is the human form of
// ParseWhen and excludes every, between and active. Decoding is strict:
// unknown fields, the old names (zone, every_s, grace_s), trailing data,
// duplicate names and invalid values are errors naming the entry and field
// (*FieldError).
func DecodeEntries(raw json.RawMessage) ([]Entry, error) { return decodeEntries(raw, false) }

// DecodeStoredEntries is DecodeEntries for a file the agent stored itself,
// which an earlier version wrote with the old names: it reads those too.
func DecodeStoredEntries(raw json.RawMessage) ([]Entry, error) { return decodeEntries(raw, true) }

func decodeEntries(raw json.RawMessage, old bool) ([]Entry, error) {
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
		e, err := ej.entry(old)
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

func (ej entryJSON) entry(old bool) (Entry, error) {
	bad := func(field string, err error) (Entry, error) {
		return Entry{}, &FieldError{Index: -1, Field: field, Err: err}
	}
	if !old {
		for i, set := range [...]bool{ej.OldZone != nil, ej.OldEveryS != nil, ej.OldGraceS != nil} {
			if set {
				r := renamed[i]
				return bad(r.old, fmt.Errorf("renamed %s (the name in the YAML config; every and grace are durations like \"2h\" or \"10m\")", r.now))
			}
		}
	} else {
		if ej.OldZone != nil && ej.TimeZone == "" {
			ej.TimeZone = *ej.OldZone
		}
		if ej.OldEveryS != nil && ej.Every == "" {
			ej.Every = (time.Duration(*ej.OldEveryS) * time.Second).String()
		}
		if ej.OldGraceS != nil && ej.Grace == "" {
			ej.Grace = time.Duration(*ej.OldGraceS * float64(time.Second)).Round(time.Millisecond).String()
		}
	}
	e := Entry{Name: ej.Name, Route: ej.Route, Cron: ej.Cron, Zone: ej.TimeZone}
	loc, err := time.LoadLocation(ej.TimeZone)
	if err != nil || ej.TimeZone == "Local" {
		return bad("time_zone", fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Berlin)", ej.TimeZone))
	}
	if ej.When != "" {
		if ej.Every != "" || ej.Between != "" || ej.Active != nil || ej.Cron != "" || len(ej.At) > 0 {
			return bad("when", errors.New("excludes cron, every, between, at and active"))
		}
		w, err := ParseWhen(ej.When, loc)
		if err != nil {
			return bad("when", err)
		}
		e.Every, e.Between, e.Active = w.Every, w.Between, w.Active
	}
	if ej.Every != "" {
		d, err := time.ParseDuration(ej.Every)
		if err != nil {
			return bad("every", fmt.Errorf("%q is not a duration (like \"2h\" or \"90m\")", ej.Every))
		}
		if d < MinEvery || d > 24*time.Hour {
			return bad("every", fmt.Errorf("%s out of range %s..24h", d, MinEvery))
		}
		if d%time.Second != 0 {
			return bad("every", fmt.Errorf("%s is not whole seconds", d))
		}
		e.Every = d
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
	if ej.Grace != "" {
		d, err := time.ParseDuration(ej.Grace)
		if err != nil {
			return bad("grace", fmt.Errorf("%q is not a duration (like \"10m\")", ej.Grace))
		}
		if d < 0 || d > 24*time.Hour {
			return bad("grace", fmt.Errorf("%s out of range 0..24h", d))
		}
		e.Grace = d.Round(time.Millisecond)
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

// MarshalJSON writes the entry in the form DecodeEntries reads (every,
// between, at in RFC 3339, active, grace), so schedule.list and the store
// round-trip.
func (e Entry) MarshalJSON() ([]byte, error) {
	ej := entryJSON{Name: e.Name, Route: e.Route, Cron: e.Cron, TimeZone: e.Zone}
	if e.Every != 0 {
		ej.Every = e.Every.String()
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
		ej.Grace = e.Grace.String()
	}
	return json.Marshal(ej)
}
