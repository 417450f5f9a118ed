package sitl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/tlog"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
	"github.com/dockagent/dock-agent/testbench/sitl"
	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent()
	goleak.VerifyTestMain(m)
}

// home is the bench dock (config/examples/bench.yaml); SITL boots there,
// on ground 18 m below the dock's surveyed altitude as in the recorded
// SITL flight: home must come from the vehicle, not from the config.
var home = route.Point{Lat: 24.3504, Lon: 102.5420}

const groundAltM = 1630

// flight is one sortie flown end to end through the real agent process.
type flight struct {
	name    string
	command string
	args    map[string]any
	// during runs once the vehicle is airborne (nil: nothing).
	during  func(ctx context.Context, t *testing.T, r *run)
	outcome string
	// etaChecked: the dispatch's ETA error is reported and must lie
	// within ±15 %.
	etaChecked bool
	// cruiseMPS, when set, is the config's flight.cruise_speed_mps.
	cruiseMPS float64
	// alert: an alert pre-stages the dock and the command follows once it
	// is staged; from the command to airborne must then take at most
	// maxAlertLaunch (issue 17).
	alert bool
	// benchSpeed, when set, replaces the bench drone's speed-up of 20: a
	// deadline of simulated seconds on work bound by real time (MAVLink
	// round trips, fsyncs) needs a clock not too far from real.
	benchSpeed float64
	// after checks the flight once its report is in (nil: nothing).
	after func(t *testing.T, r *run, report world.Event)
	// rest: the command waits until the agent asked for the docked stream
	// rates (the drone resting on the pad), so the sortie starts from them.
	rest bool
}

// run is one flight's world.
type run struct {
	w    *world.World
	obs  *world.Observer
	sitl *sitl.SITL // nil on the bench's simulated drone
	// sortieID is the flight's sortie.
	sortieID string
	// retarget is what the flight's retarget was told and when.
	retarget retargetSent
}

// retargetSent is a retarget as the command centre saw it.
type retargetSent struct {
	to     route.Point
	at     time.Time // simulated time the command went out
	etaS   float64   // the reply's eta_s, counted from then
	result map[string]any
}

// maxAlertLaunch is issue 17's promise for a staged dock: airborne within
// 3 s of the dispatch.
const maxAlertLaunch = 3 * time.Second

// moved is where dispatch_retarget sends the vehicle once it is on its way
// to target: 1 km from the dock on the other side, about 1.2 km from the
// vehicle then.
var moved = route.Destination(home, 315, 1000)

var target = route.Destination(home, 45, 1200)

var flights = []flight{
	{name: "patrol", command: "patrol", args: map[string]any{"route": "demo"}, outcome: "complete"},
	{name: "dispatch_loiter", command: "dispatch",
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 30}, outcome: "complete", etaChecked: true},
	// The config asks 7 m/s of a vehicle whose own cruise (WPNAV_SPEED)
	// is 10 m/s: the agent must command it (ArduCopter flies a reposition
	// at WPNAV_SPEED until DO_CHANGE_SPEED), or it arrives 30 % early.
	{name: "dispatch_commanded_speed", command: "dispatch",
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 10}, outcome: "complete", etaChecked: true,
		cruiseMPS: 7},
	{name: "dispatch_low_battery", command: "dispatch",
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 60}, outcome: "not_reached",
		during: func(ctx context.Context, t *testing.T, r *run) { drainBattery(ctx, t, r, 20) }},
	// A moving incident: the dispatch is sent elsewhere on the way; the
	// vehicle must fly there and the new promise must hold.
	{name: "dispatch_retarget", command: "dispatch",
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 10}, outcome: "complete", etaChecked: true,
		during: retargetInFlight, after: checkRetarget},
	// An incoming call stages the dock (lid open, arms released, vehicle
	// prepared, not armed); the dispatch that follows only arms and takes
	// off.
	{name: "alert_dispatch", command: "dispatch", alert: true, benchSpeed: 5,
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 10}, outcome: "complete", etaChecked: true},
	// From a rested dock: the agent has turned attitude and VFR_HUD off
	// and slowed the rest to 1 Hz; the sortie must ask for the flight
	// rates again and keep its promise.
	{name: "dispatch_from_docked_streams", command: "dispatch", rest: true,
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 10}, outcome: "complete", etaChecked: true},
	{name: "dispatch_abort", command: "dispatch",
		args: map[string]any{"lat": target.Lat, "lon": target.Lon, "loiter_s": 30}, outcome: "not_reached",
		during: func(ctx context.Context, t *testing.T, r *run) {
			if rep, err := r.obs.Send(ctx, "abort", nil); err != nil || !rep.OK {
				t.Errorf("abort in flight = %+v, %v; want ok", rep, err)
			}
		}},
}

