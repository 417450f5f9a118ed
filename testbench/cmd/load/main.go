// Command load measures the agent end to end on the bench: the real agent
// process against the simulated drone streaming the usual telemetry set and
// then a saturating burst, while an MQTT subscriber times every relayed
// frame from its last byte written on the pty to its arrival over MQTT.
// It prints the table of docs/performance.md.
//
// Usage:
//
//	go run ./testbench/cmd/load [-usual 60s] [-burst 30s] [-usual-rate 200] [-burst-rate 3000]
//	go run ./testbench/cmd/load -launches 20 [-speed 10]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/agentproc"
	"github.com/dockagent/dock-agent/testbench/world"
)

func main() {
	world.MaybeRunAgent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// recorder matches frames written by the drone with frames arriving over
// MQTT, by their bytes.
type recorder struct {
	mu       sync.Mutex
	pending  map[string][]time.Time
	lat      []time.Duration
	written  uint64
	received uint64
	unknown  uint64
	on       bool
}

func (r *recorder) wrote(frame []byte, _ time.Time) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	r.written++
	k := string(frame)
	r.pending[k] = append(r.pending[k], now)
}

func (r *recorder) arrived(frame []byte) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	k := string(frame)
	q := r.pending[k]
	if len(q) == 0 {
		r.unknown++ // written before the phase started
		return
	}
	r.lat = append(r.lat, now.Sub(q[0]))
	if len(q) == 1 {
		delete(r.pending, k)
	} else {
		r.pending[k] = q[1:]
	}
	r.received++
}

// phase is the result of one load phase.
type phase struct {
	name          string
	rate          int
	dur           time.Duration
	written, recv uint64
	lost          uint64
	p50, p99, max time.Duration
	cpuPct        float64
	hwmMB         float64
	threads       int
	telemetry     int
	telAgeP99     time.Duration
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	usual := fs.Duration("usual", 60*time.Second, "length of the usual-load phase")
	burst := fs.Duration("burst", 30*time.Second, "length of the burst phase")
	usualRate := fs.Int("usual-rate", 200, "messages/s of the usual telemetry set (streams plus extra load)")
	burstRate := fs.Int("burst-rate", 3000, "messages/s of the burst (a saturated 921600 bit/s link)")
	starts := fs.Int("starts", 5, "agent starts measured for exec-to-READY")
	launches := fs.Int("launches", 0, "instead: dispatch `N` times and report the launch latency distribution")
	speed := fs.Float64("speed", 1, "with -launches: world and agent clock speed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *launches > 0 {
		return runLaunches(ctx, *launches, *speed, stdout, stderr)
	}

	rec := &recorder{pending: map[string][]time.Time{}}
	w, err := world.Start(ctx, world.Options{
		BrokerAddr: "127.0.0.1:0", GCS: "none",
		Edit: func(c *config.Config) {
			c.MQTT.MAVLinkBridge = true
			c.Log.Level = "info"
		},
		OnFrameWritten: rec.wrote,
	})
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	defer w.Close()

	// Start-up: exec to READY, several times.
	var startups []time.Duration
	for range *starts {
		if err := w.StopAgent(ctx); err != nil {
			fmt.Fprintf(stderr, "load: stop agent: %v\n", err)
			return 1
		}
		t0 := time.Now()
		if err := w.StartAgent(ctx); err != nil {
			fmt.Fprintf(stderr, "load: start agent: %v\n", err)
			return 1
		}
		startups = append(startups, time.Since(t0))
	}

	sub, telemetry, err := subscribe(ctx, w, rec)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	defer sub.Disconnect(100)
	// Let the agent set up its streams.
	if err := waitLink(ctx, w); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}

	streams := streamRate(w)
	var phases []phase
	for _, ph := range []struct {
		name string
		rate int
		dur  time.Duration
	}{{"usual", *usualRate, *usual}, {"burst", *burstRate, *burst}} {
		extra := max(0, ph.rate-streams)
		p, err := measure(ctx, w, rec, telemetry, ph.name, extra, ph.dur)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		p.rate = extra + streams
		phases = append(phases, p)
	}
	report(stdout, w, phases, startups, streams)
	return 0
}

func streamRate(w *world.World) int {
	total := 1.0 // heartbeat
	for _, hz := range w.Config.Vehicle.StreamRates {
		total += hz
	}
	return int(math.Round(total))
}

// telemetryLog records telemetry arrivals.
type telemetryLog struct {
	mu  sync.Mutex
	n   int
	age []time.Duration // arrival minus the message's own timestamp
}

