package sortie_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/sortie"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var home = config.Position{Lat: 52.52, Lon: 13.40, AltM: 40}

const (
	lidTravel  = 12 * time.Second
	armsTravel = 4 * time.Second
	fine       = 10 * time.Millisecond
	coarse     = 100 * time.Millisecond
)

// events records what the controller and the engine emit.
type events struct {
	mu sync.Mutex
	ev []dock.Event
}

func (e *events) Emit(ev dock.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ev = append(e.ev, ev)
	return nil
}

func (e *events) of(t dock.EventType) []dock.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []dock.Event
	for _, ev := range e.ev {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// phases lists the sortie.phase events of sortie id in order.
func (e *events) phases(id string) []dock.Phase {
	var out []dock.Phase
	for _, ev := range e.of(dock.EventSortiePhase) {
		if ev.Fields["sortie_id"] == id {
			out = append(out, dock.Phase(ev.Fields["phase"].(string)))
		}
	}
	return out
}

func (e *events) report(id string) map[string]any {
	for _, ev := range e.of(dock.EventSortieReport) {
		if ev.Fields["sortie_id"] == id {
			return ev.Fields
		}
	}
	return nil
}

// rig is a dock on simulated hardware with a fake vehicle flown by a
// simple pilot, the controller and the engine, on one fake clock.
type rig struct {
	t     *testing.T
	clock *clockwork.FakeClock
	hw    *docktest.Hardware
	veh   *docktest.Vehicle
	ev    *events
	ctrl  *dock.Controller
	eng   *sortie.Engine
	opts  sortie.Options
	pilot *pilot

	mu      sync.Mutex
	weather dock.Weather

	stopEngine func()
	prevArmed  bool
}

type rigSetup struct {
	opts  *sortie.Options
	hwOpt *docktest.HardwareOptions
}

func baseOptions(dir string) sortie.Options {
	return sortie.Options{
		DockID: "d1",
		Dock:   home,
		Limits: config.Limits{
			WindMPS: 12, GustMPS: 15, BlockOnRain: true, TempMinC: -10, TempMaxC: 45,
			BatteryReservePct: 25, MinSats: 8, MaxHDOP: 2, HeartbeatMaxAge: 3 * time.Second,
			ClearanceAltM: 15, Geofence: config.Geofence{RadiusM: 5000}, MaxAltM: 120,
		},
		Flight: config.Flight{
			CruiseSpeedMPS: 15, ClimbMPS: 5, PatrolAltM: 60, LaunchTime: 15 * time.Second,
			DefaultLoiter: 30 * time.Second, HoverPctPerMin: 3, CruisePctPerKm: 2, ChargeTarget: "ready",
		},
		Actuators: config.Actuators{LidTimeout: 25 * time.Second, ArmsTimeout: 8 * time.Second, LidTravel: lidTravel, ArmsTravel: armsTravel},
		Routes: map[string]config.Route{
			"square": {Waypoints: []config.Waypoint{
				{Lat: 52.5230, Lon: 13.4000, AltM: 50},
				{Lat: 52.5230, Lon: 13.4050},
				{Lat: 52.5200, Lon: 13.4050, Hold: 5 * time.Second},
			}},
		},
		StateDir: dir,
	}
}

func newRig(t *testing.T, setup func(s rigSetup)) *rig {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	hwOpt := docktest.HardwareOptions{LidTravel: lidTravel, ArmsTravel: armsTravel}
	opts := baseOptions(t.TempDir())
	if setup != nil {
		setup(rigSetup{opts: &opts, hwOpt: &hwOpt})
	}
	r := &rig{t: t, clock: clock, hw: docktest.NewHardware(clock, hwOpt), veh: docktest.NewVehicle(), ev: &events{}}
	r.veh.Set(func(s *dock.VehicleState) {
		s.Lat, s.Lon, s.BatteryPct = home.Lat, home.Lon, 100
		s.HomeLat, s.HomeLon = home.Lat, home.Lon
	})
	r.pilot = &pilot{veh: r.veh, speed: 15, drainPerS: 0.05}
	r.weather = dock.Weather{WindMPS: 3, GustMPS: 5, DirDeg: 270, TempC: 10, HumidityPct: 60}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctrl, err := dock.NewController(dock.ControllerOptions{
		Clock: clock, Logger: logger.With("part", "controller"), LidTimeout: opts.Actuators.LidTimeout,
		ArmsTimeout: opts.Actuators.ArmsTimeout, ClearanceAltM: opts.Limits.ClearanceAltM,
		DockLat: home.Lat, DockLon: home.Lon,
	}, r.hw.Dock(), r.veh.State, r.ev)
	if err != nil {
		t.Fatalf("NewController() = %v", err)
	}
	r.ctrl = ctrl
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx) }()
	t.Cleanup(func() {
		if r.stopEngine != nil {
			r.stopEngine()
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller Run() = %v", err)
		}
	})
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatalf("waiting for the controller's ticker: %v", err)
	}
	r.feedWeather()
	r.refresh()
	opts.Clock = clock
	opts.Logger = logger
	opts.Hardware = ctrl
	opts.Vehicle = r.veh
	opts.Events = r.ev
	r.opts = opts
	r.startEngine()
	return r
}

