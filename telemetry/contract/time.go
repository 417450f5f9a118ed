package contract

import (
	jsonv1 "encoding/json"
	jsonv2 "encoding/json/v2"
	"fmt"
	"time"
)

// TimeLayout is the one timestamp format of every message that leaves the
// agent: RFC 3339 in UTC with exactly three fractional digits,
// "2026-12-05T19:00:00.000Z". A fixed width sorts as text and tells a
// reader at once that milliseconds are all there is.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t in TimeLayout (converted to UTC, cut to the
// millisecond).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads an RFC 3339 time as a sender may write it: any number of
// fractional digits and any offset.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t, nil
}

// Time is a time.Time that marshals to JSON in TimeLayout and reads any
// RFC 3339 time. The zero Time marshals as null.
type Time struct{ time.Time }

// MarshalJSON writes the time as a TimeLayout string, or null when zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 string, or null as the zero Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("time: want an RFC 3339 string, got %s", b)
	}
	v, err := ParseTime(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// Marshal encodes v as a message leaving the agent: as encoding/json
// does, except that every time.Time at any depth (struct fields, map
// values, event fields) is written in TimeLayout. It is the one place the
// millisecond rule is applied, so no type needs to remember it.
func Marshal(v any) ([]byte, error) {
	return jsonv2.Marshal(v, jsonv1.DefaultOptionsV1(), msTimes)
}

// msTimes writes a time.Time in TimeLayout (the zero time too: a field
// that may be absent uses a pointer or omitzero).
var msTimes = jsonv2.WithMarshalers(jsonv2.MarshalFunc(func(t time.Time) ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}))
