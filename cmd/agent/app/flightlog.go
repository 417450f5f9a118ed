package app

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink/flightlog"
)

// flightLog records every sortie's MAVLink traffic (both directions) into
// a .tlog of its own; it is the engine's sortie.FlightLog.
type flightLog struct {
	r *flightlog.Recorder
}

// newFlightLog records into vehicle.tlog.dir, or <state_dir>/flightlogs.
func newFlightLog(cfg *config.Config, veh *vehicleLink, clock clockwork.Clock, log *slog.Logger) (*flightLog, error) {
	opts := flightlog.Options{Dir: filepath.Join(cfg.StateDir, "flightlogs"), Clock: clock, Log: log}
	if t := cfg.Vehicle.TLog; t != nil {
		if t.Dir != "" {
			opts.Dir = t.Dir
		}
		opts.MaxFileBytes = t.MaxBytes
		if t.MaxBytes > 0 && t.Keep > 0 {
			opts.MaxTotalBytes = t.MaxBytes * int64(t.Keep)
		}
	}
	r, err := flightlog.New(opts)
	if err != nil {
		return nil, fmt.Errorf("flight log: %w", err)
	}
	veh.addTap(func(raw []byte, _ frameSource) { r.Write(raw) })
	return &flightLog{r: r}, nil
}

// Start begins the sortie's file and returns its name (relative to the
// flight log directory, as the sortie report carries it).
func (f *flightLog) Start(name string) (string, error) {
	p, err := f.r.Start(name)
	return filepath.Base(p), err
}

// Stop ends the sortie's file.
func (f *flightLog) Stop() error {
	_, err := f.r.Stop()
	return err
}

// stop closes the file of a sortie cut short by the shutdown; having none
// open is the usual case, not an error.
func (f *flightLog) stop() error {
	if err := f.Stop(); err != nil && !errors.Is(err, flightlog.ErrNotRecording) {
		return err
	}
	return nil
}