// startEngine creates and runs a new Engine on the rig's options (a
// restart when one ran before).
func (r *rig) startEngine() {
	r.t.Helper()
	eng, err := sortie.New(r.opts)
	if err != nil {
		r.t.Fatalf("sortie.New() = %v", err)
	}
	r.eng = eng
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	r.stopEngine = func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("engine Run() = %v", err)
		}
		r.stopEngine = nil
	}
	r.sync()
}

func (r *rig) setWeather(f func(w *dock.Weather)) {
	r.mu.Lock()
	f(&r.weather)
	r.mu.Unlock()
	r.feedWeather()
}

func (r *rig) feedWeather() {
	r.mu.Lock()
	w := r.weather
	r.mu.Unlock()
	w.At = r.clock.Now()
	r.ctrl.SetWeather(w, nil)
}

func (r *rig) refresh() dock.State {
	r.t.Helper()
	s, err := r.ctrl.Refresh(r.t.Context())
	if err != nil {
		r.t.Fatalf("Refresh() = %v", err)
	}
	return s
}

// sync waits until the engine's loop has handled what was sent before.
func (r *rig) sync() sortie.Status {
	r.t.Helper()
	res, err := r.eng.Status(r.t.Context())
	if err != nil {
		r.t.Fatalf("status: %v", err)
	}
	return res.(sortie.Status)
}

// step advances the world by d: the clock, the pilot, the weather feed,
// the controller and the engine, then checks the invariants.
func (r *rig) step(d time.Duration) {
	r.t.Helper()
	// Let the engine's job goroutines (a launch waiting on its limit
	// switches, a vehicle command) run before time moves on: the test,
	// controller and engine goroutines hand off to each other directly and
	// would otherwise keep a new job waiting in the run queue for a whole
	// scheduler time slice, which is hundreds of simulated steps.
	for range 3 {
		runtime.Gosched()
	}
	r.clock.Advance(d)
	r.pilot.fly(d)
	r.feedWeather()
	r.refresh()
	if r.stopEngine != nil {
		r.sync()
	}
	r.checkInvariants()
}

// until steps by d until cond holds, failing after max simulated time.
func (r *rig) until(what string, d, max time.Duration, cond func() bool) {
	r.t.Helper()
	start := r.clock.Now()
	for !cond() {
		if r.clock.Since(start) > max {
			v := r.veh.State()
			calls := r.veh.Calls()
			calls = calls[len(calls)-min(8, len(calls)):]
			r.t.Fatalf("after %v: still waiting for %s; phases %v; vehicle mode %q armed %v landed %v alt %.1f m, %.0f m from home; last calls %v; engine %+v",
				max, what, r.allPhases(), v.Mode, v.Armed, v.Landed, v.RelAltM,
				route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, route.Point{Lat: home.Lat, Lon: home.Lon}), calls, r.sync())
		}
		r.step(d)
	}
	if r.stopEngine != nil {
		r.sync() // let the loop finish what made cond true
	}
}

func (r *rig) allPhases() []string {
	var out []string
	for _, ev := range r.ev.of(dock.EventSortiePhase) {
		out = append(out, fmt.Sprintf("%v:%v", ev.Fields["sortie_id"], ev.Fields["phase"]))
	}
	return out
}

