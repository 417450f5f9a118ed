package pinedge

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

func TestEdgeFilter(t *testing.T) {
	clock := clockwork.NewFakeClock()
	for _, tt := range []struct {
		name  string
		edge  gpio.Edge
		level gpio.Level
		want  bool
	}{
		{"both, rising", gpio.BothEdges, gpio.High, true},
		{"both, falling", gpio.BothEdges, gpio.Low, true},
		{"rising only, rising", gpio.RisingEdge, gpio.High, true},
		{"rising only, falling", gpio.RisingEdge, gpio.Low, false},
		{"falling only, falling", gpio.FallingEdge, gpio.Low, true},
		{"no edge", gpio.NoEdge, gpio.High, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := New()
			e.Set(tt.edge)
			e.Changed(tt.level)
			if got := e.Wait(clock, 0); got != tt.want {
				t.Errorf("Wait() after %v with edge %v = %v, want %v", tt.level, tt.edge, got, tt.want)
			}
		})
	}
}

func TestOnePendingEdgeAndSetDropsIt(t *testing.T) {
	clock := clockwork.NewFakeClock()
	e := New()
	e.Changed(gpio.High)
	e.Changed(gpio.Low) // kept out: one edge is pending
	if !e.Wait(clock, 0) {
		t.Fatal("Wait() = false with an edge pending")
	}
	if e.Wait(clock, 0) {
		t.Fatal("Wait() = true for a second edge; only one is kept")
	}
	e.Changed(gpio.High)
	e.Set(gpio.BothEdges)
	if e.Wait(clock, 0) {
		t.Fatal("Wait() = true after Set; Set drops the pending edge")
	}
}

// TestWaitEndsOnTimeoutOrRearm: a blocked Wait returns false when its
// timeout passes on the clock, and when Set re-arms the pin.
func TestWaitEndsOnTimeoutOrRearm(t *testing.T) {
	clock := clockwork.NewFakeClock()
	e := New()
	done := make(chan bool, 1)
	go func() { done <- e.Wait(clock, time.Second) }()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := <-done; got {
		t.Error("Wait(1s) after 1s without an edge = true, want false")
	}

	go func() { done <- e.Wait(clock, -1) }()
	// Wait holds no timer with timeout -1: re-arm until it has returned.
	for {
		e.Set(gpio.BothEdges)
		select {
		case got := <-done:
			if got {
				t.Error("Wait(-1) woken by Set = true, want false")
			}
			return
		case <-ctx.Done():
			t.Fatal("Wait(-1) did not return after Set")
		default:
		}
	}
}
