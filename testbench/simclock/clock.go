package simclock

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// Clock is a clockwork.Clock running Speed times faster than real time.
// Simulated time is SimOrigin + (real now - RealOrigin) * Speed. It is safe
// for concurrent use; its zero value is not usable, use New.
type Clock struct {
	realOrigin time.Time
	simOrigin  time.Time
	speed      float64
}

// New returns a clock whose simulated time equals simOrigin at the real
// instant realOrigin and then runs speed times faster. speed <= 0 means 1.
func New(realOrigin, simOrigin time.Time, speed float64) *Clock {
	if speed <= 0 {
		speed = 1
	}
	return &Clock{realOrigin: realOrigin, simOrigin: simOrigin, speed: speed}
}

// Speed returns how many simulated seconds pass per real second.
func (c *Clock) Speed() float64 { return c.speed }

// RealOrigin and SimOrigin return the instants the clock was anchored at, so
// a child process can build the same clock.
func (c *Clock) RealOrigin() time.Time { return c.realOrigin }

// SimOrigin returns the simulated time at RealOrigin.
func (c *Clock) SimOrigin() time.Time { return c.simOrigin }

// real converts a simulated duration to the real duration it takes.
func (c *Clock) real(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	r := time.Duration(float64(d) / c.speed)
	if r <= 0 {
		r = 1
	}
	return r
}

// Now returns the simulated time, in UTC.
func (c *Clock) Now() time.Time {
	elapsed := time.Since(c.realOrigin)
	return c.simOrigin.Add(time.Duration(float64(elapsed) * c.speed)).UTC()
}

// Since returns the simulated time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until returns the simulated time until t.
func (c *Clock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// Sleep blocks for d of simulated time.
func (c *Clock) Sleep(d time.Duration) { time.Sleep(c.real(d)) }

// After is like time.After in simulated time; the value sent is the
// simulated time of expiry.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).Chan() }

// NewTimer returns a timer that fires after d of simulated time.
func (c *Clock) NewTimer(d time.Duration) clockwork.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	t.t = time.AfterFunc(c.real(d), t.fire)
	return t
}

// AfterFunc calls f in its own goroutine after d of simulated time.
func (c *Clock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	t.t = time.AfterFunc(c.real(d), f)
	return t
}

// NewTicker returns a ticker with period d of simulated time.
func (c *Clock) NewTicker(d time.Duration) clockwork.Ticker {
	tk := &ticker{c: c, t: time.NewTicker(c.real(d)), ch: make(chan time.Time, 1), done: make(chan struct{})}
	go tk.relay()
	return tk
}

type timer struct {
	c  *Clock
	t  *time.Timer
	ch chan time.Time
}

func (t *timer) fire() {
	select {
	case t.ch <- t.c.Now():
	default:
	}
}

func (t *timer) Chan() <-chan time.Time { return t.ch }

func (t *timer) Reset(d time.Duration) bool { return t.t.Reset(t.c.real(d)) }

func (t *timer) Stop() bool { return t.t.Stop() }

type ticker struct {
	c    *Clock
	t    *time.Ticker
	ch   chan time.Time
	done chan struct{}
}

// relay converts the real ticks to simulated times; it ends on Stop.
func (t *ticker) relay() {
	for {
		select {
		case <-t.done:
			return
		case <-t.t.C:
			select {
			case t.ch <- t.c.Now():
			default:
			}
		}
	}
}

func (t *ticker) Chan() <-chan time.Time { return t.ch }

func (t *ticker) Reset(d time.Duration) { t.t.Reset(t.c.real(d)) }

func (t *ticker) Stop() {
	t.t.Stop()
	select {
	case <-t.done:
	default:
		close(t.done)
	}
}

var _ clockwork.Clock = (*Clock)(nil)