// TestFlightsAgainstArduCopterSITL flies every flight against a real
// ArduCopter (software in the loop) when DOCK_SITL names its binary.
func TestFlightsAgainstArduCopterSITL(t *testing.T) {
	bin, defaults := sitl.FromEnv()
	if bin == "" {
		t.Skip("DOCK_SITL is not set: no ArduCopter SITL binary to fly against (docs/bench.md says how to build one)")
	}
	speed := 5.0
	if s, err := strconv.ParseFloat(os.Getenv("DOCK_SITL_SPEEDUP"), 64); err == nil && s > 0 {
		speed = s
	}
	for i, f := range flights {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
			defer cancel()
			s, err := sitl.Start(ctx, sitl.Options{
				Binary: bin, Defaults: defaults, Dir: filepath.Join(dir, "sitl"),
				HomeLat: home.Lat, HomeLon: home.Lon, HomeAltM: groundAltM,
				Speedup: speed, Instance: 3 + i,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			fly(ctx, t, f, world.Options{Speed: speed, GCS: "none", Dir: dir, VehicleURL: s.URL()}, s)
		})
	}
}

// TestFlightsAgainstBenchDrone flies the same flights against the bench's
// simulated drone, which behaves like ArduCopter where the agent once
// assumed otherwise (it descends in LOITER without a pilot, flies a
// reposition at WPNAV_SPEED): CI keeps what SITL showed.
func TestFlightsAgainstBenchDrone(t *testing.T) {
	for _, f := range flights {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			speed := 20.0
			if f.benchSpeed > 0 {
				speed = f.benchSpeed
			}
			fly(ctx, t, f, world.Options{Speed: speed, GCS: "none", Dir: dir}, nil)
		})
	}
}

