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
//	go run ./testbench/cmd/load -report [-report-phase 15s] [-report-rates idle,200,2500,10000] [-io-idle-poll 45ms]
//	go run ./testbench/cmd/load -alerts 20 [-quotes 200] [-speed 5]
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
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/agentproc"
	"github.com/dockagent/dock-agent/testbench/world"
)

func main() {
	world.MaybeRunAgent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// phase is the result of one load phase.
type phase struct {
	name      string
	rate      int
	dur       time.Duration
	sub       stageStats // frames as the subscriber received them
	broker    stageStats // frames as the broker received them
	counters  stageCounters
	cpuPct    float64
	hwmMB     float64
	threads   int
	gorouts   int
	telemetry int
	telAgeP99 time.Duration
	loadAvg   string // the machine's 1-minute load average at the end
	// relayInFlight is the frames between the agent's parser and its
	// bridge at an edge of the counters' window, when the relay did not
	// drain within drainWait (0 otherwise).
	relayInFlight float64
}

// stageCounters are the drop counters of each stage over a phase and its
// drain.
type stageCounters struct {
	droneDropped  uint64 // the simulated drone's own queue (a full link)
	linkFrames    uint64 // good frames the agent's parser read
	badCRC        uint64 // damaged frames the agent's parser skipped
	rejected      uint64 // checksum-valid frames the parser refused
	skippedBytes  uint64 // bytes outside any frame
	bridgeOut     uint64 // frames the agent published on mavlink/out
	bridgeDropped uint64 // frames the agent's bridge dropped
}

// Environment of the bench's agent child (testbench/world): write a CPU
// profile; use the production clock (the world runs at speed 1 here).
const (
	agentEnvCPUProfile = "DOCK_BENCH_AGENT_CPUPROFILE"
	agentEnvRealClock  = "DOCK_BENCH_AGENT_REALCLOCK"
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	usual := fs.Duration("usual", 60*time.Second, "length of the usual-load phase (0 skips it)")
	burst := fs.Duration("burst", 30*time.Second, "length of the burst phase (0 skips it)")
	usualRate := fs.Int("usual-rate", 200, "messages/s of the usual telemetry set (streams plus extra load)")
	burstRate := fs.Int("burst-rate", 3000, "messages/s of the burst (a saturated 921600 bit/s link)")
	starts := fs.Int("starts", 5, "agent starts measured for exec-to-READY")
	bridge := fs.Bool("bridge", true, "relay raw MAVLink over MQTT (off: no per-frame latency; to see what the relay costs)")
	bridgeBatch := fs.Int("bridge-batch", 0, "mqtt.mavlink_bridge_batch: up to `N` frames of one read per mavlink/out message (0: one frame a message)")
	ioPoll := fs.Duration("io-poll", 0, "poll the I/O module this often instead of the bench config's 20ms (to see what polling costs)")
	ioIdlePoll := fs.Duration("io-idle-poll", 0, "buses.io.idle_poll_interval: poll the I/O module this often while the dock rests (0: the bench config's)")
	cpuProfile := fs.String("cpuprofile", "", "write the agent's CPU profile (from its last start to its exit) to `file` (measures the bench binary's agent child, which can write one)")
	agentPath := fs.String("agent", "", "the dock-agent `executable` to measure (default: cmd/agent built as scripts/release.sh builds it)")
	launches := fs.Int("launches", 0, "instead: dispatch `N` times and report the launch latency distribution")
	alerts := fs.Int("alerts", 0, "instead: time `N` quotes, then alert, wait for staged and dispatch N times; report dispatch to airborne")
	quotes := fs.Int("quotes", 200, "with -alerts: quotes timed over MQTT before the alerts (0: none)")
	speed := fs.Float64("speed", 1, "with -launches or -alerts: world and agent clock speed")
	reportMode := fs.Bool("report", false, "instead: measure the relay configurations (UDP only, bridge, batched bridge, a reference router on PATH) at each -report-rates and print docs/performance.md's relay table")
	reportPhase := fs.Duration("report-phase", 15*time.Second, "with -report: length of each measured rate")
	reportRates := fs.String("report-rates", "idle,200,2500,10000", "with -report: msgs/s to measure, comma-separated (idle: the requested streams alone)")
	reportBatch := fs.Int("report-batch", 16, "with -report: mqtt.mavlink_bridge_batch of the batched configuration")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *launches > 0 {
		return runLaunches(ctx, *launches, *speed, stdout, stderr)
	}
	if *alerts > 0 {
		return runAlerts(ctx, *alerts, *quotes, *speed, stdout, stderr)
	}
	os.Setenv(agentEnvRealClock, "1") // the agent child inherits the environment
	// The program a dock runs, unless a CPU profile is asked for: only the
	// bench binary's agent child writes one.
	var agentBin string
	if *cpuProfile == "" {
		bin, cleanup, err := agentBinary(ctx, *agentPath)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		defer cleanup()
		agentBin = bin
	}
	if *reportMode {
		rates, err := parseRates(*reportRates)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 2
		}
		return runReport(ctx, reportOptions{phase: *reportPhase, rates: rates, starts: *starts, batch: *reportBatch, ioIdlePoll: *ioIdlePoll, agentBin: agentBin}, stdout, stderr)
	}
	if *cpuProfile != "" {
		abs, err := filepath.Abs(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 2
		}
		os.Setenv(agentEnvCPUProfile, abs) // the agent child inherits the environment
	}

	metricsAddr, err := freeAddr()
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	atSub, atBroker := newMatcher(), newMatcher()
	w, err := world.Start(ctx, world.Options{
		BrokerAddr: "127.0.0.1:0", GCS: "none", AgentBinary: agentBin,
		Edit: func(c *config.Config) {
			c.MQTT.MAVLinkBridge = *bridge
			if *bridge {
				c.MQTT.MAVLinkBridgeBatch = *bridgeBatch
			}
			c.Log.Level = "info"
			c.Metrics.Listen = metricsAddr
			if *ioPoll > 0 {
				b := c.Buses["io"]
				b.PollInterval = *ioPoll
				c.Buses["io"] = b
			}
			if *ioIdlePoll > 0 {
				b := c.Buses["io"]
				b.IdlePollInterval = *ioIdlePoll
				c.Buses["io"] = b
			}
		},
		OnFrameWritten: func(frame []byte, _ time.Time) {
			now := time.Now()
			f := string(frame)
			atSub.wrote(f, now)
			atBroker.wrote(f, now)
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	defer w.Close()
	outTopic := w.Prefix() + "mavlink/out"
	w.Broker.Tap(func(topic string, payload []byte) {
		if topic == outTopic {
			now := time.Now()
			eachFrame(payload, func(f []byte) { atBroker.arrived(string(f), now) })
		}
	})

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

	sub, telemetry, err := subscribe(w, atSub)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	defer sub.Disconnect(100)
	// Let the agent set up its streams, then switch to the docked ones.
	if err := waitLink(ctx, w); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	if err := waitDocked(ctx, w); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}

	streams := streamRate(w)
	var phases []phase
	for i, ph := range []struct {
		name string
		rate int
		dur  time.Duration
	}{{"usual", *usualRate, *usual}, {"burst", *burstRate, *burst}} {
		if ph.dur <= 0 {
			continue
		}
		extra := max(0, ph.rate-streams)
		p, err := measure(ctx, w, metricsAddr, *bridge, []*matcher{atSub, atBroker}, telemetry, i+1, ph.name, extra, ph.dur)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		p.rate = extra + streams
		phases = append(phases, p)
	}
	report(stdout, phases, startups, streams, atSub.unknownCount(), atBroker.unknownCount())
	if *cpuProfile != "" {
		// The agent writes its profile when it exits.
		if err := w.StopAgent(ctx); err != nil {
			fmt.Fprintf(stderr, "load: stop agent for its profile: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nagent CPU profile: %s\n", os.Getenv(agentEnvCPUProfile))
	}
	return 0
}

// streamRate is the msgs/s of the streams a resting dock asks for
// (vehicle.docked_stream_rates) and the heartbeat.
func streamRate(w *world.World) int {
	total := 1.0 // heartbeat
	for _, hz := range w.Config.Vehicle.DockedStreamRates {
		total += hz
	}
	return int(math.Round(total))
}

// attitudeMsgID is ATTITUDE, a stream the docked rates turn off.
const attitudeMsgID = 30

// waitDocked waits until the agent asked the drone for the docked stream
// rates, which it does after 30 s of rest (cmd/agent/app/streams.go), so
// that every phase measures what a resting dock relays and none a switch
// in its middle.
func waitDocked(ctx context.Context, w *world.World) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for w.Drone.Interval(attitudeMsgID) != 0 {
		if err := sleep(ctx, 100*time.Millisecond); err != nil { // polling a condition
			return fmt.Errorf("the agent never asked for the docked stream rates: %w", err)
		}
	}
	return nil
}

// telemetryLog records telemetry arrivals.
type telemetryLog struct {
	mu  sync.Mutex
	n   int
	age []time.Duration // arrival minus the message's own timestamp
}

func subscribe(w *world.World, m *matcher) (mqtt.Client, *telemetryLog, error) {
	tl := &telemetryLog{}
	p := w.Prefix()
	opts := mqtt.NewClientOptions().AddBroker(w.BrokerURL()).SetClientID(fmt.Sprintf("load-%d", time.Now().UnixNano()))
	// In order on paho's router goroutine (the default): the matcher
	// relies on the order frames arrive in.
	opts.SetOrderMatters(true)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, nil, fmt.Errorf("connect subscriber: %v", tok.Error())
	}
	tok := c.SubscribeMultiple(map[string]byte{p + "mavlink/out": 0, p + "telemetry": 0}, func(_ mqtt.Client, msg mqtt.Message) {
		now := time.Now()
		if strings.HasSuffix(msg.Topic(), "/telemetry") {
			var t struct {
				TS time.Time `json:"ts"`
			}
			if json.Unmarshal(msg.Payload(), &t) == nil {
				tl.mu.Lock()
				tl.n++
				tl.age = append(tl.age, now.Sub(t.TS))
				tl.mu.Unlock()
			}
			return
		}
		eachFrame(msg.Payload(), func(f []byte) { m.arrived(string(f), now) })
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, nil, fmt.Errorf("subscribe: %v", tok.Error())
	}
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

func measure(ctx context.Context, w *world.World, metricsAddr string, bridge bool, ms []*matcher, tl *telemetryLog, id int, name string, extra int, dur time.Duration) (phase, error) {
	var inFlight float64 // frames between parser and bridge at an edge of the window, if it never drained
	w.Drone.SetLoadRate(extra)
	// Settle one second, then measure.
	if err := sleep(ctx, time.Second); err != nil {
		return phase{}, err
	}
	pid := w.Agent.PID()
	edge := scrape // without the bridge no stage follows the parser
	if bridge {
		edge = func(ctx context.Context, addr string) (agentMetrics, error) {
			m, gap, err := scrapeDrained(ctx, addr, drainWait)
			if gap != 0 {
				inFlight = gap
			}
			return m, err
		}
	}
	m0, err := edge(ctx, metricsAddr)
	if err != nil {
		return phase{}, err
	}
	d0 := droneDropped(w)
	u0, err := agentproc.ReadUsage(pid)
	if err != nil {
		return phase{}, err
	}
	tl.mu.Lock()
	tl.n, tl.age = 0, nil
	tl.mu.Unlock()
	for _, m := range ms {
		m.setPhase(id)
	}
	t0 := time.Now()
	if err := sleep(ctx, dur); err != nil {
		return phase{}, err
	}
	for _, m := range ms {
		m.setPhase(0)
	}
	wall := time.Since(t0)
	u1, err := agentproc.ReadUsage(pid)
	if err != nil {
		return phase{}, err
	}
	mEnd, err := scrape(ctx, metricsAddr)
	if err != nil {
		return phase{}, err
	}
	tl.mu.Lock()
	p := phase{name: name, dur: dur, telemetry: tl.n,
		cpuPct:  100 * float64(u1.CPU-u0.CPU) / float64(wall),
		hwmMB:   float64(u1.HWMBytes) / (1 << 20),
		threads: u1.Threads,
		gorouts: int(mEnd["go_goroutines"]),
		loadAvg: loadAvg(),
	}
	_, p.telAgeP99, _ = percentiles(tl.age)
	tl.mu.Unlock()
	w.Drone.SetLoadRate(0)
	// Frames in flight arrive within the drain time, and the streams go
	// on, so a frame lost at the very end is known lost by then.
	if err := sleep(ctx, 2*time.Second); err != nil {
		return phase{}, err
	}
	m1, err := edge(ctx, metricsAddr)
	if err != nil {
		return phase{}, err
	}
	p.relayInFlight = inFlight
	p.sub, p.broker = ms[0].result(id), ms[1].result(id)
	p.counters = stageCounters{
		droneDropped:  droneDropped(w) - d0,
		linkFrames:    delta(m0, m1, "dock_agent_mavlink_link_frames_in_total"),
		badCRC:        delta(m0, m1, "dock_agent_mavlink_bad_crc_total"),
		rejected:      delta(m0, m1, "dock_agent_mavlink_link_rejected_total"),
		skippedBytes:  delta(m0, m1, "dock_agent_mavlink_link_bytes_skipped_total"),
		bridgeOut:     delta(m0, m1, "dock_agent_mavlink_bridge_frames_out_total"),
		bridgeDropped: delta(m0, m1, "dock_agent_mavlink_bridge_frames_dropped_total"),
	}
	return p, nil
}

// droneDropped is the frames the simulated drone dropped on its links so
// far (its queue full, or a link drop injected).
func droneDropped(w *world.World) uint64 {
	var n uint64
	for _, l := range w.Drone.Links() {
		n += l.Dropped
	}
	return n
}

// loadAvg is the machine's 1-minute load average: other work on the two
// cores shows in the agent's CPU figure and in the latency tail.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
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

func report(out io.Writer, phases []phase, startups []time.Duration, streams int, unknownSub, unknownBroker uint64) {
	host, _ := os.Hostname()
	fmt.Fprintf(out, "machine: %s, %d CPUs, %s %s/%s\n\n", host, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "| phase | msgs/s | frames written | relayed | lost | in flight at the end | latency p50 | p99 | max | agent to broker p99 | agent CPU (%% of one core) | peak RSS | goroutines | threads | telemetry msgs | telemetry age p99 | machine load avg |\n")
	fmt.Fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range phases {
		p50, p99, mx := percentiles(p.sub.lat)
		_, b99, _ := percentiles(p.broker.lat)
		fmt.Fprintf(out, "| %s (%v) | %d | %d | %d | %d | %d | %s | %s | %s | %s | %.1f | %.1f MB | %d | %d | %d | %s | %s |\n",
			p.name, p.dur, p.rate, p.sub.written, p.sub.got, p.sub.missing, p.sub.inFlight(), ms(p50), ms(p99), ms(mx), ms(b99),
			p.cpuPct, p.hwmMB, p.gorouts, p.threads, p.telemetry, ms(p.telAgeP99), p.loadAvg)
	}
	fmt.Fprintf(out, "\nframes dropped per stage (counters over the phase and its 2 s drain; lost = written in the phase, never seen while a later frame was):\n\n")
	fmt.Fprintf(out, "| phase | drone queue | agent parser: frames / bad CRC / refused / bytes skipped | bridge published / dropped | lost drone to broker | lost broker to subscriber | arrived before the write was reported |\n")
	fmt.Fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range phases {
		c := p.counters
		fmt.Fprintf(out, "| %s | %d | %d / %d / %d / %d | %d / %d | %d | %d | %d |\n",
			p.name, c.droneDropped, c.linkFrames, c.badCRC, c.rejected, c.skippedBytes, c.bridgeOut, c.bridgeDropped,
			p.broker.missing, int64(p.sub.missing)-int64(p.broker.missing), p.sub.early)
	}
	for _, p := range phases {
		if p.relayInFlight != 0 {
			fmt.Fprintf(out, "\n%s: the relay did not drain at an edge of the counters' window within %v: %.0f frames read and neither published nor dropped\n", p.name, drainWait, p.relayInFlight)
		}
	}
	fmt.Fprintf(out, "\narrivals matching no written frame: %d at the subscriber, %d at the broker\n", unknownSub, unknownBroker)
	s50, _, smax := percentiles(startups)
	fmt.Fprintf(out, "\nstart-up, exec to READY=1 over %d starts: median %s, max %s\n", len(startups), ms(s50), ms(smax))
	fmt.Fprintf(out, "usual load = %d msgs/s of requested streams plus extra ATTITUDE/GLOBAL_POSITION_INT/VFR_HUD/SYS_STATUS\n", streams)
}

// eachFrame calls fn for each MAVLink frame of a `mavlink/out` payload: one
// frame, or several back to back with mqtt.mavlink_bridge_batch. A payload
// that is no frame at all is passed whole, so it counts as unknown.
func eachFrame(payload []byte, fn func(frame []byte)) {
	p := mavlink.NewParser(mavlink.ParserOptions{})
	var f mavlink.Frame
	b, n := payload, 0
	for len(b) > 0 {
		k, err := p.Next(b, true, &f)
		b = b[k:]
		if err == nil {
			fn(f.Raw)
			n++
			continue
		}
		if k == 0 {
			break
		}
	}
	if n == 0 {
		fn(payload)
	}
}
