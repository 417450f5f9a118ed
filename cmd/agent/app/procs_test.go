package app

import (
	"runtime"
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
