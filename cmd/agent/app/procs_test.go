package app

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestLimitProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "")
	runtime.GOMAXPROCS(2)
	if n := LimitProcs(); n != DefaultMaxProcs || runtime.GOMAXPROCS(0) != DefaultMaxProcs {
		t.Errorf("LimitProcs() with GOMAXPROCS unset = %d (in force %d), want %d", n, runtime.GOMAXPROCS(0), DefaultMaxProcs)
	}
	// The operator's GOMAXPROCS (the runtime read it at start) wins.
	t.Setenv("GOMAXPROCS", "2")
	runtime.GOMAXPROCS(2)
	if n := LimitProcs(); n != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Errorf("LimitProcs() with GOMAXPROCS=2 = %d (in force %d), want 2", n, runtime.GOMAXPROCS(0))
	}
}

func TestLimitHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	debug.SetGCPercent(100)
	if n := LimitHeap(); n != DefaultGCPercent || debug.SetGCPercent(DefaultGCPercent) != DefaultGCPercent {
		t.Errorf("LimitHeap() with GOGC unset = %d, want %d in force", n, DefaultGCPercent)
	}
	// The operator's GOGC (the runtime read it at start) wins.
	t.Setenv("GOGC", "80")
	debug.SetGCPercent(80)
	if n := LimitHeap(); n != 80 || debug.SetGCPercent(80) != 80 {
		t.Errorf("LimitHeap() with GOGC=80 = %d, want 80 in force", n)
	}
}
