package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMatcher(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type ev struct {
		write bool
		frame string
		at    int // ms
		phase int // for writes: the phase set before
	}
	tests := []struct {
		name    string
		events  []ev
		want    stageStats // phase 1
		unknown uint64
		window  int // 0: matchWindow
	}{
		{
			name: "in order",
			events: []ev{
				{true, "a", 0, 1}, {true, "b", 1, 1}, {false, "a", 2, 0}, {false, "b", 4, 0},
			},
			want: stageStats{written: 2, got: 2, lat: []time.Duration{2 * time.Millisecond, 3 * time.Millisecond}},
		},
		{
			// A landed drone repeats frames byte for byte: the second
			// "x" arriving belongs to the second write, and the lost one
			// is the first.
			name: "identical frames, the first lost",
			events: []ev{
				{true, "x", 0, 1}, {true, "y", 1, 1}, {true, "x", 2, 1},
				{false, "y", 3, 0}, {false, "x", 5, 0},
			},
			want: stageStats{written: 3, got: 2, missing: 1, lat: []time.Duration{2 * time.Millisecond, 3 * time.Millisecond}},
		},
		{
			name: "frames of other phases do not count",
			events: []ev{
				{true, "p", 0, 0}, {true, "q", 1, 1}, {true, "r", 2, 2},
				{false, "p", 3, 0}, {false, "q", 4, 0}, {false, "r", 5, 0},
			},
			want: stageStats{written: 1, got: 1, lat: []time.Duration{3 * time.Millisecond}},
		},
		{
			name: "the last frames are in flight until a later one arrives",
			events: []ev{
				{true, "a", 0, 1}, {true, "b", 1, 1}, {false, "a", 2, 0},
			},
			want: stageStats{written: 2, got: 1, lat: []time.Duration{2 * time.Millisecond}},
		},
		{
			// The drone reports a write after it returned; the agent may
			// be faster.
			name: "arrival before the write is reported",
			events: []ev{
				{true, "a", 0, 1}, {false, "a", 1, 0}, {false, "b", 2, 0}, {true, "b", 3, 1}, {false, "c", 4, 0}, {true, "c", 4, 1},
			},
			want: stageStats{written: 3, got: 3, early: 1, lat: []time.Duration{time.Millisecond, 0, 0}},
		},
		{
			name: "an arrival never written is unknown after the park limit",
			events: []ev{
				{true, "a", 0, 1}, {false, "zz", 1, 0}, {false, "a", 2, 0}, {true, "b", 3000, 1}, {false, "b", 3001, 0},
			},
			want:    stageStats{written: 2, got: 2, lat: []time.Duration{2 * time.Millisecond, time.Millisecond}},
			unknown: 1,
		},
		{
			// A relay that stopped for longer than lostAfter: what it
			// never sent is lost, and matching goes on afterwards.
			name: "an outage longer than lostAfter",
			events: []ev{
				{true, "a", 0, 1}, {true, "b", 1, 1}, {true, "c", 2, 1}, {true, "d", 12000, 1}, {false, "d", 12001, 0},
			},
			want:   stageStats{written: 4, got: 1, missing: 3, lat: []time.Duration{time.Millisecond}},
			window: 2, // "d" lies beyond it until the outage expires
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMatcher()
			if tt.window > 0 {
				m.window = tt.window
			}
			for _, e := range tt.events {
				if e.write {
					m.setPhase(e.phase)
					m.wrote(e.frame, ms(e.at))
				} else {
					m.arrived(e.frame, ms(e.at))
				}
			}
			got := m.result(1)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(stageStats{})); diff != "" {
				t.Errorf("result(1) mismatch (-want +got):\n%s", diff)
			}
			if m.unknown != tt.unknown {
				t.Errorf("unknown = %d, want %d", m.unknown, tt.unknown)
			}
		})
	}
}
