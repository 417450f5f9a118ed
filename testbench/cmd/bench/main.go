// Command bench runs the dock agent on the bench: simulated drone, dock
// I/O module and weather station on pseudo-terminals, an MQTT broker, and
// the real agent as a process of its own. It prints what to watch and
// flies a demo patrol, then runs until interrupted. With -scenario it runs
// a scripted scenario and exits 0 only if every expectation held and no
// safety invariant was broken.
//
// Usage:
//
//	go run ./testbench/cmd/bench [-speed N] [-broker URL] [-vehicle URL] [-scenario FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/world"
)

func main() {
	world.MaybeRunAgent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	speed := fs.Float64("speed", 1, "run the world and the agent `N` times faster")
	brokerURL := fs.String("broker", "", "use this external MQTT broker `URL` (tcp://host:port) instead of the embedded one on 127.0.0.1:1883")
	listen := fs.String("listen", "127.0.0.1:1883", "`address` of the embedded broker")
	vehicle := fs.String("vehicle", "", "a real autopilot `URL` (tcp://, udp://, udpin:// or a serial path) instead of the simulated drone")
	gcs := fs.String("gcs", "udp://127.0.0.1:14550", "ground-station forward `URL`, or none")
	dir := fs.String("dir", "", "keep the bench's files (config, agent log, state) in `DIR`")
	demo := fs.Bool("demo", true, "fly a demo patrol once the drone is linked")
	scenario := fs.String("scenario", "", "run the scenario `FILE` and exit with its verdict")
	verbose := fs.Bool("v", false, "log the world's own debug messages")
	page := fs.String("page", "", "serve the agent's /metrics and the dock page (http.page) on `ADDR`, e.g. 127.0.0.1:9108")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := world.Options{Dir: *dir, Speed: *speed, BrokerURL: *brokerURL, BrokerAddr: *listen, VehicleURL: *vehicle, GCS: *gcs, Logger: log}
	if *page != "" {
		opts.Edit = pageOn(*page)
	}
	if *scenario != "" {
		return runScenario(ctx, *scenario, opts, stdout, stderr)
	}
	opts.DemoSchedule = true // the newcomer's bench shows the hourly demo patrol

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	started := time.Now()
	w, err := world.Start(startCtx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	defer w.Close()
	p := w.Prefix()
	fmt.Fprintf(stdout, `dock agent on the bench (pid %d, ready in %v, speed x%g)

  broker      %s
  watch       mosquitto_sub -h %s -t '%s#' -v
  command     mosquitto_pub -h %s -t '%scmd/dispatch' -m '{"id":"d1","lat":24.3560,"lon":102.5480}'
  vehicle     %s
  dock I/O    %s (Modbus RTU unit 1)
  weather     %s (Modbus RTU unit 2)
  gcs         %s
  files       %s (agent.yaml, agent.log, state/)

`, w.Agent.PID(), time.Since(started).Round(time.Millisecond), *speed, w.BrokerURL(), brokerHost(w.BrokerURL()), p,
		brokerHost(w.BrokerURL()), p, orDefault(w.PtyPath("vehicle"), *vehicle), w.PtyPath("io"), w.PtyPath("weather"), *gcs, w.Dir())

	obs, err := w.Observe(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	defer obs.Close()
	if *page != "" {
		fmt.Fprintf(stdout, "  dock page   http://%s/\n\n", *page)
	}
	go printEvents(ctx, obs, stdout)
	if *demo {
		go demoPatrol(ctx, w, obs, stdout)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nbench: stopping")
	if v := w.Witness().Violations(); len(v) > 0 {
		fmt.Fprintf(stdout, "bench: %d safety violations:\n", len(v))
		for _, x := range v {
			fmt.Fprintf(stdout, "  %s\n", x)
		}
		return 1
	}
	return 0
}

// pageOn turns the agent's metrics and dock page on at addr.
func pageOn(addr string) func(*config.Config) {
	return func(c *config.Config) { c.Metrics.Listen, c.HTTP.Page = addr, true }
}

// demoPatrol flies the bench route once the drone is linked with a GPS
// fix and its battery known (a patrol sent earlier is refused by the gates).
func demoPatrol(ctx context.Context, w *world.World, obs *world.Observer, out io.Writer) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := obs.Wait(ctx, obs.ReadyToFly); err != nil {
		fmt.Fprintf(out, "bench: the drone never got ready for the demo patrol (link, battery, GPS fix): %v\n", err)
		return
	}
	rep, err := obs.Send(ctx, "patrol", map[string]any{"route": "demo"})
	switch {
	case err != nil:
		fmt.Fprintf(out, "bench: demo patrol: %v\n", err)
	case !rep.OK:
		fmt.Fprintf(out, "bench: demo patrol refused: %s: %s %s\n", rep.Error.Code, rep.Error.Message, rep.Error.Details)
	default:
		fmt.Fprintf(out, "bench: demo patrol accepted: %s\n", rep.Result)
	}
}

// printEvents prints every event as it arrives.
func printEvents(ctx context.Context, obs *world.Observer, out io.Writer) {
	n := 0
	for ctx.Err() == nil {
		_ = obs.Wait(ctx, func() bool { return len(obs.Events()) > n })
		evs := obs.Events()
		for _, ev := range evs[min(n, len(evs)):] {
			fmt.Fprintf(out, "%s  event %-16s %s\n", ev.At.Format("15:04:05.0"), ev.Type, compact(ev.Fields))
		}
		n = len(evs)
	}
}

func compact(f map[string]any) string {
	s := ""
	for _, k := range []string{"sortie_id", "phase", "id", "status", "step", "reason", "fault", "gate", "code", "message", "outcome"} {
		if v, ok := f[k]; ok && v != nil && v != "" {
			s += fmt.Sprintf("%s=%v ", k, v)
		}
	}
	return s
}

func brokerHost(url string) string {
	var host, port string
	if _, err := fmt.Sscanf(url, "tcp://%s", &host); err != nil {
		return "127.0.0.1"
	}
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			host, port = host[:i], host[i+1:]
			break
		}
	}
	if port != "" && port != "1883" {
		return host + " -p " + port
	}
	return host
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
