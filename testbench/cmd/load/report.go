package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// dedupe: it drops a byte-identical copy of a frame it passed within
	// 200 ms, as the agent's forward does (router.DefaultDedupeWindow),
	// so it relays the same frames: the reference of the ratio columns.
	dedupe bool
	// args is its command line for the device at baud and the ground
	// station at udp; dir is an empty directory for its files.
	args func(dir, device string, baud int, udp string) ([]string, error)
}

// refDedupe is the agent forward's dedupe window (router.DefaultDedupeWindow),
// given to a reference router that has one.
const refDedupe = 200 * time.Millisecond

// findRefRouters looks for mavlink-routerd (C++) and mavp2p (Go) on PATH.
// mavlink-router is measured twice: with its DeduplicationPeriod at the
// agent's 200 ms (the same work: the reference) and as it ships (no
// dedupe, every repeat relayed). mavp2p has no dedupe.
func findRefRouters() []*refRouter {
	var refs []*refRouter
	if p, err := exec.LookPath("mavlink-routerd"); err == nil {
		mr := func(dedupe time.Duration) func(dir, dev string, baud int, udp string) ([]string, error) {
			return func(dir, dev string, baud int, udp string) ([]string, error) {
				// Its own files only: without -c and -d it reads
				// /etc/mavlink-router/main.conf and config.d/, which may
				// add endpoints; no TCP server (5760 by default).
				conf, confDir := filepath.Join(dir, "main.conf"), filepath.Join(dir, "config.d")
				if err := os.MkdirAll(confDir, 0o750); err != nil {
					return nil, err
				}
				body := fmt.Sprintf("[General]\nTcpServerPort = 0\nDeduplicationPeriod = %d\n", dedupe.Milliseconds())
				if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
					return nil, err
				}
				return []string{"-c", conf, "-d", confDir, "-t", "0", "-e", udp, fmt.Sprintf("%s:%d", dev, baud)}, nil
			}
		}
		refs = append(refs,
			&refRouter{name: fmt.Sprintf("mavlink-router (C++), dedupe %d ms", refDedupe.Milliseconds()), path: p, dedupe: true, args: mr(refDedupe)},
			&refRouter{name: "mavlink-router (C++), no dedupe (its default)", path: p, args: mr(0)})
	}
	if p, err := exec.LookPath("mavp2p"); err == nil {
		refs = append(refs, &refRouter{name: "mavp2p (Go), no dedupe", path: p, args: func(_, dev string, baud int, udp string) ([]string, error) {
			// No heartbeats of its own and no stream requests: by default
			// it asks an ArduPilot for every stream at 4 Hz, which would
			// change the stream under test.
			return []string{"--hb-disable", "--streamreq-disable", "--idle-timeout=1h", "-q",
				fmt.Sprintf("serial:%s:%d", dev, baud), "udpc:" + udp}, nil
		}})
	}
	return refs
}

// relayRow is one configuration at one rate.
type relayRow struct {
	cfg     string
	cfgIdx  int // index in the run's configurations
	rate    int
	written uint64 // frames the drone wrote in the phase
	repeats uint64 // of them, copies of a frame written within 200 ms (the forward's dedupe drops them)
	udp     stageStats
	mqtt    *stageStats // bridge configurations
	cpuPct  float64
	usFrame float64 // CPU time per frame written
	usSent  float64 // CPU time per frame relayed to the ground station (one a datagram)
	hwmMB   float64
	loadAvg string
	loadEnd string
}

// runReport measures every relay configuration at every rate on the same
// simulated stream and prints the tables of docs/performance.md.
func runReport(ctx context.Context, o reportOptions, stdout, stderr io.Writer) int {
	cfgs := []relayConfig{
		{name: "agent, UDP forward only"},
		{name: "agent, MQTT bridge + UDP", bridge: true},
		{name: fmt.Sprintf("agent, MQTT bridge (batch %d) + UDP", o.batch), bridge: true, batch: o.batch},
	}
	refIdx := -1 // the configuration the ratio columns divide by
	for _, r := range findRefRouters() {
		if refIdx < 0 || (r.dedupe && !cfgs[refIdx].ref.dedupe) {
			refIdx = len(cfgs)
		}
		cfgs = append(cfgs, relayConfig{name: r.name, ref: r})
	}
	var rows []relayRow
	var startups []time.Duration
	var notes []string
	for i, c := range cfgs {
		fmt.Fprintf(stderr, "load: %s\n", c.name)
		r, st, note, err := measureConfig(ctx, c, o, i == 0)
		if err != nil {
			fmt.Fprintf(stderr, "load: %s: %v\n", c.name, err)
			return 1
		}
		for j := range r {
			r[j].cfgIdx = i
		}
		rows = append(rows, r...)
		startups = append(startups, st...)
		if note != "" {
			notes = append(notes, note)
		}
	}
	writeReport(stdout, o, cfgs, refIdx, rows, startups, notes)
	return 0
}

