package simclock

import (
	"testing"
	"time"
)

func TestNowRunsFaster(t *testing.T) {
	realOrigin := time.Now().Add(-2 * time.Second)
	sim := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	c := New(realOrigin, sim, 20)
	got := c.Now().Sub(sim)
	// Two real seconds have passed since the origin: about 40 simulated.
	if got < 39*time.Second || got > 45*time.Second {
		t.Fatalf("Now()-origin at speed 20 after 2s = %v, want about 40s", got)
	}
}

func TestTimerFiresAfterScaledDuration(t *testing.T) {
	c := New(time.Now(), time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC), 100)
	start := time.Now()
	tm := c.NewTimer(10 * time.Second) // 100 ms of real time
	select {
	case <-tm.Chan():
	case <-time.After(5 * time.Second):
		t.Fatal("timer of 10s simulated at speed 100 did not fire within 5s real")
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Fatalf("timer of 10s simulated at speed 100 fired after %v real, want >= ~100ms", el)
	}
}

func TestTickerStops(t *testing.T) {
	c := New(time.Now(), time.Now(), 1000)
	tk := c.NewTicker(time.Second)
	for range 3 {
		select {
		case <-tk.Chan():
		case <-time.After(5 * time.Second):
			t.Fatal("ticker of 1s simulated at speed 1000 did not tick within 5s")
		}
	}
	tk.Stop()
	tk.Stop() // a second Stop must not panic
}