func (r *rig) phaseIs(id string, p dock.Phase) func() bool {
	return func() bool {
		ps := r.ev.phases(id)
		return len(ps) > 0 && ps[len(ps)-1] == p
	}
}

// checkInvariants checks DESIGN.md §4 on the simulated world.
func (r *rig) checkInvariants() {
	r.t.Helper()
	v := r.veh.State()
	lidOpen := r.hw.Lid.Position() >= 1
	armsReleased := r.hw.Arms.Position() >= 1
	armsClamped := r.hw.Arms.Position() <= 0
	// 2: never armed unless both switches said open / released.
	if v.Armed && !r.prevArmed && (!lidOpen || !armsReleased) {
		r.t.Fatalf("invariant 2: vehicle armed with lid at %.2f, arms at %.2f", r.hw.Lid.Position(), r.hw.Arms.Position())
	}
	r.prevArmed = v.Armed
	// 1: the lid moves toward closed only over a docked or cleared vehicle.
	if r.hw.Lid.Down.On() {
		docked := v.Link && !v.Armed && v.Landed == dock.LandedOnGround && armsClamped
		clear := v.Armed && v.Landed == dock.LandedInAir && v.RelAltM >= r.opts.Limits.ClearanceAltM
		if !docked && !clear {
			r.t.Fatalf("invariant 1: lid closing over vehicle %+v", v)
		}
	}
	// 3: the arms never move under an armed vehicle.
	if v.Armed && (r.hw.Arms.Up.On() || r.hw.Arms.Down.On()) {
		r.t.Fatalf("invariant 3: arms moving while armed")
	}
	// 5: charger only for a docked, disarmed vehicle.
	if r.hw.Charger.On() && (v.Armed || v.Landed != dock.LandedOnGround) {
		r.t.Fatalf("invariant 5: charger on with vehicle armed=%v landed=%v", v.Armed, v.Landed)
	}
	// 7: a vehicle descending over the dock finds the lid open.
	d := route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, route.Point{Lat: home.Lat, Lon: home.Lon})
	if v.Armed && v.Landed != dock.LandedOnGround && d < 5 && v.RelAltM < r.opts.Limits.ClearanceAltM && !lidOpen && r.pilot.descending {
		r.t.Fatalf("invariant 7: vehicle descending at %.1f m over a lid at %.2f", v.RelAltM, r.hw.Lid.Position())
	}
	for _, a := range []*docktest.Actuator{r.hw.Lid, r.hw.Arms} {
		if a.BothOn() != 0 {
			r.t.Fatalf("both relays of %s on", a.Up.Name())
		}
	}
}

func (r *rig) dispatch(lat, lon float64, mod func(a *dock.DispatchRequest)) (dock.DispatchResult, error) {
	r.t.Helper()
	a := dock.DispatchRequest{Lat: lat, Lon: lon}
	if mod != nil {
		mod(&a)
	}
	return r.eng.Dispatch(r.t.Context(), "req-dispatch", a)
}

func (r *rig) callCount(name string) int {
	n := 0
	for _, c := range r.veh.Calls() {
		if c.Name == name {
			n++
		}
	}
	return n
}

// pilot flies the fake vehicle the way a cooperative autopilot would: it
// climbs to and flies to GoTo targets in GUIDED, follows the uploaded
// mission in AUTO, flies home and lands in RTL, stays put in LOITER, and
// drains the battery while in the air.
type pilot struct {
	veh        *docktest.Vehicle
	speed      float64 // m/s
	drainPerS  float64 // % per second in the air
	descending bool
	seq        int
	mission    int // UploadMission calls seen when seq was reset
}

