package app

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// DefaultMaxProcs is how many threads run the agent's Go code at once
// unless the GOMAXPROCS environment variable says otherwise. The agent
// needs a few percent of one core (5 % in a saturated MAVLink burst) and
// shares the board with video encoders; with one P the runtime also stops
// waking a second thread for every goroutine handed work, which was a
// third of the agent's CPU time at the usual load (docs/performance.md).
const DefaultMaxProcs = 1

// LimitProcs sets GOMAXPROCS to DefaultMaxProcs unless the environment
// sets it, and returns the value in force.
func LimitProcs() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	runtime.GOMAXPROCS(DefaultMaxProcs)
	return DefaultMaxProcs
}

// DefaultGCPercent is the agent's GOGC unless the environment sets it. The
// agent's live heap is about 1.3 MB; at Go's default of 100 the heap grows
// to the runtime's 4 MB minimum goal between collections, at 50 to 2 MB.
// That is 1.5 MB less resident memory at the usual load (peak RSS 19.8 MB
// against 18.3 MB at 200 msgs/s) for no CPU the load harness could tell
// apart (docs/performance.md); 25 saved nothing more.
const DefaultGCPercent = 50

// LimitHeap sets the GC percent to DefaultGCPercent unless the GOGC
// environment variable sets it, and returns the value in force.
func LimitHeap() int {
	if os.Getenv("GOGC") != "" {
		// The runtime applied it at start; read it back without changing it.
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
