package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/world"
)

// launchResult is one measured dispatch.
type launchResult struct {
	latency    time.Duration // command to take-off acknowledged (sortie report)
	afterLimit time.Duration // last of lid-open / arms-released limit closing to take-off
	lidOpen    time.Duration // command to lid-open limit
}

// runLaunches dispatches n times in a row on one world and reports the
// launch latency distribution (issue 8: take-off < 1 s after the lid-open
// limit switch, < 13 s after the dispatch with a 12 s lid).
func runLaunches(ctx context.Context, n int, speed float64, out, errOut io.Writer) int {
	dir, err := os.MkdirTemp("", "dock-launches-")
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	defer func() {
		if keep := os.Getenv("KEEP_LAUNCH_DIR"); keep == "" {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintf(errOut, "launches: kept %s\n", dir)
		}
	}()
	w, obs, err := startObserved(ctx, dir, speed)
	if err != nil {
		fmt.Fprintf(errOut, "launches: %v\n", err)
		return 1
	}
	defer w.Close()
	defer obs.Close()

	var res []launchResult
	for i := range n {
		r, err := oneLaunch(ctx, w, obs)
		if err != nil {
			fmt.Fprintf(errOut, "launches: dispatch %d: %v\n", i+1, err)
			return 1
		}
		fmt.Fprintf(out, "dispatch %2d: launch latency %6.2f s, lid open after %6.2f s, take-off %4.0f ms after the last limit switch\n",
			i+1, r.latency.Seconds(), r.lidOpen.Seconds(), float64(r.afterLimit)/float64(time.Millisecond))
		res = append(res, r)
	}
	lat := make([]time.Duration, len(res))
	after := make([]time.Duration, len(res))
	for i, r := range res {
		lat[i], after[i] = r.latency, r.afterLimit
	}
	slices.Sort(lat)
	slices.Sort(after)
	q := func(s []time.Duration, p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	fmt.Fprintf(out, "\n%d dispatches at speed x%g, lid travel %v, arms travel %v:\n", n, speed, physics.DefaultLidTravel, physics.DefaultArmsTravel)
	fmt.Fprintf(out, "| | min | median | p95 | max |\n| --- | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(out, "| dispatch to take-off | %.2f s | %.2f s | %.2f s | %.2f s |\n", lat[0].Seconds(), q(lat, .5).Seconds(), q(lat, .95).Seconds(), lat[len(lat)-1].Seconds())
	fmt.Fprintf(out, "| last limit switch to take-off | %.0f ms | %.0f ms | %.0f ms | %.0f ms |\n", ms64(after[0]), ms64(q(after, .5)), ms64(q(after, .95)), ms64(after[len(after)-1]))
	if v := w.Witness().Violations(); len(v) > 0 {
		fmt.Fprintf(out, "SAFETY VIOLATIONS: %v\n", v)
		return 1
	}
	return 0
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func oneLaunch(ctx context.Context, w *world.World, obs *world.Observer) (launchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// Wait for a secured dock and a charged, linked vehicle.
	if err := obs.Wait(ctx, func() bool {
		st := obs.State()
		v, _ := st["vehicle"].(map[string]any)
		s, _ := st["sortie"].(map[string]any)
		idle := s == nil || s["phase"] == "complete" || s["phase"] == "aborted" || s["phase"] == "failed"
		return st["lid"] == "closed" && st["arms"] == "clamped" && v != nil && v["link"] == true && v["armed"] == false && idle
	}); err != nil {
		return launchResult{}, fmt.Errorf("dock not ready: %w", err)
	}
	w.Drone.SetBatteryPct(100) // a charged pack: the bench's charger is not modelled
	histFrom := len(w.Physics.History())
	rep, err := obs.Send(ctx, "dispatch", map[string]any{"lat": 24.3515, "lon": 102.5430, "loiter_s": 0, "priority": "alarm"})
	if err != nil {
		return launchResult{}, err
	}
	if !rep.OK {
		return launchResult{}, fmt.Errorf("dispatch refused: %s %s", rep.Error.Code, rep.Error.Message)
	}
	var res struct {
		SortieID string `json:"sortie_id"`
	}
	if err := json.Unmarshal(rep.Result, &res); err != nil {
		return launchResult{}, err
	}
	if _, err := obs.WaitEvent(ctx, 0, func(ev world.Event) bool {
		return ev.Type == "sortie.report" && ev.Fields["sortie_id"] == res.SortieID
	}); err != nil {
		return launchResult{}, fmt.Errorf("no report for %s: %w", res.SortieID, err)
	}
	data, err := os.ReadFile(filepath.Join(w.Config.StateDir, "sorties", res.SortieID+".json"))
	if err != nil {
		return launchResult{}, err
	}
	var rec struct {
		CommandAt time.Time `json:"command_at"`
		TakeoffAt time.Time `json:"takeoff_at"`
		Latency   float64   `json:"launch_latency_s"`
		Outcome   string    `json:"outcome"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return launchResult{}, err
	}
	if rec.TakeoffAt.IsZero() {
		return launchResult{}, fmt.Errorf("sortie %s did not take off (outcome %s)", res.SortieID, rec.Outcome)
	}
	var lidAt, armsAt time.Time
	for _, c := range w.Physics.History()[histFrom:] {
		if !bool(c.Level) || c.At.Before(rec.CommandAt) || c.At.After(rec.TakeoffAt) {
			continue
		}
		switch c.Signal {
		case physics.LidOpenLimit:
			lidAt = c.At
		case physics.ArmsReleasedLimit:
			armsAt = c.At
		}
	}
	if lidAt.IsZero() || armsAt.IsZero() {
		return launchResult{}, fmt.Errorf("sortie %s took off without both limit switches closing first (lid %v, arms %v)", res.SortieID, lidAt, armsAt)
	}
	last := lidAt
	if armsAt.After(last) {
		last = armsAt
	}
	return launchResult{
		latency:    time.Duration(rec.Latency * float64(time.Second)),
		afterLimit: rec.TakeoffAt.Sub(last),
		lidOpen:    lidAt.Sub(rec.CommandAt),
	}, nil
}