func (p *pilot) fly(d time.Duration) {
	calls := p.veh.Calls()
	var goTo []any
	var items []dock.MissionItem
	uploads := 0
	for _, c := range calls {
		switch c.Name {
		case "GoTo":
			goTo = c.Args
		case "Takeoff":
			goTo = nil
		case "UploadMission":
			items = c.Args[0].([]dock.MissionItem)
			uploads++
		}
	}
	if uploads != p.mission {
		p.mission, p.seq = uploads, 0
	}
	dt := d.Seconds()
	p.descending = false
	p.veh.Set(func(s *dock.VehicleState) {
		if !s.Armed {
			return
		}
		if s.Mode == "AUTO" && s.Landed == dock.LandedOnGround {
			s.Landed = dock.LandedInAir
		}
		if s.Landed == dock.LandedOnGround {
			return
		}
		s.BatteryPct = math.Max(0, s.BatteryPct-p.drainPerS*dt)
		here := route.Point{Lat: s.Lat, Lon: s.Lon}
		moveTo := func(to route.Point, alt float64) bool {
			if s.RelAltM < alt {
				s.RelAltM = math.Min(alt, s.RelAltM+5*dt)
			}
			dist := route.Distance(here, to)
			step := p.speed * dt
			if dist <= step {
				s.Lat, s.Lon = to.Lat, to.Lon
				return true
			}
			n := route.Destination(here, route.Bearing(here, to), step)
			s.Lat, s.Lon = n.Lat, n.Lon
			return false
		}
		switch s.Mode {
		case "GUIDED":
			if goTo != nil {
				moveTo(route.Point{Lat: goTo[0].(float64), Lon: goTo[1].(float64)}, goTo[2].(float64))
			}
		case "AUTO":
			for p.seq < len(items) && items[p.seq].Command != dock.MissionWaypoint && items[p.seq].Command != dock.MissionReturnToLaunch {
				if items[p.seq].Command == dock.MissionTakeoff && s.RelAltM < items[p.seq].AltM {
					s.RelAltM = math.Min(items[p.seq].AltM, s.RelAltM+5*dt)
					return
				}
				p.seq++
			}
			if p.seq >= len(items) || items[p.seq].Command == dock.MissionReturnToLaunch {
				s.MissionSeq = p.seq
				s.Mode = "RTL"
				return
			}
			it := items[p.seq]
			s.MissionSeq = p.seq
			if moveTo(route.Point{Lat: it.Lat, Lon: it.Lon}, it.AltM) {
				s.MissionReached = p.seq
				p.seq++
			}
		case "RTL":
			if moveTo(route.Point{Lat: s.HomeLat, Lon: s.HomeLon}, 0) {
				p.descending = true
				s.Landed = dock.LandedLanding
				s.RelAltM -= 3 * dt
				if s.RelAltM <= 0 {
					s.RelAltM, s.Landed, s.Armed = 0, dock.LandedOnGround, false
				}
			}
		}
	})
}

// awaitTakeoff steps until the vehicle has received n commands named cmd
// ("Takeoff", or "StartMission" for a patrol). Once both limit switches
// read open the clock stands still while the engine's launch job arms and
// takes off: the take-off latency is measured on the fake clock, and a
// job goroutine left waiting in the run queue must not make simulated
// time pass. It waits for the job in real time, up to 10 s.
func (r *rig) awaitTakeoff(n int, cmd string) {
	r.t.Helper()
	start := r.clock.Now()
	// The launch job starts the lid and arms at once; wait for it in real
	// time before time moves.
	deadline := time.Now().Add(10 * time.Second)
	for st := r.refresh(); st.Lid != dock.LidOpening && st.Lid != dock.LidOpen; st = r.refresh() {
		if time.Now().After(deadline) {
			r.t.Fatalf("lid %s 10 s (real time) after the launch began", st.Lid)
		}
		runtime.Gosched()
	}
	for r.callCount(cmd) < n {
		if r.clock.Since(start) > time.Minute {
			r.t.Fatalf("no %s within a minute; phases %v", cmd, r.allPhases())
		}
		if st := r.refresh(); st.Lid == dock.LidOpen && st.Arms == dock.ArmsReleased {
			deadline := time.Now().Add(10 * time.Second)
			for r.callCount(cmd) < n && time.Now().Before(deadline) {
				runtime.Gosched()
			}
			if r.callCount(cmd) < n {
				r.t.Fatalf("lid open and arms released, but no %s within 10 s of real time", cmd)
			}
			break
		}
		r.step(fine)
	}
	// And for the launch job's result to reach the loop.
	deadline = time.Now().Add(10 * time.Second)
	for st := r.sync(); st.Sortie != nil && st.Sortie.Phase == dock.PhaseLaunching; st = r.sync() {
		if time.Now().After(deadline) {
			r.t.Fatalf("still launching 10 s (real time) after %s", cmd)
		}
		runtime.Gosched()
	}
}
