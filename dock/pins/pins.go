package pins

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// ActiveLowIn returns p with its level inverted: a switch that pulls its line
// to ground when closed reads High through the wrapper. The wrapper is safe
// for concurrent use when p is.
func ActiveLowIn(p gpio.PinIn) gpio.PinIn { return activeLowIn{p} }

type activeLowIn struct{ gpio.PinIn }

// Read implements gpio.PinIn with the level inverted.
func (p activeLowIn) Read() gpio.Level { return !p.PinIn.Read() }

// Settling passes on the wrapped pin's (Debounce), so the controller
// keeps reading a debounced active-low switch while it settles.
func (p activeLowIn) Settling() bool {
	s, ok := p.PinIn.(settler)
	return ok && s.Settling()
}

// settler is an input that filters changes (Debounce).
type settler interface{ Settling() bool }

// ActiveLowOut returns p with its level inverted: Out(High) drives the line
// low, as relay boards with active-low inputs need. The wrapper is safe for
// concurrent use when p is.
func ActiveLowOut(p gpio.PinOut) gpio.PinOut { return activeLowOut{p} }

type activeLowOut struct{ gpio.PinOut }

// Out implements gpio.PinOut with the level inverted.
func (p activeLowOut) Out(l gpio.Level) error { return p.PinOut.Out(!l) }

// Halt implements conn.Resource: it de-energises the output, which drives
// the line high (the wrapped pin's own Halt would drive it low: on).
func (p activeLowOut) Halt() error { return p.Out(gpio.Low) }

// Debounce returns p filtered on reads: a new level is reported only after
// Read has seen it steadily for at least d (measured on clock), so contact
// bounce of a limit switch never reaches the controller. It works by
// polling: the controller reads every input each loop iteration. d of zero
// returns p unchanged. The wrapper is safe for concurrent use.
//
// Do not debounce the e-stop input: a press must cut the outputs on the
// first read (invariant 4); a bouncing e-stop only latches earlier.
func Debounce(p gpio.PinIn, clock clockwork.Clock, d time.Duration) gpio.PinIn {
	if d <= 0 {
		return p
	}
	return &debounced{PinIn: p, clock: clock, d: d}
}

type debounced struct {
	gpio.PinIn
	clock clockwork.Clock
	d     time.Duration

	mu      sync.Mutex
	primed  bool
	stable  gpio.Level // level reported
	pending gpio.Level // raw level last seen
	since   time.Time  // when pending was first seen
}

// Settling reports whether the last Read saw a level it did not report
// yet; the dock controller keeps reading such an input every poll (rather
// than idling) until it is reported.
func (p *debounced) Settling() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending != p.stable
}

// Read implements gpio.PinIn: it returns the debounced level.
func (p *debounced) Read() gpio.Level {
	raw := p.PinIn.Read()
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.primed {
		// The first read has nothing to bounce against.
		p.primed, p.stable, p.pending, p.since = true, raw, raw, now
		return raw
	}
	if raw != p.pending {
		p.pending, p.since = raw, now
	}
	if p.pending != p.stable && now.Sub(p.since) >= p.d {
		p.stable = p.pending
	}
	return p.stable
}
