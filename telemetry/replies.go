package telemetry

import (
	"context"
	"sync"
)

// Reply queue bounds. A client flooding the command topics gets its
// refusals (busy, bad_request, stale ...) through the answers lane; the
// worker's replies have a lane of their own that a flood cannot fill.
const (
	// maxAnswers bounds the immediate answers waiting for the replier
	// (about 200 bytes each: under 2 MB). The replier publishes hundreds
	// per batch, so only a broker that takes nothing while commands still
	// arrive fills it.
	maxAnswers = 8192
	// maxResults bounds the worker's replies waiting; the worker waits for
	// room (it runs one command at a time, so it never needs much).
	maxResults = 64
	// replyBatch is how many replies the replier takes at once: their
	// dedupe records and command.rejected events go to disk in one
	// transaction each.
	replyBatch = 256
)

// replyQueue is the reply path's own bounded, prioritised queue between
// the intake (paho's goroutines, the worker) and the replier. It has two
// lanes: results of executed commands (taken first; the worker waits for
// room) and immediate answers (never blocks the paho handler; at
// maxAnswers a new answer is dropped and counted, which takes a broker
// that stopped taking our publishes). Safe for concurrent use.
type replyQueue struct {
	mu      sync.Mutex
	results []outReply
	answers []outReply
	ready   chan struct{} // capacity 1: something was queued
	room    chan struct{} // capacity 1: the results lane shrank
}

func newReplyQueue() *replyQueue {
	return &replyQueue{ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// answer queues an immediate answer without blocking; false when the
// answers lane is full (the reply is dropped).
func (q *replyQueue) answer(r outReply) bool {
	q.mu.Lock()
	if len(q.answers) >= maxAnswers {
		q.mu.Unlock()
		return false
	}
	q.answers = append(q.answers, r)
	q.mu.Unlock()
	wake(q.ready)
	return true
}

// result queues the reply of an executed command, waiting while the
// results lane is full; false only when ctx ended first.
func (q *replyQueue) result(ctx context.Context, r outReply) bool {
	for {
		q.mu.Lock()
		if len(q.results) < maxResults {
			q.results = append(q.results, r)
			q.mu.Unlock()
			wake(q.ready)
			return true
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-ctx.Done():
			return false
		}
	}
}

// take moves up to max queued replies, results first, into buf[:0] and
// returns it; empty when nothing is queued.
func (q *replyQueue) take(buf []outReply, max int) []outReply {
	buf = buf[:0]
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(max, len(q.results))
	buf = append(buf, q.results[:n]...)
	q.results = shift(q.results, n)
	if n > 0 {
		wake(q.room)
	}
	m := min(max-n, len(q.answers))
	buf = append(buf, q.answers[:m]...)
	q.answers = shift(q.answers, m)
	return buf
}

// shift drops the first n elements, letting go of the backing array once
// the lane is empty so a burst's memory is returned.
func shift(s []outReply, n int) []outReply {
	if n == len(s) {
		return nil
	}
	clear(s[:n])
	return s[n:]
}

// len is the number of replies queued in both lanes.
func (q *replyQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.results) + len(q.answers)
}
