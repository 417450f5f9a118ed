package transport

import "time"

// Backoff is the reopen policy of a link or device that failed: the first
// wait is Min, each further failure doubles it up to Max, and Reset starts
// over at Min once the link worked. Link.Run paces its reopening with one;
// the app's RS-485 lines (cmd/agent/app serialLine), which reopen on the
// Modbus master's next request rather than in a loop of their own, pace
// theirs with another, so every device of the agent backs off alike.
// Zero Min or Max mean DefaultMinBackoff and DefaultMaxBackoff. A Backoff
// is not safe for concurrent use.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration // the wait after the next failure; 0: Min
}

// Failed records a failure and returns how long to wait before the next
// attempt.
func (b *Backoff) Failed() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	hi = max(hi, lo)
	d := min(max(b.next, lo), hi)
	b.next = min(2*d, hi)
	return d
}

// Reset makes the next failure wait Min again.
func (b *Backoff) Reset() { b.next = 0 }