// measureConfig starts a world for c and measures each rate. note, if
// not empty, is a line for the report about this configuration.
func measureConfig(ctx context.Context, c relayConfig, o reportOptions, starts bool) (rows []relayRow, startups []time.Duration, note string, err error) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, "", err
	}
	defer sink.Close()
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, nil, "", err
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
		return nil, nil, "", err
	}
	defer w.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer sink.Close() // ends the reader before the wait above
	// The ground station's socket: the agent sends one frame a datagram
	// (sendmmsg), so do mavlink-router and mavp2p (sendto); a datagram
	// of several frames is split, and counted, all the same.
	var datagrams, frames atomic.Uint64
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := sink.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			now := time.Now()
			datagrams.Add(1)
			eachFrame(buf[:n], func(f []byte) {
				frames.Add(1)
				atUDP.arrived(string(f), now)
			})
		}
	})
	defer func() {
		var n []string
		if d, f := datagrams.Load(), frames.Load(); d != f {
			n = append(n, fmt.Sprintf("%d datagrams at the ground station's socket carried %d frames", d, f))
		}
		if u := atUDP.unknownCount(); u > 0 {
			// The agent's own frames to the drone (heartbeat, stream and
			// parameter requests), which its forward copies to the ground
			// station; in a reference's run, while the agent set up.
			n = append(n, fmt.Sprintf("%d frames at the ground station's socket were none the drone wrote (the agent's own to the drone, which its forward copies there)", u))
		}
		if len(n) > 0 {
			note = c.name + ": " + strings.Join(n, "; ") + "."
		}
	}()

	for range o.starts {
		if !starts {
			break
		}
		if err := w.StopAgent(ctx); err != nil {
			return nil, nil, "", fmt.Errorf("stop agent: %w", err)
		}
		t0 := time.Now()
		if err := w.StartAgent(ctx); err != nil {
			return nil, nil, "", fmt.Errorf("start agent: %w", err)
		}
		startups = append(startups, time.Since(t0))
	}
	if c.bridge {
		sub, _, err := subscribe(w, atSub)
		if err != nil {
			return nil, nil, "", err
		}
		defer sub.Disconnect(100)
	}
	if err := waitLink(ctx, w); err != nil {
		return nil, nil, "", err
	}
	// One stream for the whole run, the resting dock's: the agent asks
	// for vehicle.docked_stream_rates after 30 s of rest, and a reference
	// router started after that relays the same.
	if err := waitDocked(ctx, w); err != nil {
		return nil, nil, "", err
	}
	pid := w.Agent.PID()
	if c.ref != nil {
		// The agent set up the drone's streams; the reference router takes
		// the same device and stream from here on.
		if err := w.StopAgent(ctx); err != nil {
			return nil, nil, "", fmt.Errorf("stop agent for the reference router: %w", err)
		}
		stop, refPID, err := startRef(ctx, c.ref, w, sink.LocalAddr().String(), &datagrams)
		if err != nil {
			return nil, nil, "", err
		}
		defer stop()
		pid = refPID
	}
	streams := streamRate(w)
	for i, rate := range o.rates {
		id := i + 1
		w.Drone.SetLoadRate(max(0, rate-streams)) // the streams plus extra messages
		if err := sleep(ctx, time.Second); err != nil {
			return nil, nil, "", err
		}
		load0 := loadAvg()
		c0, err := procCPU(pid)
		if err != nil {
			return nil, nil, "", err
		}
		w0, rp0 := written.Load(), repeats.Load()
		atUDP.setPhase(id)
		atSub.setPhase(id)
		t0 := time.Now()
		if err := sleep(ctx, o.phase); err != nil {
			return nil, nil, "", err
		}
		atUDP.setPhase(0)
		atSub.setPhase(0)
		wall := time.Since(t0)
		c1, err := procCPU(pid)
		if err != nil {
			return nil, nil, "", err
		}
		u1, err := agentproc.ReadUsage(pid)
		if err != nil {
			return nil, nil, "", err
		}
		n := written.Load() - w0
		w.Drone.SetLoadRate(0)
		// In-flight frames arrive; an arrival matching no frame written
		// (one the relay sent of its own) holds those behind it for
		// parkLimit before it counts as unknown.
		if err := sleep(ctx, 2*time.Second+parkLimit); err != nil {
			return nil, nil, "", err
		}
		cpu := c1.sub(c0)
		r := relayRow{cfg: c.name, rate: int(float64(n) / wall.Seconds()), written: n, udp: atUDP.result(id), repeats: repeats.Load() - rp0,
			cpuPct:  100 * float64(cpu) / float64(wall),
			hwmMB:   float64(u1.HWMBytes) / (1 << 20),
			loadAvg: load0, loadEnd: loadAvg()}
		if n > 0 {
			r.usFrame = float64(cpu) / float64(time.Microsecond) / float64(n)
		}
		if r.udp.got > 0 {
			r.usSent = float64(cpu) / float64(time.Microsecond) / float64(r.udp.got)
		}
		if c.bridge {
			s := atSub.result(id)
			r.mqtt = &s
		}
		rows = append(rows, r)
	}
	return rows, startups, note, nil
}

