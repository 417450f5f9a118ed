package fleet

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/agentproc"
	"github.com/dockagent/dock-agent/testbench/broker"
	"github.com/dockagent/dock-agent/testbench/simclock"
	"github.com/dockagent/dock-agent/testbench/world"
)

// City is the centre of the bench's city: the bench dock's position
// (config/examples/bench.yaml), so the fleet flies where the bench does.
var City = Point{Lat: 24.3504, Lon: 102.5420}

// Point is a position in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// offset returns p moved north by dn and east by de metres (flat earth:
// the city is a few kilometres across).
func (p Point) offset(dn, de float64) Point {
	const mPerDeg = 111_320.0
	return Point{Lat: p.Lat + dn/mPerDeg, Lon: p.Lon + de/(mPerDeg*math.Cos(p.Lat*math.Pi/180))}
}

// DockOptions configure StartDocks.
type DockOptions struct {
	// N is how many docks start.
	N int
	// SpacingM is the distance between neighbouring docks of the grid;
	// 0 is DefaultSpacingM (a 5-minute circle at 15 m/s reaches about 4 km, so an
	// incident anywhere in the grid is in reach of several docks).
	SpacingM float64
	// Speed runs every world (and its agent) this many times faster.
	Speed float64
	// BrokerURL uses this broker; empty starts mosquitto on a free port
	// when it is installed, else the embedded broker (testbench/broker).
	BrokerURL string
	// Dir keeps the docks' files in Dir/<dock id>; empty uses temporary
	// directories removed by Close.
	Dir string
	// IOPollReal, when set, makes the agents poll their I/O module every
	// IOPollReal of real time (IOPollReal x Speed of simulated time)
	// instead of the bench config's 20 ms of simulated time: at speed 10
	// that is 500 Modbus round trips a second per dock, most of an idle
	// dock's CPU (docs/fleet.md). A limit switch or the e-stop is then seen
	// up to that much simulated time later.
	IOPollReal time.Duration
	// ChargePctPerMin fills a docked drone's battery this fast (percent
	// per simulated minute) while the dock's charger is on; 0 is
	// DefaultChargePctPerMin, negative turns the charging off.
	ChargePctPerMin float64
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// DefaultSpacingM is the grid spacing of the docks.
const DefaultSpacingM = 2500

// Docks are N bench worlds, each the real agent in its own process with
// its own ptys and simulated drone, all on one broker.
type Docks struct {
	Worlds    []*world.World
	BrokerURL string
	// BrokerKind is "mosquitto", "embedded" or "external".
	BrokerKind string

	stopCharge context.CancelFunc
	charging   sync.WaitGroup

	mosquitto *exec.Cmd
	mqDone    chan struct{}
	embedded  *broker.Broker
	mqDir     string
}

// DockID is the id of the i-th dock of a fleet.
func DockID(i int) string { return fmt.Sprintf("fleet-%02d", i+1) }

// Layout returns the positions of n docks on a square grid centred on
// the city, spacingM apart.
func Layout(n int, spacingM float64) []Point {
	side := int(math.Ceil(math.Sqrt(float64(n))))
	out := make([]Point, 0, n)
	mid := float64(side-1) / 2
	for i := range n {
		r, c := i/side, i%side
		out = append(out, City.offset((float64(r)-mid)*spacingM, (float64(c)-mid)*spacingM))
	}
	return out
}

// StartDocks starts the broker and the docks (a few at a time: each agent
// start is a burst of CPU) and returns once every agent reported ready.
func StartDocks(ctx context.Context, opts DockOptions) (*Docks, error) {
	if opts.N < 1 {
		return nil, fmt.Errorf("fleet: %d docks: want at least 1", opts.N)
	}
	if opts.SpacingM == 0 {
		opts.SpacingM = DefaultSpacingM
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Docks{BrokerURL: opts.BrokerURL, BrokerKind: "external"}
	if d.BrokerURL == "" {
		if err := d.startBroker(ctx, log); err != nil {
			return nil, err
		}
	}
	pos := Layout(opts.N, opts.SpacingM)
	d.Worlds = make([]*world.World, opts.N)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, 2) // two starts at once: the machine has 2 cores
	for i := range opts.N {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id, p := DockID(i), pos[i]
			dir := ""
			if opts.Dir != "" {
				dir = filepath.Join(opts.Dir, id)
			}
			w, err := world.Start(ctx, world.Options{
				Dir: dir, Speed: opts.Speed, BrokerURL: d.BrokerURL, GCS: "none",
				Edit: func(c *config.Config) {
					c.ID = id
					c.MQTT.TopicPrefix = "dock/" + id + "/"
					c.MQTT.ClientID = "dock-agent-" + id
					c.Position.Lat, c.Position.Lon = p.Lat, p.Lon
					// The bench's demo route is drawn around the city
					// centre, outside the geofence of the outer docks;
					// the fleet only answers incidents.
					c.Routes = nil
					// Info, not the bench's debug: twenty agents logging
					// every Modbus poll would cost more than they do.
					c.Log.Level = "info"
					if opts.IOPollReal > 0 {
						io := c.Buses["io"]
						io.PollInterval = min(time.Duration(float64(opts.IOPollReal)*max(opts.Speed, 1)), 10*time.Second)
						c.Buses["io"] = io
					}
					// The agents run on the simulated clock: a 200 ms
					// reply deadline is 20 ms of real time at x10, which
					// twenty agents and their simulated modules on two
					// shared cores miss (latched output.write_failed on
					// the strobe, limit_stuck). A dock's own board answers
					// its one agent in time; here the deadline is kept in
					// real time.
					for name, b := range c.Buses {
						b.Timeout = min(max(b.Timeout, time.Duration(float64(200*time.Millisecond)*max(opts.Speed, 1))), 10*time.Second)
						c.Buses[name] = b
					}
					// The same for the 2 s a part may take to leave the
					// limit switch it starts from: on the bench it covers
					// a coil write and an input poll through the loaded
					// bench process (real time) before the first
					// millimetre of travel (simulated). 2 s of simulated
					// time is 200 ms of real time at x10: one slow round
					// trip latched arms.limit_stuck in a 20-dock run. The
					// mechanical 2 s stay; the I/O gets the reply
					// deadline's 200 ms of real time on top.
					c.Actuators.LimitLeaveTimeout = 2*time.Second + time.Duration(float64(200*time.Millisecond)*max(opts.Speed, 1))
				},
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("start dock %s: %w", id, err))
				return
			}
			d.Worlds[i] = w
			log.Info("dock ready", "dock_id", id, "pid", w.Agent.PID(), "lat", p.Lat, "lon", p.Lon)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		d.Close()
		return nil, err
	}
	rate := cmp.Or(opts.ChargePctPerMin, DefaultChargePctPerMin)
	cctx, cancel := context.WithCancel(context.Background())
	d.stopCharge = cancel
	if rate > 0 {
		for _, w := range d.Worlds {
			d.charging.Go(func() { charge(cctx, w, rate) })
		}
	}
	return d, nil
}

// startBroker starts mosquitto on a free port, or the embedded broker when
// mosquitto is not installed.
func (d *Docks) startBroker(ctx context.Context, log *slog.Logger) error {
	path, err := exec.LookPath("mosquitto")
	if err != nil {
		d.embedded = broker.New("127.0.0.1:0", nil)
		if err := d.embedded.Start(); err != nil {
			return fmt.Errorf("fleet: embedded broker: %w", err)
		}
		d.BrokerURL, d.BrokerKind = d.embedded.URL(), "embedded"
		log.Info("embedded broker (mosquitto not installed)", "url", d.BrokerURL)
		return nil
	}
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("fleet: free port for mosquitto: %w", err)
	}
	d.mqDir, err = os.MkdirTemp("", "fleet-mosquitto-")
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	conf := filepath.Join(d.mqDir, "mosquitto.conf")
	// The bench's broker: anonymous on loopback, no persistence; the queue
	// limits are mosquitto's defaults raised so the command centre, which
	// hears every dock, is never the one dropping messages.
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\nmax_inflight_messages 100\n", port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return fmt.Errorf("fleet: mosquitto config: %w", err)
	}
	logf, err := os.Create(filepath.Join(d.mqDir, "mosquitto.log"))
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	cmd := exec.Command(path, "-c", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("fleet: start %s: %w", path, err)
	}
	d.mosquitto, d.mqDone = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(d.mqDone) }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitListening(ctx, addr, d.mqDone); err != nil {
		return fmt.Errorf("fleet: mosquitto on %s (log %s): %w", addr, logf.Name(), err)
	}
	d.BrokerURL, d.BrokerKind = "tcp://"+addr, "mosquitto"
	log.Info("mosquitto started", "url", d.BrokerURL, "pid", cmd.Process.Pid)
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitListening dials addr until it answers, the process ended or ctx ended.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-exited:
			return errors.New("mosquitto exited at start")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// BrokerPID is the pid of the mosquitto the fleet started, or 0.
