package app

import (
	"os"
	"runtime"
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
