// Command fleet runs many bench docks on one MQTT broker and a small
// command centre that sends them a seeded stream of incidents: it quotes
// every ready dock, dispatches the fastest, retargets when an incident
// moves, and prints per incident the chosen dock, its promised ETA and the
// actual time to the scene (docs/fleet.md).
//
// Usage:
//
//	go run ./testbench/cmd/fleet [-docks N] [-incidents N] [-seed N] [-speed N] [-broker URL] [-idle D]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/testbench/fleet"
	"github.com/dockagent/dock-agent/testbench/world"
)

func main() {
	world.MaybeRunAgent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	docks := fs.Int("docks", 20, "start `N` bench docks")
	speed := fs.Float64("speed", 10, "run the worlds and the agents `N` times faster")
	brokerURL := fs.String("broker", "", "use this MQTT broker `URL` instead of starting mosquitto (or the embedded broker)")
	dir := fs.String("dir", "", "keep the docks' files (config, agent log, state) in `DIR`/<dock id>")
	idle := fs.Duration("idle", 0, "only measure: start the docks, let them idle for `D` (real time), print the CPU they used, exit")
	ioPoll := fs.Duration("io-poll", 20*time.Millisecond, "agents poll their I/O module every `D` of real time (0: the bench's 20 ms of simulated time, D/speed real)")
	incidents := fs.Int("incidents", 50, "send `N` incidents")
	seed := fs.Uint64("seed", 1, "seed of the incident stream")
	every := fs.Duration("every", 120*time.Second, "mean simulated time `D` between incidents")
	moving := fs.Float64("moving", 0.3, "`fraction` of incidents that move once after the dispatch")
	loiter := fs.Float64("loiter", 30, "dispatches loiter `S` seconds on station")
	verbose := fs.Bool("v", false, "log the fleet's progress")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	startCtx, cancel := context.WithTimeout(ctx, time.Duration(30+10**docks)*time.Second)
	defer cancel()
	t0 := time.Now()
	d, err := fleet.StartDocks(startCtx, fleet.DockOptions{N: *docks, Speed: *speed, BrokerURL: *brokerURL, Dir: *dir, IOPollReal: *ioPoll, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	defer d.Close()
	fmt.Fprintf(stdout, "fleet: %d docks ready in %v on %s (%s), speed x%g\n", *docks, time.Since(t0).Round(time.Millisecond), d.BrokerURL, d.BrokerKind, *speed)
	if *idle > 0 {
		return measureIdle(ctx, d, *idle, stdout, stderr)
	}

	pos := make([]fleet.Point, len(d.Worlds))
	for i, w := range d.Worlds {
		pos[i] = fleet.Point{Lat: w.Config.Position.Lat, Lon: w.Config.Position.Lon}
	}
	stream := fleet.Stream(fleet.StreamOptions{Count: *incidents, Seed: *seed, Docks: pos, SpacingM: fleet.DefaultSpacingM,
		Every: *every, MoveFraction: *moving})
	rep, cpu, wall, err := fleet.RunCentre(ctx, d, *speed, fleet.RunOptions{Incidents: stream, LoiterS: *loiter, Out: stdout}, log)
	if err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\n%s", fleet.FormatSummary(rep))
	fmt.Fprint(stdout, fleet.FormatCPU(cpu, wall))
	fmt.Fprintf(stdout, "load average: %s\n", fleet.LoadAvg())
	if trips := d.WatchdogTrips(); len(trips) > 0 {
		fmt.Fprintf(stdout, "io module watchdog trips (coils cut): %s\n", strings.Join(trips, ", "))
	}
	if v := d.Violations(); len(v) > 0 {
		fmt.Fprintf(stdout, "%d safety violations:\n", len(v))
		for _, x := range v {
			fmt.Fprintf(stdout, "  %s\n", x)
		}
		return 1
	}
	for _, r := range rep.Results {
		if !r.ServedByNamed() || !r.PromiseAccounted() {
			return 1
		}
	}
	return 0
}

// measureIdle prints what the idle fleet costs: CPU per agent, of this
// process (drones, I/O modules, weather stations) and of the broker.
func measureIdle(ctx context.Context, d *fleet.Docks, span time.Duration, stdout, stderr io.Writer) int {
	// Let the start settle (first states, circles, link up) before measuring.
	select {
	case <-ctx.Done():
		return 1
	case <-time.After(5 * time.Second):
	}
	c0, err := d.CPU()
	if err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return 1
	case <-time.After(span):
	}
	c1, err := d.CPU()
	if err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, fleet.FormatCPU(c1.Sub(c0), time.Since(t0)))
	fmt.Fprintf(stdout, "load average: %s\n", fleet.LoadAvg())
	return 0
}
