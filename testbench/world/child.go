package world

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/cmd/agent/app"
	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/simclock"
)

// Environment of the agent child process.
const (
	envChild  = "DOCK_BENCH_AGENT"        // "1": this process is the agent
	envConfig = "DOCK_BENCH_AGENT_CONFIG" // the generated config file
	envClock  = "DOCK_BENCH_AGENT_CLOCK"  // realOrigin,simOrigin (unix ns),speed
	// envCPUProfile, when set, is a file the agent writes its CPU profile
	// to, from its start to its exit (the load harness's -cpuprofile).
	envCPUProfile = "DOCK_BENCH_AGENT_CPUPROFILE"
	// envRealClock "1" gives the agent the production clock
	// (clockwork.NewRealClock) when the world runs at speed 1, where the
	// simulated clock reads the same: the load harness measures the
	// agent's own CPU, not the scaled clock's relay goroutine per ticker.
	envRealClock = "DOCK_BENCH_AGENT_REALCLOCK"
)

// MaybeRunAgent turns this process into the agent when the world started it
// as its child, and never returns then. Every binary that makes a World
// (the bench command, the load harness, test binaries in TestMain) calls it
// first thing: the world re-executes its own binary so that the agent is
// the same code as cmd/agent, in a process of its own, on the world's
// scaled clock.
func MaybeRunAgent() {
	if os.Getenv(envChild) != "1" {
		return
	}
	os.Exit(runChild())
}

func runChild() int {
	cfg, err := config.Load(os.Getenv(envConfig))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	clock, err := parseClock(os.Getenv(envClock))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench agent: %v\n", err)
		return 1
	}
	var agentClock clockwork.Clock = clock
	if os.Getenv(envRealClock) == "1" && clock.Speed() == 1 && clock.RealOrigin().Equal(clock.SimOrigin()) {
		agentClock = clockwork.NewRealClock()
	}
	log, _ := app.NewLogger(os.Stderr, cfg.Log.Level, app.LogFormat(cfg.Log.Format))
	if clock.Speed() == 1 {
		// As deployed (cmd/agent). A compressed clock multiplies the
		// agent's events per second by its speed, so tests at speed keep
		// the runtime's default.
		log.Info("bench agent", "gomaxprocs", app.LimitProcs(), "gogc", app.LimitHeap())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if path := os.Getenv(envCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench agent: cpu profile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "bench agent: cpu profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if err := app.Run(ctx, app.Options{Config: cfg, Version: "bench", Logger: log, Clock: agentClock}); err != nil {
		log.Error("dock agent failed", "err", err)
		return 1
	}
	return 0
}

func clockEnv(c *simclock.Clock) string {
	return fmt.Sprintf("%d,%d,%g", c.RealOrigin().UnixNano(), c.SimOrigin().UnixNano(), c.Speed())
}

func parseClock(s string) (*simclock.Clock, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("clock %q: want realOrigin,simOrigin,speed", s)
	}
	r, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	speed, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil || speed <= 0 {
		return nil, fmt.Errorf("clock %q: want realOrigin,simOrigin,speed", s)
	}
	return simclock.New(time.Unix(0, r), time.Unix(0, m), speed), nil
}
