package motorsim

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)

func TestPartTravels(t *testing.T) {
	p := New(12*time.Second, 0, t0)
	if d := p.Drive(t0, +1); d != 12*time.Second {
		t.Fatalf("Drive(+1) from closed = %v, want 12s", d)
	}
	p.Advance(t0.Add(6 * time.Second))
	if got := p.Pos(); got < 0.499 || got > 0.501 {
		t.Errorf("after 6s of 12s: pos %v, want 0.5", got)
	}
	p.Advance(t0.Add(12 * time.Second))
	if p.Pos() != 1 || !p.ReachedAt().Equal(t0.Add(12*time.Second)) {
		t.Errorf("after 12s: pos %v reached %v, want exactly 1 at 12s", p.Pos(), p.ReachedAt())
	}
	p.Advance(t0.Add(20 * time.Second))
	if p.Pos() != 1 {
		t.Errorf("past the end: pos %v, want 1", p.Pos())
	}
	// Back half way, stop, and the part stays.
	if d := p.Drive(t0.Add(20*time.Second), -1); d != 12*time.Second {
		t.Errorf("Drive(-1) from open = %v, want 12s", d)
	}
	if d := p.Drive(t0.Add(26*time.Second), 0); d != 0 {
		t.Errorf("Drive(0) = %v, want 0", d)
	}
	p.Advance(t0.Add(60 * time.Second))
	if got := p.Pos(); got < 0.499 || got > 0.501 {
		t.Errorf("stopped half way: pos %v, want 0.5", got)
	}
}

func TestPartFaults(t *testing.T) {
	p := New(4*time.Second, 0, t0)
	p.SetSpeed(0.5)
	if d := p.Drive(t0, +1); d != 8*time.Second {
		t.Errorf("half speed: Drive = %v, want 8s", d)
	}
	p.SetStuck(true)
	if d := p.Drive(t0.Add(2*time.Second), +1); d != 0 {
		t.Errorf("stuck: Drive = %v, want 0", d)
	}
	at := p.Pos()
	p.Advance(t0.Add(10 * time.Second))
	if p.Pos() != at {
		t.Errorf("stuck part moved from %v to %v", at, p.Pos())
	}
	p.SetStuck(false)
	p.SetPos(t0.Add(10*time.Second), 1)
	if d := p.Drive(t0.Add(10*time.Second), +1); d != 0 || p.Pos() != 1 {
		t.Errorf("at the end already: Drive = %v pos %v, want 0, 1", d, p.Pos())
	}
}