func (d *Docks) BrokerPID() int {
	if d.mosquitto == nil {
		return 0
	}
	return d.mosquitto.Process.Pid
}

// Close stops every dock, then the broker.
func (d *Docks) Close() {
	if d.stopCharge != nil {
		d.stopCharge()
		d.charging.Wait()
	}
	var wg sync.WaitGroup
	for _, w := range d.Worlds {
		if w != nil {
			wg.Go(w.Close)
		}
	}
	wg.Wait()
	if d.embedded != nil {
		_ = d.embedded.Stop()
	}
	if d.mosquitto != nil {
		_ = d.mosquitto.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.mqDone:
		case <-time.After(5 * time.Second):
			_ = d.mosquitto.Process.Kill()
			<-d.mqDone
		}
	}
	if d.mqDir != "" {
		_ = os.RemoveAll(d.mqDir)
	}
}

// CPU is CPU time used by the fleet's processes.
type CPU struct {
	Agents []time.Duration // per dock, in the order of Worlds
	Bench  time.Duration   // this process: the simulated drones, I/O modules, weather stations, the centre
	Broker time.Duration   // mosquitto (0 with the embedded broker, which counts in Bench)
}

// Total is all of it.
func (c CPU) Total() time.Duration {
	t := c.Bench + c.Broker
	for _, a := range c.Agents {
		t += a
	}
	return t
}

