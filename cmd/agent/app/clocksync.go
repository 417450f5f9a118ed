package app

import (
	"log/slog"
	"time"

	"golang.org/x/sys/unix"
)

// clockSyncEvery is how often the agent asks the kernel whether the clock
// is synchronised: an NTP daemon takes seconds to minutes to get there.
const clockSyncEvery = 30 * time.Second

// kernelClockSynced reports whether the kernel's clock is synchronised (an
// NTP daemon such as systemd-timesyncd or chrony disciplines it), as
// timedatectl's "System clock synchronized" reads it: adjtimex(2) reports
// no clock error, its status lacks STA_UNSYNC, and its maximum error is
// under 16 s.
func kernelClockSynced() (bool, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, err
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0 && tx.Maxerror < 16_000_000, nil
}

// clockWatch feeds the dock state's clock_synced (command expiries and
// schedules trust the clock) from a reading of the kernel, and logs when
// it changes.
type clockWatch struct {
	read func() (bool, error) // kernelClockSynced, or a test's
	set  func(bool)           // the controller's SetClockSynced
	log  *slog.Logger

	last    time.Time
	known   bool // a reading was taken
	synced  bool
	errSeen bool // the last reading failed (logged once)
}

// check reads the clock's state when clockSyncEvery has passed since the
// last reading (or there was none) and passes a change on.
func (w *clockWatch) check(now time.Time) {
	if w.known && now.Sub(w.last) < clockSyncEvery {
		return
	}
	w.last = now
	synced, err := w.read()
	if err != nil {
		if !w.errSeen {
			w.log.Warn("system clock state not readable; reported as not synchronised", "err", err)
		}
		w.errSeen = true
		synced = false
	} else {
		w.errSeen = false
	}
	if w.known && synced == w.synced {
		return
	}
	w.known, w.synced = true, synced
	w.set(synced)
	if synced {
		w.log.Info("system clock synchronised")
	} else {
		w.log.Warn("system clock not synchronised: command expiries and schedules may be off")
	}
}
