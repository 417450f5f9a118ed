package contract

import (
	"encoding/json"
	"fmt"
	"strings"
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
// does, then every time value (a string written by time.Time's
// MarshalJSON, under a key that names a time: "at", "ts", "since",
// "until" or one ending in "_at") is rewritten in TimeLayout. It is the one
// place the millisecond rule is applied, so no type needs to remember it,
// and a caller's own strings under other keys are never touched.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return msTimes(b), nil
}

// msTimes rewrites the time values of the JSON document b (see Marshal).
func msTimes(b []byte) []byte {
	out := make([]byte, 0, len(b))
	key := ""
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			out = append(out, b[i])
			continue
		}
		j := i + 1
		for ; j < len(b) && b[j] != '"'; j++ {
			if b[j] == '\\' {
				j++
			}
		}
		str := b[i : j+1] // with its quotes
		k := j + 1
		for k < len(b) && (b[k] == ' ' || b[k] == '\n') {
			k++
		}
		if k < len(b) && b[k] == ':' {
			key = string(str[1 : len(str)-1])
		} else if isTimeKey(key) {
			if t, err := time.Parse(time.RFC3339Nano, string(str[1:len(str)-1])); err == nil {
				out = append(out, '"')
				out = t.UTC().AppendFormat(out, TimeLayout)
				out = append(out, '"')
				i = j
				continue
			}
		}
		out = append(out, str...)
		i = j
	}
	return out
}

// isTimeKey says whether a key names a time in the contract.
func isTimeKey(k string) bool {
	switch k {
	case "at", "ts", "since", "until":
		return true
	}
	return strings.HasSuffix(k, "_at")
}