func fly(ctx context.Context, t *testing.T, f flight, opts world.Options, s *sitl.SITL) {
	t.Helper()
	opts.BrokerAddr = "127.0.0.1:0"
	if f.cruiseMPS > 0 {
		opts.Edit = func(c *config.Config) { c.Flight.CruiseSpeedMPS = f.cruiseMPS }
	}
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	w, err := world.Start(startCtx, opts)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer func() {
		if t.Failed() {
			logTail(t, filepath.Join(w.Dir(), "agent.log"))
		}
	}()
	obs, err := w.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	r := &run{w: w, obs: obs, sitl: s}
	speed := w.Clock().Speed()
	wall := func(sim time.Duration) time.Duration { return time.Duration(float64(sim)/speed) + 10*time.Second }

	// Commands go out once the agent is online: its command subscription
	// is in place then (a command before it is lost, as on any broker).
	octx, ocancel := context.WithTimeout(ctx, 30*time.Second)
	err = obs.Wait(octx, func() bool { return online(obs) })
	ocancel()
	if err != nil {
		t.Fatalf("agent never online: %v", err)
	}
	// A real autopilot needs its EKF and GPS settled before it arms: retry
	// while only those gates block (each refusal is answered at once).
	sendSettled := func(command string, args map[string]any) world.Reply {
		t.Helper()
		deadline := time.Now().Add(wall(3 * time.Minute))
		for {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			rep, err := obs.Send(cctx, command, args)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || time.Now().After(deadline) || rep.Error == nil || rep.Error.Code != "precondition_failed" || !settling(rep) {
				if !rep.OK {
					t.Fatalf("%s refused: %s %s", command, rep.Error.Message, detail(rep))
				}
				return rep
			}
			// Try again 2 s (simulated) later.
			t0 := w.Clock().Now()
			if err := obs.Wait(ctx, func() bool { return w.Clock().Since(t0) >= 2*time.Second }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if f.rest {
		waitDockedStreams(ctx, t, r, wall(2*time.Minute))
	}
	var rep world.Reply
	var commandAt, commandWall time.Time
	if f.alert {
		stageFrom := len(obs.Events())
		arep := sendSettled("alert", map[string]any{"ref": "call-" + f.name, "lat": f.args["lat"], "lon": f.args["lon"]})
		t.Logf("alert accepted: %s", arep.Result)
		// The alert was accepted at until - window_s by the agent's clock
		// (earlier attempts were refused while the vehicle settled).
		var ares struct {
			Until   time.Time `json:"until"`
			WindowS float64   `json:"window_s"`
		}
		if err := json.Unmarshal(arep.Result, &ares); err != nil || ares.Until.IsZero() || ares.WindowS <= 0 {
			t.Fatalf("alert reply %s: want until and window_s (%v)", arep.Result, err)
		}
		alertAt := ares.Until.Add(-time.Duration(ares.WindowS * float64(time.Second)))
		sctx, cancel := context.WithTimeout(ctx, wall(time.Minute))
		ev, err := obs.WaitEvent(sctx, stageFrom, func(e world.Event) bool {
			return e.Type == "alert" && (e.Fields["state"] == "staged" || e.Fields["state"] == "failed")
		})
		cancel()
		if err != nil {
			t.Fatalf("no alert event staged within 1 min (simulated): %v; state %v", err, obs.State())
		}
		if ev.Fields["state"] != "staged" {
			t.Fatalf("alert staging failed: %v", ev.Fields)
		}
		t.Logf("alert staged after %.1f s (simulated)", eventTime(ev).Sub(alertAt).Seconds())
		// Staged: the dock open (the state follows the event within its
		// 2/s rate), the vehicle not armed.
		sctx, cancel = context.WithTimeout(ctx, wall(5*time.Second))
		err = obs.Wait(sctx, func() bool {
			st := obs.State()
			return st["lid"] == "open" && st["arms"] == "released"
		})
		cancel()
		if err != nil {
			t.Errorf("staged, but the state does not say lid open and arms released: %v; state %v", err, obs.State())
		}
		if armed := world.Lookup(obs.State(), "vehicle.armed"); armed != false {
			t.Errorf("staged dock: vehicle.armed %v, want false (an alert never arms)", armed)
		}
		// The dispatch on a staged dock is sent once, as a command centre
		// would: a refusal now is a failure, not a vehicle settling.
		commandAt, commandWall = w.Clock().Now(), time.Now()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		rep, err = obs.Send(cctx, f.command, f.args)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK {
			t.Fatalf("%s on a staged dock refused: %s %s", f.command, rep.Error.Message, detail(rep))
		}
	} else {
		rep = sendSettled(f.command, f.args)
	}
	var res struct {
		SortieID  string   `json:"sortie_id"`
		ETAS      float64  `json:"eta_s"`
		CircleMin *float64 `json:"circle_min"`
	}
	if err := json.Unmarshal(rep.Result, &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s accepted: %s", f.command, rep.Result)
	r.sortieID = res.SortieID
	waitPhase := func(phase string, within time.Duration) world.Event {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, wall(within))
		defer cancel()
		ev, err := obs.WaitEvent(wctx, 0, func(e world.Event) bool {
			return e.Type == "sortie.phase" && e.Fields["sortie_id"] == res.SortieID && e.Fields["phase"] == phase
		})
		if err != nil {
			t.Fatalf("no sortie.phase %s within %v (simulated): %v; state %v", phase, within, err, obs.State())
		}
		return ev
	}
	airborne := waitPhase("airborne", 2*time.Minute)
	if f.alert {
		sim, real := eventTime(airborne).Sub(commandAt), airborne.Real.Sub(commandWall)
		t.Logf("staged dock: dispatch to airborne %.2f s (simulated, the agent's clock), %.2f s wall at speed x%g", sim.Seconds(), real.Seconds(), speed)
		if sim > maxAlertLaunch {
			t.Errorf("dispatch to airborne on a staged dock took %.2f s (simulated), want <= %v", sim.Seconds(), maxAlertLaunch)
		}
	}
	if f.during != nil {
		// On the way: well clear of the dock, short of the scene.
		wctx, cancel := context.WithTimeout(ctx, wall(2*time.Minute))
		err := obs.Wait(wctx, func() bool { return w.DroneState().DistHomeM > 150 || distance(obs) > 150 })
		cancel()
		if err != nil {
			t.Fatalf("vehicle never 150 m out: %v", err)
		}
		f.during(ctx, t, r)
	}
	rctx, cancel := context.WithTimeout(ctx, wall(12*time.Minute))
	defer cancel()
	report, err := obs.WaitEvent(rctx, 0, func(e world.Event) bool {
		return e.Type == "sortie.report" && e.Fields["sortie_id"] == res.SortieID
	})
	if err != nil {
		t.Fatalf("no sortie.report: %v; state %v", err, obs.State())
	}
	t.Logf("report: outcome %v, eta_s %v, time_to_station_s %v, eta_error_pct %v, broken %v, reasons %v",
		report.Fields["outcome"], report.Fields["eta_s"], report.Fields["time_to_station_s"],
		report.Fields["eta_error_pct"], report.Fields["broken"], report.Fields["reasons"])
	if lo, hi := groundSpeeds(obs); hi > 0 {
		t.Logf("ground speed in flight (telemetry, over 1 m/s): median %.1f m/s, max %.1f m/s", lo, hi)
	}
	if report.Fields["outcome"] != f.outcome {
		t.Errorf("outcome %v, want %s", report.Fields["outcome"], f.outcome)
	}
	if f.etaChecked {
		e, ok := report.Fields["eta_error_pct"].(float64)
		if !ok || math.Abs(e) > 15 {
			t.Errorf("ETA error %v %% (promised %v s, on station after %v s), want within ±15 %%",
				report.Fields["eta_error_pct"], report.Fields["eta_s"], report.Fields["time_to_station_s"])
		}
	}
	if f.after != nil {
		f.after(t, r, report)
	}
	// Back on the pad and secured.
	sctx, cancel := context.WithTimeout(ctx, wall(2*time.Minute))
	defer cancel()
	if err := obs.Wait(sctx, func() bool {
		st := obs.State()
		return st != nil && st["lid"] == "closed" && st["arms"] == "clamped" && world.Lookup(st, "vehicle.docked") == true
	}); err != nil {
		t.Errorf("dock not secured with the vehicle docked: %v; state %v", err, obs.State())
	}
	w.Witness().Check()
	for _, v := range w.Witness().Violations() {
		t.Errorf("safety invariant: %s", v)
	}
	// Invariant 8, from the flight log: every mode the agent commanded.
	modes := commandedModes(t, filepath.Join(w.Dir(), "state", "flightlogs"), uint8(w.Config.Vehicle.SystemID))
	t.Logf("modes commanded by the agent: %v; flown: %v", modes, w.VehicleModes())
	if len(modes) == 0 {
		t.Errorf("no mode change found in the flight log")
	}
	for _, m := range modes {
		if vehicle.PilotMode(vehicle.ArduPilot, m) {
			t.Errorf("the agent commanded pilot mode %s (invariant 8)", m)
		}
	}
	for _, m := range w.VehicleModes() {
		if vehicle.PilotMode(vehicle.ArduPilot, m) {
			t.Errorf("the vehicle flew in pilot mode %s", m)
		}
	}
}

// retargetInFlight moves the dispatch to moved while the vehicle is on its
// way to target.
func retargetInFlight(ctx context.Context, t *testing.T, r *run) {
	t.Helper()
	at := r.w.Clock().Now()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep, err := r.obs.Send(cctx, "retarget", map[string]any{"lat": moved.Lat, "lon": moved.Lon, "sortie_id": r.sortieID})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("retarget in flight refused: %s %s %s", rep.Error.Code, rep.Error.Message, detail(rep))
	}
	var res map[string]any
	if err := json.Unmarshal(rep.Result, &res); err != nil {
		t.Fatal(err)
	}
	eta, ok := res["eta_s"].(float64)
	if !ok || eta <= 0 || res["sortie_id"] != r.sortieID {
		t.Fatalf("retarget reply %s: want this sortie %s and an eta_s > 0", rep.Result, r.sortieID)
	}
	t.Logf("retargeted %.0f m from the dock: %s", distance(r.obs), rep.Result)
	r.retarget = retargetSent{to: moved, at: at, etaS: eta, result: res}
}

// checkRetarget checks that the vehicle went to the new point, not the
// first one, and reached it within 15 % of the ETA the retarget promised.
func checkRetarget(t *testing.T, r *run, report world.Event) {
	t.Helper()
	rt := r.retarget
	if rt.at.IsZero() {
		t.Fatal("no retarget was sent")
	}
	var station world.Event
	for _, e := range r.obs.Events() {
		if e.Type == "sortie.phase" && e.Fields["sortie_id"] == r.sortieID && e.Fields["phase"] == "on_station" {
			station = e
		}
	}
	if station.Type == "" {
		t.Fatalf("no on_station after the retarget")
	}
	flown := eventTime(station).Sub(rt.at).Seconds()
	errPct := 100 * (flown - rt.etaS) / rt.etaS
	t.Logf("retarget: eta_s %.0f from the command, on station %.1f s after it (%+.1f %%); report promised_eta %v s, time_to_station %v s",
		rt.etaS, flown, errPct, report.Fields["eta_s"], report.Fields["time_to_station_s"])
	if math.Abs(errPct) > 15 {
		t.Errorf("on station %.1f s after the retarget, which promised %.0f s (%+.1f %%), want within ±15 %%", flown, rt.etaS, errPct)
	}
	// Where the vehicle went, from the agent's telemetry (the vehicle's
	// own GLOBAL_POSITION_INT on SITL).
	nearNew, nearOld := math.Inf(1), math.Inf(1)
	for _, m := range r.obs.Messages("telemetry") {
		var tel struct {
			Lat float64 `json:"lat"`
			Lon float64 `json:"lon"`
		}
		if json.Unmarshal(m.Payload, &tel) != nil || (tel.Lat == 0 && tel.Lon == 0) {
			continue
		}
		p := route.Point{Lat: tel.Lat, Lon: tel.Lon}
		nearNew = math.Min(nearNew, route.Distance(p, rt.to))
		nearOld = math.Min(nearOld, route.Distance(p, target))
	}
	t.Logf("closest approach: %.0f m to the new point, %.0f m to the first one", nearNew, nearOld)
	if nearNew > 25 {
		t.Errorf("the vehicle came no closer than %.0f m to the retargeted point, want within 25 m", nearNew)
	}
	if nearOld < 500 {
		t.Errorf("the vehicle came within %.0f m of the first point after being retargeted away, want it to turn", nearOld)
	}
}

// eventTime is when the agent stamped e (its clock: simulated on the
// bench), or when the observer got it if the stamp does not parse.
func eventTime(e world.Event) time.Time {
	if ts, err := time.Parse(time.RFC3339Nano, e.TS); err == nil {
		return ts
	}
	return e.At
}

// settling reports whether a refusal names only gates a vehicle that just
// booted clears by itself (GPS, pre-arm, heartbeat, battery unknown).
func settling(rep world.Reply) bool {
	var gates []map[string]any
	if json.Unmarshal(rep.Error.Details, &gates) != nil || len(gates) == 0 {
		return false
	}
	for _, g := range gates {
		switch g["gate"] {
		case "gps", "prearm", "ekf", "heartbeat", "vehicle", "weather", "home":
		case "battery": // unknown (-1) until the first SYS_STATUS
			if v, ok := g["value_pct"].(float64); !ok || v >= 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func detail(rep world.Reply) string {
	if rep.Error == nil {
		return ""
	}
	return string(rep.Error.Details)
}

// distance is the vehicle's distance from the dock from the agent's
// telemetry.
func distance(obs *world.Observer) float64 {
	m := obs.Messages("telemetry")
	if len(m) == 0 {
		return 0
	}
	var tel struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	}
	if json.Unmarshal(m[len(m)-1].Payload, &tel) != nil || (tel.Lat == 0 && tel.Lon == 0) {
		return 0
	}
	return route.Distance(home, route.Point{Lat: tel.Lat, Lon: tel.Lon})
}

// drainBattery makes the vehicle report about pct % left: on SITL by a
// smaller BATT_CAPACITY (the charge used so far then weighs more), on the
// simulated drone by its battery injection.
func drainBattery(ctx context.Context, t *testing.T, r *run, pct float64) {
	t.Helper()
	if r.sitl == nil {
		if err := r.w.DroneFault("battery", strconv.FormatFloat(pct, 'f', -1, 64)); err != nil {
			t.Fatal(err)
		}
		return
	}
	capMAh, err := r.sitl.GetParam(ctx, "BATT_CAPACITY")
	if err != nil {
		t.Fatal(err)
	}
	left := batteryPct(r.obs)
	used := capMAh * (1 - left/100)
	newCap := math.Max(50, used/(1-pct/100))
	t.Logf("battery at %.0f %% of %.0f mAh (%.0f mAh used): BATT_CAPACITY %.0f mAh for %.0f %% left", left, capMAh, used, newCap, pct)
	if err := r.sitl.SetParam(ctx, "BATT_CAPACITY", newCap); err != nil {
		t.Fatal(err)
	}
}

func batteryPct(obs *world.Observer) float64 {
	if p, ok := world.Lookup(obs.State(), "vehicle.battery_pct").(float64); ok {
		return p
	}
	return 100
}

// commandedModes reads the flight logs in dir and returns every flight
// mode the agent (sysid) asked for: DO_SET_MODE as COMMAND_LONG or
// COMMAND_INT, and SET_MODE, in order; a DO_REPOSITION that switches mode
// counts as GUIDED.
func commandedModes(t *testing.T, dir string, sysid uint8) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tlog"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no flight log in %s: %v", dir, err)
	}
	var modes []string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rd := tlog.NewReader(bytes.NewReader(b))
		p := mavlink.NewParser(mavlink.ParserOptions{})
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var f mavlink.Frame
			if _, err := p.Next(rec.Frame, true, &f); err != nil || f.SysID != sysid {
				continue
			}
			switch f.MsgID {
			case 76:
				var m mavlink.CommandLong
				if mavlink.DecodeMessage(&f, &m) == nil && m.Command == mavlink.MAV_CMD_DO_SET_MODE {
					modes = append(modes, vehicle.ModeName(vehicle.ArduPilot, uint32(m.Param2)))
				}
			case 75:
				var m mavlink.CommandInt
				if mavlink.DecodeMessage(&f, &m) == nil {
					switch m.Command {
					case mavlink.MAV_CMD_DO_SET_MODE:
						modes = append(modes, vehicle.ModeName(vehicle.ArduPilot, uint32(m.Param2)))
					case mavlink.MAV_CMD_DO_REPOSITION:
						modes = append(modes, "GUIDED")
					}
				}
			case 11:
				var m mavlink.SetMode
				if mavlink.DecodeMessage(&f, &m) == nil {
					modes = append(modes, vehicle.ModeName(vehicle.ArduPilot, m.CustomMode))
				}
			}
		}
	}
	return modes
}

