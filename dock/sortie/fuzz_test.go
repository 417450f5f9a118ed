package sortie_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// FuzzDispatch feeds the engine dispatch arguments: it must answer every
// one with a result or a typed refusal, never panic, and never promise a
// non-finite ETA.
func FuzzDispatch(f *testing.F) {
	f.Add(target.Lat, target.Lon, 60.0, 30.0, "alarm")
	f.Add(52.52, 13.40, 2.0, 0.0, "routine")
	f.Add(91.0, 13.4, 60.0, 30.0, "")
	f.Add(52.52, 200.0, 60.0, 30.0, "alarm")
	f.Add(52.6, 13.4, 60.0, 30.0, "alarm")
	f.Add(math.NaN(), math.Inf(1), math.NaN(), -1.0, "urgent")
	f.Fuzz(func(t *testing.T, lat, lon, alt, loiter float64, prio string) {
		r := newRig(t, nil)
		res, err := r.dispatch(lat, lon, func(a *dock.DispatchRequest) {
			a.AltM, a.LoiterS, a.Priority = &alt, &loiter, dock.Priority(prio)
		})
		switch {
		case err == nil:
			if res.SortieID == "" || math.IsNaN(res.ETAS) || math.IsInf(res.ETAS, 0) || res.CircleMin == nil {
				t.Fatalf("accepted dispatch %+v", res)
			}
		case errors.Is(err, dock.ErrInvalidArgument), errors.Is(err, dock.ErrOutOfRange), errors.Is(err, dock.ErrPrecondition):
		default:
			t.Fatalf("dispatch(%g, %g, alt %g, loiter %g, %q) = %v", lat, lon, alt, loiter, prio, err)
		}
		r.step(coarse)
	})
}

// FuzzStoredState starts the engine on damaged state files: New refuses
// them with an error or Run starts; nothing panics and nothing moves
// unless a sortie was really resumed.
func FuzzStoredState(f *testing.F) {
	f.Add([]byte(`{"sortie_id":"d-1","kind":"dispatch","phase":"launching","command_at":"2026-12-05T18:59:00Z"}`), []byte(`{}`))
	f.Add([]byte(`{"sortie_id":"d-1","kind":"dispatch","phase":"on_station","target":{"lat":52.53,"lon":13.41,"alt_m":60},"takeoff_at":"2026-12-05T18:59:00Z"}`), []byte(`{"r":{"name":"r","waypoints":[{"lat":52.521,"lon":13.4,"alt_m":30}]}}`))
	f.Add([]byte(`{"sortie_id":`), []byte(`[`))
	f.Add([]byte(`null`), []byte(`null`))
	f.Fuzz(func(t *testing.T, active, routes []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "active.json"), active, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "routes.json"), routes, 0o600); err != nil {
			t.Fatal(err)
		}
		r := newRig(t, func(s rigSetup) { s.opts.StateDir = dir; s.opts.RecoverWait = time.Second })
		for range 20 {
			r.step(coarse)
		}
	})
}
