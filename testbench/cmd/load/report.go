package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/agentproc"
	"github.com/dockagent/dock-agent/testbench/world"
)

// reportOptions are the -report run's settings.
type reportOptions struct {
	phase  time.Duration // each measured rate
	rates  []int         // msgs/s in all; 0 is idle (the requested streams only)
	starts int           // agent starts for exec-to-READY
	// agentBin is the dock-agent executable measured (world.Options).
	agentBin string
	batch    int // mqtt.mavlink_bridge_batch of the batched configuration
	// ioIdlePoll is buses.io.idle_poll_interval of every agent
	// configuration (0: the bench config's, off).
	ioIdlePoll time.Duration
}

// relayConfig is one relay under test on the same simulated stream.
type relayConfig struct {
	name   string
	bridge bool // the agent with mqtt.mavlink_bridge on
	batch  int
	ref    *refRouter // instead of the agent: a reference router
}

// refRouter is a reference router binary found on PATH, never installed
// or committed by the harness.
type refRouter struct {
	name, path string
	args       func(device string, baud int, udp string) []string
}

// findRefRouter looks for mavlink-routerd (C++) or mavp2p (Go) on PATH.
func findRefRouter() *refRouter {
	if p, err := exec.LookPath("mavlink-routerd"); err == nil {
		return &refRouter{name: "mavlink-router (C++)", path: p, args: func(dev string, baud int, udp string) []string {
			return []string{"-e", udp, fmt.Sprintf("%s:%d", dev, baud)}
		}}
	}
	if p, err := exec.LookPath("mavp2p"); err == nil {
		return &refRouter{name: "mavp2p (Go)", path: p, args: func(dev string, baud int, udp string) []string {
			return []string{fmt.Sprintf("serial:%s:%d", dev, baud), "udpc:" + udp}
		}}
	}
	return nil
}

// relayRow is one configuration at one rate.
type relayRow struct {
	cfg     string
	rate    int
	written uint64 // frames the drone wrote in the phase
	repeats uint64 // of them, copies of a frame written within 200 ms (the forward's dedupe drops them)
	udp     stageStats
	mqtt    *stageStats // bridge configurations
	cpuPct  float64
	usFrame float64 // CPU time per frame written
	hwmMB   float64
	loadAvg string
	loadEnd string
}

// runReport measures every relay configuration at every rate on the same
// simulated stream and prints the tables of docs/performance.md.
func runReport(ctx context.Context, o reportOptions, stdout, stderr io.Writer) int {
	ref := findRefRouter()
	cfgs := []relayConfig{
		{name: "agent, UDP forward only"},
		{name: "agent, MQTT bridge + UDP", bridge: true},
		{name: fmt.Sprintf("agent, MQTT bridge (batch %d) + UDP", o.batch), bridge: true, batch: o.batch},
	}
	if ref != nil {
		cfgs = append(cfgs, relayConfig{name: ref.name, ref: ref})
	}
	var rows []relayRow
	var startups []time.Duration
	for i, c := range cfgs {
		fmt.Fprintf(stderr, "load: %s\n", c.name)
		r, st, err := measureConfig(ctx, c, o, i == 0)
		if err != nil {
			fmt.Fprintf(stderr, "load: %s: %v\n", c.name, err)
			return 1
		}
		rows = append(rows, r...)
		startups = append(startups, st...)
	}
	writeReport(stdout, o, cfgs, ref, rows, startups)
	return 0
}

