package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/jonboulle/clockwork"
)

// Notifier sends sd_notify messages ("READY=1", "STATUS=...", "WATCHDOG=1",
// "STOPPING=1"). The zero Options use systemdNotifier, which is a no-op
// outside systemd.
type Notifier interface {
	Notify(state string)
}

type systemdNotifier struct{ log *slog.Logger }

func (n systemdNotifier) Notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// watchdog sends WATCHDOG=1 once per half interval, but only while the
// health beats it is fed keep coming: a wedged main loop stops feeding it,
// the pings stop, and systemd restarts the service.
type watchdog struct {
	interval time.Duration // systemd's WatchdogSec; 0 disables the pings
	clock    clockwork.Clock
	notify   Notifier
	lastBeat atomic.Int64 // clock time (unix nanos) of the last loop beat
}

// Beat records that the main loop completed an iteration.
func (w *watchdog) Beat() { w.lastBeat.Store(w.clock.Now().UnixNano()) }

// Healthy reports whether the loop beat within the last interval (or, with
// the watchdog off, within maxAge).
func (w *watchdog) Healthy(maxAge time.Duration) bool {
	last := w.lastBeat.Load()
	return last != 0 && w.clock.Since(time.Unix(0, last)) <= maxAge
}

// Run pings systemd every interval/2 while the loop is healthy. It returns
// when ctx ends.
func (w *watchdog) Run(ctx context.Context) {
	if w.interval <= 0 {
		return
	}
	t := w.clock.NewTicker(w.interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			if w.Healthy(w.interval / 2) {
				w.notify.Notify(daemon.SdNotifyWatchdog)
			}
		}
	}
}
