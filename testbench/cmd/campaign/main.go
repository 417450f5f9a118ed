// Command campaign runs the fault campaign of issue 11 against the real
// agent on the bench: every sortie phase x every fault (or a random fault
// schedule from a seed), and prints the phase x fault matrix.
//
//	go run ./testbench/cmd/campaign                       # the full matrix
//	go run ./testbench/cmd/campaign -phases airborne -faults estop,agent_kill
//	go run ./testbench/cmd/campaign -seed 42              # a random schedule
//	go run ./testbench/cmd/campaign -inbound 50           # frames to the vehicle (issue 21)
//	go run ./testbench/cmd/campaign -abort-sweep -speed 4 # aborts around the arms' end (issue 21)
//	go run ./testbench/cmd/campaign -burst 1000           # 1000 status commands at once, via mosquitto (issue 21)
//	go run ./testbench/cmd/campaign -retained             # a retained dispatch across restarts, via mosquitto (issue 21)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/testbench/campaign"
	"github.com/dockagent/dock-agent/testbench/world"
)

func main() {
	world.MaybeRunAgent()
	os.Exit(run())
}

func run() int {
	speed := flag.Float64("speed", 20, "simulated world and agent clocks run this many times faster")
	phases := flag.String("phases", strings.Join(campaign.Phases, ","), "comma-separated sortie phases")
	faults := flag.String("faults", "", "comma-separated faults (default all)")
	parallel := flag.Int("parallel", 1, "cells run at once")
	seed := flag.Int64("seed", -1, "run a random fault schedule from this seed instead of the matrix (0 picks one)")
	k := flag.Int("k", 3, "faults in a random schedule")
	sorties := flag.Int("sorties", 2, "dispatches in a random schedule")
	dir := flag.String("dir", "", "keep each cell's world (config, agent log, state) under this directory")
	md := flag.String("md", "", "also write the matrix as a Markdown table to this file")
	verbose := flag.Bool("v", false, "print each cell's progress")
	inbound := flag.Int("inbound", 0, "run the inbound campaign instead (each arming frame this often per source) and print its figures")
	abortSweep := flag.Bool("abort-sweep", false, "run the abort sweep instead: 13 aborts from 60 ms before to 60 ms after the arms' end switch (use -speed 4)")
	burst := flag.Int("burst", 0, "run the burst case instead: this many status commands at once through mosquitto, every one answered; prints the time and the telemetry gap")
	retained := flag.Bool("retained", false, "run the retained case instead: a retained dispatch through mosquitto, flown once, answered stale after broker and agent restarts")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	o := campaign.Options{Speed: *speed, Dir: *dir}
	if *verbose {
		o.Log = logf
	}

	if *inbound > 0 {
		fmt.Printf("inbound campaign at speed x%g (reproduce: go run ./testbench/cmd/campaign -inbound %d -speed %g)\n", *speed, *inbound, *speed)
		o.Log = logf
		res, err := campaign.RunInbound(ctx, o, *inbound)
		fmt.Print(res)
		if err != nil {
			fmt.Fprintf(os.Stderr, "campaign: inbound: %v\n", err)
			return 1
		}
		if !res.Pass() {
			fmt.Println("inbound: FAIL")
			return 1
		}
		fmt.Println("inbound: PASS")
		return 0
	}

	if *burst > 0 {
		fmt.Printf("burst case at speed x%g (reproduce: go run ./testbench/cmd/campaign -burst %d -speed %g)\n", *speed, *burst, *speed)
		res, err := campaign.RunBurst(ctx, o, *burst)
		fmt.Print(res)
		if err != nil {
			fmt.Fprintf(os.Stderr, "campaign: burst: %v\n", err)
			return 1
		}
		if !res.Pass() {
			fmt.Println("burst: FAIL")
			return 1
		}
		fmt.Println("burst: PASS")
		return 0
	}

	if *retained {
		fmt.Printf("retained case at speed x%g (reproduce: go run ./testbench/cmd/campaign -retained -speed %g)\n", *speed, *speed)
		o.Log = logf
		res, err := campaign.RunRetained(ctx, o)
		fmt.Print(res)
		if err != nil {
			fmt.Fprintf(os.Stderr, "campaign: retained: %v\n", err)
			return 1
		}
		if !res.Pass() {
			fmt.Println("retained: FAIL")
			return 1
		}
		fmt.Println("retained: PASS")
		return 0
	}

	if *abortSweep {
		fmt.Printf("abort sweep at speed x%g (reproduce: go run ./testbench/cmd/campaign -abort-sweep -speed %g)\n", *speed, *speed)
		o.Log = logf
		tries, err := campaign.RunAbortSweep(ctx, o, campaign.AbortSweepTargets(60*time.Millisecond, 10*time.Millisecond))
		failed := 0
		for _, tr := range tries {
			if !tr.Pass {
				failed++
			}
		}
		fmt.Printf("abort sweep: %d of %d aborts failed\n", failed, len(tries))
		if err != nil {
			fmt.Fprintf(os.Stderr, "campaign: abort sweep: %v\n", err)
			return 1
		}
		if failed > 0 {
			return 1
		}
		return 0
	}

	if *seed >= 0 {
		s := *seed
		if s == 0 {
			s = time.Now().UnixNano() % 1_000_000
		}
		fmt.Printf("seed %d (reproduce: go run ./testbench/cmd/campaign -seed %d -k %d -sorties %d -speed %g)\n", s, s, *k, *sorties, *speed)
		o.Log = logf
		res := campaign.RunSchedule(ctx, o, campaign.RandomSchedule(s, *k, *sorties))
		fmt.Println(res)
		if !res.Pass {
			return 1
		}
		return 0
	}

	var fs []campaign.Fault
	if *faults == "" {
		fs = campaign.Faults()
	} else {
		for _, n := range strings.Split(*faults, ",") {
			f, ok := campaign.FaultByName(n)
			if !ok {
				fmt.Fprintf(os.Stderr, "campaign: unknown fault %q\n", n)
				return 2
			}
			fs = append(fs, f)
		}
	}
	ps := strings.Split(*phases, ",")
	start := time.Now()
	fmt.Printf("campaign: %d phases x %d faults at speed x%g, parallel %d, on %s/%s with %d CPUs\n",
		len(ps), len(fs), *speed, *parallel, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	m := campaign.RunMatrix(ctx, o, ps, fs, *parallel, func(v campaign.Verdict) {
		logf("%-10s %-15s %s", v.Phase, v.Fault, v.Line())
	})
	wall := time.Since(start)
	fmt.Println()
	fmt.Print(m.Text())
	fmt.Printf("%d/%d cells pass, wall %v\n", m.Passed(), len(m.Cells), wall.Round(time.Second))
	if *md != "" {
		cmd := "go run ./testbench/cmd/campaign " + strings.Join(os.Args[1:], " ")
		if err := os.WriteFile(*md, []byte(m.Markdown(cmd, wall)), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "campaign: write %s: %v\n", *md, err)
			return 1
		}
	}
	if m.Passed() != len(m.Cells) {
		return 1
	}
	return 0
}
