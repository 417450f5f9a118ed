package main

import (
	"sync"
	"time"
)

// matchWindow bounds how far past the oldest unresolved frame an arrival is
// looked for: more than a second of the burst.
const matchWindow = 1 << 14

// parkLimit is how long an arrival that matches no written frame yet waits
// for its write to be reported (the drone reports a batch after its write
// returns, so the agent can relay a frame before the harness hears of its
// write) before it counts as unknown.
const parkLimit = 2 * time.Second

// lostAfter is how old an unresolved written frame may be when a later
// arrival is matched: older ones count as lost even when more than
// matchWindow frames sit between, so a long outage cannot stall matching.
const lostAfter = 10 * time.Second

// writtenFrame is one frame the drone wrote, in write order.
type writtenFrame struct {
	frame string
	at    time.Time
	phase int // 0: outside any measured phase
}

// arrival is one frame seen at a stage, in arrival order.
type arrival struct {
	frame string
	at    time.Time
}

// stageStats are one stage's counts for one phase.
type stageStats struct {
	written uint64          // frames the drone wrote in the phase
	got     uint64          // of them, arrived at the stage
	missing uint64          // of them, never arrived (a later frame did)
	early   uint64          // arrived before the harness heard of the write (latency counted as 0)
	lat     []time.Duration // write to arrival, per frame got
}

// inFlight is the frames of the phase neither seen nor known lost yet.
func (s stageStats) inFlight() uint64 { return s.written - s.got - s.missing }

// matcher matches the frames the drone wrote with the frames arriving at one
// stage of the relay (the broker, the subscriber). The relay keeps order (one
// serial line, one parser, one queue, one MQTT connection each way), so an
// arrival is the oldest unresolved written frame with the same bytes, and
// every unresolved frame written before it was lost. Matching by order
// rather than by bytes alone keeps identical frames (a landed drone's
// SYS_STATUS repeats byte for byte every 256 sequence numbers) apart. Safe
// for concurrent use.
type matcher struct {
	mu      sync.Mutex
	phase   int
	w       []writtenFrame // unresolved, oldest first
	parked  []arrival      // not matched yet, oldest first
	stats   map[int]*stageStats
	unknown uint64 // arrivals that matched no written frame
	window  int    // matchWindow; tests shrink it
}

func newMatcher() *matcher { return &matcher{stats: map[int]*stageStats{}, window: matchWindow} }

// setPhase tags the frames written from now on; 0 is outside any phase.
func (m *matcher) setPhase(p int) {
	m.mu.Lock()
	m.phase = p
	m.mu.Unlock()
}

// wrote records a frame the drone wrote at at.
func (m *matcher) wrote(frame string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.w = append(m.w, writtenFrame{frame: frame, at: at, phase: m.phase})
	m.stat(m.phase).written++
	m.drain(at)
}

// arrived records a frame seen at the stage at at.
func (m *matcher) arrived(frame string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.parked = append(m.parked, arrival{frame: frame, at: at})
	m.drain(at)
}

// result returns the counts of phase p so far.
func (m *matcher) result(p int) stageStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := *m.stat(p)
	s.lat = append([]time.Duration(nil), s.lat...)
	return s
}

func (m *matcher) stat(p int) *stageStats {
	s := m.stats[p]
	if s == nil {
		s = &stageStats{}
		m.stats[p] = s
	}
	return s
}

// drain matches parked arrivals in order; now is the time of the event
// that called it.
func (m *matcher) drain(now time.Time) {
	for len(m.parked) > 0 {
		a := m.parked[0]
		m.expire(a.at.Add(-lostAfter))
		if j := m.find(a.frame); j >= 0 {
			m.resolve(j, a.at)
		} else if now.Sub(a.at) >= parkLimit {
			m.unknown++
		} else {
			return
		}
		m.parked[0] = arrival{}
		m.parked = m.parked[1:]
	}
}

// expire counts the unresolved frames written before t as lost.
func (m *matcher) expire(t time.Time) {
	n := 0
	for n < len(m.w) && m.w[n].at.Before(t) {
		m.stat(m.w[n].phase).missing++
		n++
	}
	clear(m.w[:n])
	m.w = m.w[n:]
}

func (m *matcher) find(frame string) int {
	for i := range min(len(m.w), m.window) {
		if m.w[i].frame == frame {
			return i
		}
	}
	return -1
}

// resolve matches written frame j with an arrival at at; the frames
// written before it are lost.
func (m *matcher) resolve(j int, at time.Time) {
	for i := range j {
		m.stat(m.w[i].phase).missing++
	}
	f := m.w[j]
	s := m.stat(f.phase)
	s.got++
	d := at.Sub(f.at)
	if d < 0 {
		s.early++
		d = 0
	}
	s.lat = append(s.lat, d)
	clear(m.w[:j+1])
	m.w = m.w[j+1:]
}

// unknownCount is the arrivals that matched no written frame.
func (m *matcher) unknownCount() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unknown
}
