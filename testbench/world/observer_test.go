package world

import (
	"strings"
	"testing"
)

func TestCheckEvents(t *testing.T) {
	ev := func(seq uint64, typ string) Event {
		return Event{Seq: seq, Type: typ, Fields: map[string]any{"seq": float64(seq), "type": typ}}
	}
	cases := []struct {
		name        string
		evs         []Event
		redelivered int
		err         string
	}{
		{"in order", []Event{ev(1, "a"), ev(2, "b"), ev(3, "c")}, 0, ""},
		{"redelivered", []Event{ev(1, "a"), ev(1, "a"), ev(2, "b")}, 1, ""},
		{"two events one seq", []Event{ev(1, "a"), ev(1, "b")}, 0, "different content"},
		{"gap", []Event{ev(1, "a"), ev(3, "c")}, 0, "2..2 never arrived"},
		{"out of order", []Event{ev(2, "b"), ev(1, "a")}, 0, "out of order"},
	}
	for _, c := range cases {
		o := &Observer{events: c.evs}
		n, err := o.CheckEvents()
		if n != c.redelivered || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: CheckEvents() = %d, %v; want %d, %q", c.name, n, err, c.redelivered, c.err)
		}
	}
}
