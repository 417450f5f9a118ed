package app

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// TestClockWatch: the first check reports the clock's state, later ones
// every clockSyncEvery and only on a change; a failed reading counts as
// not synchronised.
func TestClockWatch(t *testing.T) {
	synced, fail := false, error(nil)
	var got []bool
	w := &clockWatch{
		read: func() (bool, error) { return synced, fail },
		set:  func(ok bool) { got = append(got, ok) },
		log:  slog.New(slog.DiscardHandler),
	}
	t0 := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	w.check(t0)
	synced = true
	w.check(t0.Add(clockSyncEvery - time.Second)) // not due yet
	w.check(t0.Add(clockSyncEvery))               // due: synchronised now
	w.check(t0.Add(2 * clockSyncEvery))           // no change: nothing set
	fail = errors.New("adjtimex: operation not permitted")
	w.check(t0.Add(3 * clockSyncEvery))
	if want := []bool{false, true, false}; !slices.Equal(got, want) {
		t.Errorf("clock_synced set to %v, want %v", got, want)
	}
}

// TestKernelClockSynced reads this machine's clock state; what it is
// depends on the machine, that it reads is what counts.
func TestKernelClockSynced(t *testing.T) {
	ok, err := kernelClockSynced()
	if err != nil {
		t.Fatalf("kernelClockSynced() = %v", err)
	}
	t.Logf("this machine's clock synchronised: %v", ok)
}
