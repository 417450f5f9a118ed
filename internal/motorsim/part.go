// Package motorsim is the motion of a motor-driven part between two end
// stops (the lid, the centering arms), shared by the unit tests' fake
// hardware (dock/docktest) and the bench's simulated dock
// (testbench/physics), so both move the same way.
//
// It is simulation only: the agent never imports it (internal/importrules
// checks this). It imports no package of ours.
package motorsim

import "time"

// Part is a part moving between 0 (closed, clamped) and 1 (open, released)
// at 1/Travel per second times Speed while its motor drives it. Time is
// passed in (the caller's clock), so no goroutine runs. It is not safe for
// concurrent use: the caller holds its own lock.
type Part struct {
	pos       float64
	at        time.Time // time pos is for
	travel    time.Duration
	speed     float64 // 1 normal, 0.5 twice as slow
	stuck     bool
	dir       int       // -1, 0, +1
	arrive    time.Time // when the moving part reaches its end; zero if not moving
	reachedAt time.Time // when it last reached an end
}

// New returns a part at pos (0..1) at time now, travelling a full stroke in
// travel at normal speed.
func New(travel time.Duration, pos float64, now time.Time) *Part {
	return &Part{pos: min(max(pos, 0), 1), at: now, travel: travel, speed: 1}
}

// Advance moves the part to time now in the direction last driven. At the
// moment it reaches an end its position snaps to exactly 0 or 1 (no
// floating-point near-miss of a limit switch).
func (p *Part) Advance(now time.Time) {
	if now.Before(p.at) {
		return
	}
	if p.dir != 0 && !p.arrive.IsZero() {
		if !now.Before(p.arrive) {
			p.pos = float64(max(p.dir, 0))
			p.reachedAt = p.arrive
			p.arrive = time.Time{}
		} else {
			p.pos += float64(p.dir) * p.speed * now.Sub(p.at).Seconds() / p.travel.Seconds()
			p.pos = min(max(p.pos, 0), 1)
		}
	}
	p.at = now
}

// Drive advances the part to now, then drives it in dir (+1 towards 1, -1
// towards 0, 0 stopped; a stuck part does not move) from now on. It returns
// how long the part takes to reach the end it moves to, 0 when it does not
// move.
func (p *Part) Drive(now time.Time, dir int) time.Duration {
	p.Advance(now)
	if p.stuck || p.speed <= 0 {
		dir = 0
	}
	p.dir, p.arrive = dir, time.Time{}
	end := float64(max(dir, 0))
	if dir == 0 || p.pos == end {
		return 0
	}
	left := end - p.pos
	if left < 0 {
		left = -left
	}
	d := time.Duration(left * float64(p.travel) / p.speed)
	p.arrive = now.Add(d)
	return d
}

// Pos returns the position at the last Advance or Drive.
func (p *Part) Pos() float64 { return p.pos }

// SetPos puts the part at pos (0..1), stopped until driven again.
func (p *Part) SetPos(now time.Time, pos float64) {
	p.Advance(now)
	p.pos = min(max(pos, 0), 1)
	p.dir, p.arrive = 0, time.Time{}
}

// ReachedAt returns when the part last reached an end (zero if never).
func (p *Part) ReachedAt() time.Time { return p.reachedAt }

// SetStuck jams (true) or frees the part; it takes effect at the next
// Drive.
func (p *Part) SetStuck(stuck bool) { p.stuck = stuck }

// Stuck reports whether the part is jammed.
func (p *Part) Stuck() bool { return p.stuck }

// SetSpeed scales the travel speed (1 normal, 0.5 twice as slow); it takes
// effect at the next Drive.
func (p *Part) SetSpeed(f float64) { p.speed = f }