// Sub is c - o, field by field.
func (c CPU) Sub(o CPU) CPU {
	r := CPU{Bench: c.Bench - o.Bench, Broker: c.Broker - o.Broker, Agents: make([]time.Duration, len(c.Agents))}
	for i := range c.Agents {
		r.Agents[i] = c.Agents[i]
		if i < len(o.Agents) {
			r.Agents[i] -= o.Agents[i]
		}
	}
	return r
}

// CPU reads the CPU time of every process of the fleet so far.
func (d *Docks) CPU() (CPU, error) {
	var c CPU
	for _, w := range d.Worlds {
		u, err := agentproc.ReadUsage(w.Agent.PID())
		if err != nil {
			return c, err
		}
		c.Agents = append(c.Agents, u.CPU)
	}
	u, err := agentproc.ReadUsage(os.Getpid())
	if err != nil {
		return c, err
	}
	c.Bench = u.CPU
	if pid := d.BrokerPID(); pid != 0 {
		u, err := agentproc.ReadUsage(pid)
		if err != nil {
			return c, err
		}
		c.Broker = u.CPU
	}
	return c, nil
}

// LoadAvg returns /proc/loadavg's first three fields ("4.30 5.10 3.36").
func LoadAvg() string {
	f, err := os.Open("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return "unknown"
	}
	fs := strings.Fields(sc.Text())
	if len(fs) < 3 {
		return "unknown"
	}
	return strings.Join(fs[:3], " ")
}

// FormatCPU describes CPU used over a wall-clock span, in percent of one core.
func FormatCPU(c CPU, span time.Duration) string {
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / span.Seconds() }
	var lo, hi, sum time.Duration
	for i, a := range c.Agents {
		if i == 0 || a < lo {
			lo = a
		}
		hi = max(hi, a)
		sum += a
	}
	n := max(len(c.Agents), 1)
	return fmt.Sprintf("cpu over %v (%% of one core): agents %.1f in all, %.1f each (min %.1f, max %.1f); bench process %.1f; broker %.1f; total %.1f of 200\n",
		span.Round(time.Second), pct(sum), pct(sum)/float64(n), pct(lo), pct(hi), pct(c.Bench), pct(c.Broker), pct(c.Total()))
}

// WatchdogTrips lists the docks whose I/O module's communication watchdog
// switched every coil off, with how often ("fleet-09 1"); nil when none
// did. A trip cuts coils the agent still believes on.
func (d *Docks) WatchdogTrips() []string {
	var out []string
	for _, w := range d.Worlds {
		if n := w.IO.WatchdogTrips(); n > 0 {
			out = append(out, fmt.Sprintf("%s %d", w.Config.ID, n))
		}
	}
	return out
}

// Violations lists the safety invariants any dock's witness saw broken.
func (d *Docks) Violations() []string {
	var out []string
	for _, w := range d.Worlds {
		for _, v := range w.Witness().Violations() {
			out = append(out, w.Config.ID+": "+v.String())
		}
	}
	return out
}

// RunCentre connects a command centre to the fleet, waits until every dock
// sent its state, runs the incidents, and returns the report with the CPU
// the fleet used meanwhile over wall time.
func RunCentre(ctx context.Context, d *Docks, speed float64, opts RunOptions, log *slog.Logger) (Report, CPU, time.Duration, error) {
	now := time.Now()
	clock := simclock.New(now, now, speed)
	c, err := NewCentre(ctx, CentreOptions{BrokerURL: d.BrokerURL, Clock: clock, Logger: log})
	if err != nil {
		return Report{}, CPU{}, 0, err
	}
	defer c.Close()
	// Every dock's retained state, and readiness settled (the agents say
	// "starting" until the engine checked the gates once).
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = c.Wait(wctx, func() bool { return len(c.ReadyDocks()) == len(d.Worlds) })
	cancel()
	if err != nil {
		return Report{}, CPU{}, 0, fmt.Errorf("only %d of %d docks ready after 2 min (%d sent a state): %w", len(c.ReadyDocks()), len(d.Worlds), c.Known(), err)
	}
	c0, err := d.CPU()
	if err != nil {
		return Report{}, CPU{}, 0, err
	}
	t0 := time.Now()
	rep := c.Run(ctx, opts)
	wall := time.Since(t0)
	c1, err := d.CPU()
	if err != nil {
		return Report{}, CPU{}, 0, err
	}
	if n := c.Bad(); n > 0 {
		return rep, c1.Sub(c0), wall, fmt.Errorf("%d messages from the docks did not decode (see the log)", n)
	}
	return rep, c1.Sub(c0), wall, nil
}
