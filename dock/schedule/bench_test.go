package schedule

import (
	"testing"
	"time"
)

// BenchmarkNext measures Entry.Next for each kind: Upcoming and the
// Scheduler call it once per fire time.
func BenchmarkNext(b *testing.B) {
	for _, tc := range []struct {
		name string
		e    Entry
	}{
		{"cron", Entry{Name: "a", Route: "r", Cron: "*/30 * * * *", Zone: "Europe/Berlin"}},
		{"window", Entry{Name: "a", Route: "r", Every: 2 * time.Hour, Between: Window{20 * time.Hour, 5 * time.Hour}, Zone: "Europe/Berlin"}},
		{"at", Entry{Name: "a", Route: "r", At: []time.Time{time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := tc.e
			if err := e.Compile(); err != nil {
				b.Fatal(err)
			}
			now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for b.Loop() {
				_ = e.Next(now)
			}
		})
	}
}

func TestNextAllocs(t *testing.T) {
	e := Entry{Name: "a", Route: "r", Cron: "*/30 * * * *", Zone: "Europe/Berlin"}
	if err := e.Compile(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	if n := testing.AllocsPerRun(100, func() { _ = e.Next(now) }); n != 0 {
		t.Errorf("Next allocates %v times, want 0", n)
	}
}