func writeReport(out io.Writer, o reportOptions, cfgs []relayConfig, refIdx int, rows []relayRow, startups []time.Duration, notes []string) {
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
	fmt.Fprintf(out, "The drone streams what a resting dock asks for, vehicle.docked_stream_rates (each configuration starts once the agent switched to them, 30 s after the drone came to rest; a reference router takes over that stream); each rate tops them up with extra messages.\n\n")
	perCfg := len(o.rates)
	var ref []relayRow // the reference's row at each rate index
	if refIdx < 0 {
		fmt.Fprintf(out, "No reference router on PATH (looked for mavlink-routerd and mavp2p): no ratio to one in this run.\n\n")
	} else {
		for _, c := range cfgs {
			if c.ref != nil {
				fmt.Fprintf(out, "Reference router: %s (%s), on the same device and stream after the agent set the streams up, relaying to the same ground-station socket.\n", c.name, c.ref.path)
			}
		}
		fmt.Fprintf(out, "\nThe ratio columns divide by %s at the same rate. CPU is the relay process's run time (/proc/PID/task/*/schedstat), over frames the drone wrote and over frames the ground station received (one a datagram). A frame repeated byte for byte within 200 ms is dropped by the agent's forward and by a reference with a 200 ms dedupe; a router without dedupe relays it.\n\n", cfgs[refIdx].name)
		for _, r := range rows {
			if r.cfgIdx == refIdx {
				ref = append(ref, r)
			}
		}
	}
	fmt.Fprintf(out, "| relay | msgs/s | frames written | UDP relayed / lost (of them: repeats within 200 ms) | UDP p99 | MQTT relayed / lost | MQTT p99 | CPU (%% of one core) | CPU per frame written | CPU per frame relayed (datagram sent) | peak RSS | ratio to reference, per frame written / per datagram sent | load avg (start / end) |\n")
	fmt.Fprintf(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for i, r := range rows {
		_, p99, _ := percentiles(r.udp.lat)
		mq, mp := "-", "-"
		if r.mqtt != nil {
			_, m99, _ := percentiles(r.mqtt.lat)
			mq, mp = fmt.Sprintf("%d / %d", r.mqtt.got, r.mqtt.missing)+unresolved(*r.mqtt), ms(m99)
		}
		rr := "no reference"
		if ref != nil {
			rf := ref[i%perCfg]
			rr = ratio(r.usFrame, rf.usFrame) + " / " + ratio(r.usSent, rf.usSent)
		}
		label := fmt.Sprint(r.rate)
		if o.rates[i%perCfg] == 0 {
			label += " (idle: requested streams only)"
		}
		rep := fmt.Sprint(r.repeats)
		if c := cfgs[r.cfgIdx]; c.ref != nil && !c.ref.dedupe {
			rep += ", relayed: no dedupe"
		}
		fmt.Fprintf(out, "| %s | %s | %d | %d / %d (%s)%s | %s | %s | %s | %.2f | %.1f µs | %.1f µs | %.1f MB | %s | %s / %s |\n",
			r.cfg, label, r.written, r.udp.got, r.udp.missing, rep, unresolved(r.udp), ms(p99), mq, mp, r.cpuPct, r.usFrame, r.usSent, r.hwmMB, rr, r.loadAvg, r.loadEnd)
	}
	for _, n := range notes {
		fmt.Fprintf(out, "\n%s\n", n)
	}
	writeAboveIdle(out, o, cfgs, refIdx, rows)
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

// writeAboveIdle prints, when the rates include idle, each relay's CPU per
// frame above its own idle: what one more frame costs, without what the
// process spends with the streams alone (the agent runs the dock, polls
// its buses and publishes telemetry besides relaying; a router only
// relays).
func writeAboveIdle(out io.Writer, o reportOptions, cfgs []relayConfig, refIdx int, rows []relayRow) {
	perCfg := len(o.rates)
	idle := -1
	for i, r := range o.rates {
		if r == 0 {
			idle = i
			break
		}
	}
	if idle < 0 || perCfg < 2 {
		return
	}
	// above is µs of CPU per frame written above the idle row's.
	above := func(r, id relayRow) float64 {
		df := float64(r.rate - id.rate)
		if df <= 0 {
			return 0
		}
		return (r.cpuPct - id.cpuPct) / 100 / df * 1e6
	}
	fmt.Fprintf(out, "\nCPU per frame above idle, (CPU − CPU at idle) / (msgs/s − msgs/s at idle), with the ratio to the reference's:\n\n")
	fmt.Fprintf(out, "| relay |")
	for i, r := range o.rates {
		if i != idle {
			fmt.Fprintf(out, " %d msgs/s |", r)
		}
	}
	fmt.Fprintf(out, "\n| --- |%s\n", strings.Repeat(" ---: |", perCfg-1))
	for c := range cfgs {
		fmt.Fprintf(out, "| %s |", cfgs[c].name)
		for i := range perCfg {
			if i == idle {
				continue
			}
			v := above(rows[c*perCfg+i], rows[c*perCfg+idle])
			cell := fmt.Sprintf("%.1f µs", v)
			if refIdx >= 0 {
				cell += " (" + ratio(v, above(rows[refIdx*perCfg+i], rows[refIdx*perCfg+idle])) + ")"
			}
			fmt.Fprintf(out, " %s |", cell)
		}
		fmt.Fprintln(out)
	}
}

// unresolved is a table cell's note of the frames of the phase neither
// seen nor known lost when it was read, if any.
func unresolved(s stageStats) string {
	if n := s.inFlight(); n > 0 {
		return fmt.Sprintf(", %d unresolved", n)
	}
	return ""
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

// startRef starts the reference router r on w's vehicle device, relaying
// to the ground station's socket at udp, and waits for its first datagram
// there (datagrams counts them). Its output goes to a log in the world's
// directory, quoted when it fails. stop ends it.
func startRef(ctx context.Context, r *refRouter, w *world.World, udp string, datagrams *atomic.Uint64) (stop func(), pid int, err error) {
	dir, err := os.MkdirTemp(w.Dir(), "ref-")
	if err != nil {
		return nil, 0, err
	}
	args, err := r.args(dir, w.Config.Vehicle.URL, w.Config.Vehicle.Baud, udp)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", r.name, err)
	}
	logPath := filepath.Join(dir, "router.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(r.path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	d0 := datagrams.Load()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, 0, fmt.Errorf("start %s %s: %w", r.path, strings.Join(args, " "), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	}
	fail := func(why string) error {
		stop()
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("%s %s: %s; its output:\n%s", r.path, strings.Join(args, " "), why, strings.TrimSpace(string(b)))
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for datagrams.Load() == d0 {
		select {
		case <-ctx.Done():
			stop()
			return nil, 0, ctx.Err()
		case err := <-exited:
			exited <- err // for stop
			return nil, 0, fail(fmt.Sprintf("exited (%v) before relaying a frame", err))
		case <-deadline.C:
			return nil, 0, fail("relayed no frame to the ground station in 10 s")
		case <-tick.C:
		}
	}
	return stop, cmd.Process.Pid, nil
}

// cpuSample is a process's CPU time at one moment: precise, the sum of
// its threads' run time in nanoseconds (/proc/PID/task/*/schedstat);
// coarse, utime+stime in clock ticks of 10 ms (/proc/PID/stat), which
// also keeps the time of threads that exited. A reference router uses
// well under a tick per second at the low rates, so ticks alone would
// show it at 0.
type cpuSample struct {
	precise, coarse time.Duration
	ok              bool // precise was read
}

func procCPU(pid int) (cpuSample, error) {
	u, err := agentproc.ReadUsage(pid)
	if err != nil {
		return cpuSample{}, err
	}
	s := cpuSample{coarse: u.CPU}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return s, nil
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that just exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return s, nil
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return s, nil
		}
		s.precise += time.Duration(ns)
	}
	s.ok = true
	return s, nil
}

// sub is the CPU time from o to s: the precise one, unless it was not
// read or falls short of the ticks by more than two of them (threads
// exited in between and took their run time with them).
func (s cpuSample) sub(o cpuSample) time.Duration {
	coarse := s.coarse - o.coarse
	if !s.ok || !o.ok {
		return coarse
	}
	precise := s.precise - o.precise
	if precise < coarse-20*time.Millisecond {
		return coarse
	}
	return precise
}