// measureConfig starts a world for c and measures each rate.
func measureConfig(ctx context.Context, c relayConfig, o reportOptions, starts bool) ([]relayRow, []time.Duration, error) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, err
	}
	defer sink.Close()
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	atUDP, atSub := newMatcher(), newMatcher()
	var written, repeats atomic.Uint64
	// The forward drops a frame identical (header and payload) to one it
	// passed within its dedupe window (router.DefaultDedupeWindow, 200 ms:
	// a redundant link's copy). A landed drone repeats SYS_STATUS and
	// VFR_HUD byte for byte once its sequence number wraps, which at 2,500
	// msgs/s and more is inside the window: those frames are counted here,
	// so the table can tell them from frames lost.
	var lastMu sync.Mutex
	last := map[string]time.Time{}
	w, err := world.Start(ctx, world.Options{
		BrokerAddr: "127.0.0.1:0", GCS: "udp://" + sink.LocalAddr().String(), AgentBinary: o.agentBin,
		Edit: func(cfg *config.Config) {
			cfg.MQTT.MAVLinkBridge = c.bridge
			if c.bridge {
				cfg.MQTT.MAVLinkBridgeBatch = c.batch
			}
			cfg.Log.Level = "info"
			cfg.Metrics.Listen = metricsAddr
			if o.ioIdlePoll > 0 {
				b := cfg.Buses["io"]
				b.IdlePollInterval = o.ioIdlePoll
				cfg.Buses["io"] = b
			}
		},
		OnFrameWritten: func(frame []byte, _ time.Time) {
			now := time.Now()
			written.Add(1)
			f := string(frame)
			lastMu.Lock()
			if t, ok := last[f]; ok && now.Sub(t) <= 200*time.Millisecond {
				repeats.Add(1)
			} else {
				last[f] = now // the router remembers the frame it passed
			}
			if len(last) > 1<<16 {
				clear(last) // bounded; old entries are outside the window anyway
			}
			lastMu.Unlock()
			atUDP.wrote(f, now)
			if c.bridge {
				atSub.wrote(f, now)
			}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer sink.Close() // ends the reader before the wait above
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := sink.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			atUDP.arrived(string(buf[:n]), time.Now())
		}
	})

	var startups []time.Duration
	for range o.starts {
		if !starts {
			break
		}
		if err := w.StopAgent(ctx); err != nil {
			return nil, nil, fmt.Errorf("stop agent: %w", err)
		}
		t0 := time.Now()
		if err := w.StartAgent(ctx); err != nil {
			return nil, nil, fmt.Errorf("start agent: %w", err)
		}
		startups = append(startups, time.Since(t0))
	}
	if c.bridge {
		sub, _, err := subscribe(w, atSub)
		if err != nil {
			return nil, nil, err
		}
		defer sub.Disconnect(100)
	}
	if err := waitLink(ctx, w); err != nil {
		return nil, nil, err
	}
	pid := w.Agent.PID()
	if c.ref != nil {
		// The agent set up the drone's streams; the reference router takes
		// the same device and stream from here on.
		if err := w.StopAgent(ctx); err != nil {
			return nil, nil, fmt.Errorf("stop agent for the reference router: %w", err)
		}
		args := c.ref.args(w.Config.Vehicle.URL, w.Config.Vehicle.Baud, sink.LocalAddr().String())
		cmd := exec.CommandContext(ctx, c.ref.path, args...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("start %s %s: %w", c.ref.path, strings.Join(args, " "), err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		pid = cmd.Process.Pid
	}
	streams := streamRate(w)
	var rows []relayRow
	for i, rate := range o.rates {
		id := i + 1
		w.Drone.SetLoadRate(max(0, rate-streams)) // the streams plus extra messages
		if err := sleep(ctx, time.Second); err != nil {
			return nil, nil, err
		}
		load0 := loadAvg()
		u0, err := agentproc.ReadUsage(pid)
		if err != nil {
			return nil, nil, err
		}
		w0, rp0 := written.Load(), repeats.Load()
		atUDP.setPhase(id)
		atSub.setPhase(id)
		t0 := time.Now()
		if err := sleep(ctx, o.phase); err != nil {
			return nil, nil, err
		}
		atUDP.setPhase(0)
		atSub.setPhase(0)
		wall := time.Since(t0)
		u1, err := agentproc.ReadUsage(pid)
		if err != nil {
			return nil, nil, err
		}
		n := written.Load() - w0
		w.Drone.SetLoadRate(0)
		if err := sleep(ctx, 2*time.Second); err != nil { // in-flight frames arrive
			return nil, nil, err
		}
		r := relayRow{cfg: c.name, rate: int(float64(n) / wall.Seconds()), written: n, udp: atUDP.result(id), repeats: repeats.Load() - rp0,
			cpuPct:  100 * float64(u1.CPU-u0.CPU) / float64(wall),
			hwmMB:   float64(u1.HWMBytes) / (1 << 20),
			loadAvg: load0, loadEnd: loadAvg()}
		if n > 0 {
			r.usFrame = float64((u1.CPU - u0.CPU).Microseconds()) / float64(n)
		}
		if c.bridge {
			s := atSub.result(id)
			r.mqtt = &s
		}
		rows = append(rows, r)
	}
	return rows, startups, nil
}

func writeReport(out io.Writer, o reportOptions, cfgs []relayConfig, ref *refRouter, rows []relayRow, startups []time.Duration) {
	host, _ := os.Hostname()
	rev := "unknown"
	if b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		rev = strings.TrimSpace(string(b))
	}
	fmt.Fprintf(out, "`go run ./testbench/cmd/load -report` at %s on %s: %s, %d CPUs, %s %s/%s; %s per rate.\n\n",
		rev, time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, o.phase)
	if o.ioIdlePoll > 0 {
		fmt.Fprintf(out, "The agent's I/O module: polled every %v while the dock rests (`-io-idle-poll`, buses.io.idle_poll_interval), every 20 ms otherwise.\n\n", o.ioIdlePoll)
	}
	if ref == nil {
		fmt.Fprintf(out, "No reference router on PATH (looked for mavlink-routerd and mavp2p): no ratio to one in this run.\n\n")
	} else {
		fmt.Fprintf(out, "Reference router: %s (%s), on the same device and stream after the agent set the streams up.\n\n", ref.name, ref.path)
	}
	refCPU := map[int]float64{} // rate index -> µs/frame
	perCfg := len(o.rates)
	if ref != nil {
		for i := range perCfg {
			refCPU[i] = rows[len(rows)-perCfg+i].usFrame
		}
	}
	fmt.Fprintf(out, "| relay | msgs/s | frames written | UDP relayed / lost (of them repeats the forward drops) | UDP p99 | MQTT relayed / lost | MQTT p99 | CPU (%% of one core) | CPU per frame | peak RSS | ratio to reference (per frame) | load avg (start / end) |\n")
	fmt.Fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for i, r := range rows {
		_, p99, _ := percentiles(r.udp.lat)
		mq, mp := "-", "-"
		if r.mqtt != nil {
			_, m99, _ := percentiles(r.mqtt.lat)
			mq, mp = fmt.Sprintf("%d / %d", r.mqtt.got, r.mqtt.missing), ms(m99)
		}
		ratio := "no reference"
		if ref != nil && refCPU[i%perCfg] > 0 {
			ratio = fmt.Sprintf("%.2f", r.usFrame/refCPU[i%perCfg])
		}
		label := fmt.Sprint(r.rate)
		if o.rates[i%perCfg] == 0 {
			label += " (idle: requested streams only)"
		}
		fmt.Fprintf(out, "| %s | %s | %d | %d / %d (%d) | %s | %s | %s | %.2f | %.1f µs | %.1f MB | %s | %s / %s |\n",
			r.cfg, label, r.written, r.udp.got, r.udp.missing, r.repeats, ms(p99), mq, mp, r.cpuPct, r.usFrame, r.hwmMB, ratio, r.loadAvg, r.loadEnd)
	}
	if len(startups) > 0 {
		s50, _, smax := percentiles(startups)
		fmt.Fprintf(out, "\nStart-up, exec to `READY=1` over %d starts: median %s, max %s.\n", len(startups), ms(s50), ms(smax))
	}
	// Bridge-on against bridge-off, per rate, from the same run.
	if len(cfgs) >= 3 {
		fmt.Fprintf(out, "\n| msgs/s | bridge on / off (CPU) | bridge batched / off (CPU) |\n| ---: | ---: | ---: |\n")
		for i := range perCfg {
			off, on, bat := rows[i], rows[perCfg+i], rows[2*perCfg+i]
			fmt.Fprintf(out, "| %d | %s | %s |\n", off.rate, ratio(on.cpuPct, off.cpuPct), ratio(bat.cpuPct, off.cpuPct))
		}
	}
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// parseRates reads -report-rates: comma-separated msgs/s in all (the
// requested streams topped up with extra messages), "idle" or 0 for the
// requested streams alone.
func parseRates(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "idle" {
			out = append(out, 0)
			continue
		}
		var n int
		if _, err := fmt.Sscanf(f, "%d", &n); err != nil || n < 0 {
			return nil, fmt.Errorf("-report-rates: %q is not a rate (msgs/s, or idle)", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("-report-rates: no rate")
	}
	return out, nil
}