func subscribe(ctx context.Context, w *world.World, rec *recorder) (mqtt.Client, *telemetryLog, error) {
	tl := &telemetryLog{}
	p := w.Prefix()
	opts := mqtt.NewClientOptions().AddBroker(w.BrokerURL()).SetClientID(fmt.Sprintf("load-%d", time.Now().UnixNano()))
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, nil, fmt.Errorf("connect subscriber: %v", tok.Error())
	}
	tok := c.SubscribeMultiple(map[string]byte{p + "mavlink/out": 0, p + "telemetry": 0}, func(_ mqtt.Client, m mqtt.Message) {
		if strings.HasSuffix(m.Topic(), "/telemetry") {
			now := time.Now()
			var t struct {
				TS time.Time `json:"ts"`
			}
			if json.Unmarshal(m.Payload(), &t) == nil {
				tl.mu.Lock()
				tl.n++
				tl.age = append(tl.age, now.Sub(t.TS))
				tl.mu.Unlock()
			}
			return
		}
		rec.arrived(m.Payload())
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, nil, fmt.Errorf("subscribe: %v", tok.Error())
	}
	_ = ctx
	return c, tl, nil
}

func waitLink(ctx context.Context, w *world.World) error {
	obs, err := w.Observe(ctx)
	if err != nil {
		return err
	}
	defer obs.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return obs.Wait(ctx, func() bool {
		st := obs.State()
		v, _ := st["vehicle"].(map[string]any)
		return v != nil && v["link"] == true
	})
}

func measure(ctx context.Context, w *world.World, rec *recorder, tl *telemetryLog, name string, extra int, dur time.Duration) (phase, error) {
	w.Drone.SetLoadRate(extra)
	// Settle one second, then measure.
	if err := sleep(ctx, time.Second); err != nil {
		return phase{}, err
	}
	pid := w.Agent.PID()
	u0, err := agentproc.ReadUsage(pid)
	if err != nil {
		return phase{}, err
	}
	rec.mu.Lock()
	rec.on, rec.written, rec.received, rec.lat, rec.pending = true, 0, 0, nil, map[string][]time.Time{}
	rec.mu.Unlock()
	tl.mu.Lock()
	tl.n, tl.age = 0, nil
	tl.mu.Unlock()
	t0 := time.Now()
	if err := sleep(ctx, dur); err != nil {
		return phase{}, err
	}
	rec.mu.Lock()
	rec.on = false
	rec.mu.Unlock()
	wall := time.Since(t0)
	u1, err := agentproc.ReadUsage(pid)
	if err != nil {
		return phase{}, err
	}
	w.Drone.SetLoadRate(0)
	// Frames in flight arrive within the drain time.
	if err := sleep(ctx, 2*time.Second); err != nil {
		return phase{}, err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	tl.mu.Lock()
	defer tl.mu.Unlock()
	p := phase{name: name, dur: dur, written: rec.written, recv: rec.received, telemetry: tl.n,
		cpuPct:  100 * float64(u1.CPU-u0.CPU) / float64(wall),
		hwmMB:   float64(u1.HWMBytes) / (1 << 20),
		threads: u1.Threads,
	}
	for _, q := range rec.pending {
		p.lost += uint64(len(q))
	}
	p.p50, p.p99, p.max = percentiles(rec.lat)
	_, p.telAgeP99, _ = percentiles(tl.age)
	return p, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func percentiles(d []time.Duration) (p50, p99, mx time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99), s[len(s)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func report(out io.Writer, w *world.World, phases []phase, startups []time.Duration, streams int) {
	host, _ := os.Hostname()
	fmt.Fprintf(out, "machine: %s, %d CPUs, %s %s/%s\n\n", host, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "| phase | msgs/s | frames written | relayed | lost | latency p50 | p99 | max | agent CPU (%% of one core) | peak RSS | threads | telemetry msgs | telemetry age p99 |\n")
	fmt.Fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range phases {
		fmt.Fprintf(out, "| %s (%v) | %d | %d | %d | %d | %s | %s | %s | %.1f | %.1f MB | %d | %d | %s |\n",
			p.name, p.dur, p.rate, p.written, p.recv, p.lost, ms(p.p50), ms(p.p99), ms(p.max), p.cpuPct, p.hwmMB, p.threads, p.telemetry, ms(p.telAgeP99))
	}
	s50, _, smax := percentiles(startups)
	fmt.Fprintf(out, "\nstart-up, exec to READY=1 over %d starts: median %s, max %s\n", len(startups), ms(s50), ms(smax))
	fmt.Fprintf(out, "usual load = %d msgs/s of requested streams plus extra ATTITUDE/GLOBAL_POSITION_INT/VFR_HUD/SYS_STATUS\n", streams)
}
