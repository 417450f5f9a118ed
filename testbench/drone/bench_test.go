package drone

import (
	"testing"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// flyingSim returns a simulator cruising in GUIDED towards a point 100 km
// away in 8 m/s wind, noise on: every part of a step does work.
func flyingSim(b *testing.B) (*Sim, *link) {
	b.Helper()
	s, err := New(Options{Seed: 1}, clockwork.NewFakeClockAt(epoch))
	if err != nil {
		b.Fatal(err)
	}
	l := newLink(epoch)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.params.set("SIM_WIND_SPD", 8)
	s.v.applyParams()
	s.enterMode(epoch, ModeGuided)
	s.arm(epoch)
	s.v.startTakeoff(30)
	now := epoch
	for range 1000 { // 20 s: in the air
		now = now.Add(DefaultTick)
		s.step(now, DefaultTick.Seconds())
	}
	lat, lon := offsetPos(s.v.home, 100000, 0)
	s.goTo(lat, lon, 40, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT)
	s.v.last = now
	return s, l
}

// BenchmarkStep is one 20 ms step of the world: guidance, kinematics,
// failsafes, battery, GPS noise.
func BenchmarkStep(b *testing.B) {
	s, _ := flyingSim(b)
	now := s.v.last
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(DefaultTick)
		s.step(now, DefaultTick.Seconds())
		s.v.consumedMAh = 0 // a battery that lasts the benchmark
	}
	if s.v.onGround || !s.v.armed {
		b.Fatal("the vehicle stopped flying during the benchmark")
	}
}

// BenchmarkLoadStream encodes and queues load frames, the simulator's side
// of a load test: per frame (encode) and per 20 ms tick at 3000 msg/s.
func BenchmarkLoadStream(b *testing.B) {
	b.Run("frame", func(b *testing.B) {
		s, l := flyingSim(b)
		now := s.v.last
		s.mu.Lock()
		defer s.mu.Unlock()
		var n, bytes int
		b.ReportAllocs()
		for b.Loop() {
			s.sendID(l, loadIDs[n%len(loadIDs)], now)
			n++
			if len(l.q) > maxQueue/2 {
				bytes += len(l.q)
				l.q, l.ends = l.q[:0], l.ends[:0]
			}
		}
		bytes += len(l.q)
		b.ReportMetric(float64(bytes)/float64(n), "B/frame")
	})
	b.Run("tick3000", func(b *testing.B) {
		s, l := flyingSim(b)
		now := s.v.last
		s.mu.Lock()
		defer s.mu.Unlock()
		s.v.loadRate = 3000
		l.loadLast = now
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(DefaultTick)
			s.emitDue(l, now)
			l.q, l.ends = l.q[:0], l.ends[:0]
		}
		if d := l.dropped.Load(); d != 0 {
			b.Fatalf("%d frames dropped", d)
		}
	})
}