// logTail logs the last 20 kB of the agent's log.
func logTail(t *testing.T, path string) {
	b, _ := os.ReadFile(path)
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	t.Logf("agent log (tail):\n%s", b)
}

// groundSpeeds returns the median and the largest ground speed above
// 1 m/s in the agent's telemetry.
func groundSpeeds(obs *world.Observer) (median, maxMPS float64) {
	var v []float64
	for _, m := range obs.Messages("telemetry") {
		var tel struct {
			GS float64 `json:"ground_speed_mps"`
		}
		if json.Unmarshal(m.Payload, &tel) == nil && tel.GS > 1 {
			v = append(v, tel.GS)
			maxMPS = math.Max(maxMPS, tel.GS)
		}
	}
	if len(v) == 0 {
		return 0, 0
	}
	sort.Float64s(v)
	return v[len(v)/2], maxMPS
}

// online reports whether the agent's retained status says online.
func online(obs *world.Observer) bool {
	m := obs.Messages("status")
	if len(m) == 0 {
		return false
	}
	var st struct {
		Online bool `json:"online"`
	}
	return json.Unmarshal(m[len(m)-1].Payload, &st) == nil && st.Online
}

// waitDockedStreams waits until the agent logged its switch to the docked
// stream rates, at most wall (real time).
func waitDockedStreams(ctx context.Context, t *testing.T, r *run, wall time.Duration) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, wall)
	defer cancel()
	path := filepath.Join(r.w.Dir(), "agent.log")
	err := r.obs.Wait(wctx, func() bool {
		b, _ := os.ReadFile(path)
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, "vehicle streams switched") && strings.Contains(line, "docked") {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the agent never asked for the docked stream rates: %v", err)
	}
	if !r.obs.ReadyToFly() {
		t.Logf("dock not ready on the docked rates yet: %v", world.Lookup(r.obs.State(), "readiness"))
	}
}
