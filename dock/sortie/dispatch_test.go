package sortie_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// target is ~1.1 km north-east of the dock: inside the 3-minute circle.
var target = route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 45, 1100)

// flightLog records Start and Stop calls.
type flightLog struct {
	mu      sync.Mutex
	started []string
	stops   int
}

func (f *flightLog) Start(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, name)
	return name + ".tlog", nil
}

func (f *flightLog) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	return nil
}

func TestDispatchFromIdleToComplete(t *testing.T) {
	fl := &flightLog{}
	r := newRig(t, func(s rigSetup) { s.opts.FlightLog = fl })
	start := r.clock.Now()
	res, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.Ref = "INC-1" })
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	if res.SortieID == "" || res.CircleMin == nil || *res.CircleMin != 3 || res.Queued {
		t.Fatalf("dispatch result = %+v, want a sortie in the 3-minute circle", res)
	}
	if res.DistanceM < 1090 || res.DistanceM > 1110 {
		t.Errorf("distance_m = %v, want 1100", res.DistanceM)
	}
	id := res.SortieID

	// Launch: the lid takes 12 s; take-off must follow its limit switch
	// within a second.
	r.awaitTakeoff(1, "Takeoff")
	lidOpenAt := r.hw.Lid.Up.LastOff()
	takeoff := r.clock.Now()
	if lat := takeoff.Sub(start); lat < lidTravel || lat > lidTravel+time.Second {
		t.Errorf("launch latency = %v, want lid travel %v + < 1s", lat, lidTravel)
	}
	if d := takeoff.Sub(lidOpenAt); d > time.Second {
		t.Errorf("take-off %v after the lid-open limit switch, want < 1s", d)
	}

	if ref := r.refresh().Sortie; ref == nil || ref.ID != id || ref.Phase != dock.PhaseAirborne {
		t.Errorf("state.sortie = %+v, want %s airborne", ref, id)
	} else if tg := ref.Target; tg == nil || tg.Lat != target.Lat || tg.Lon != target.Lon || tg.AltM != 60 || ref.Route != "" {
		// The target rides in state.sortie so that a map can draw it.
		t.Errorf("state.sortie target = %+v route %q, want lat %v lon %v alt_m 60, no route", tg, ref.Route, target.Lat, target.Lon)
	}
	r.until("complete", coarse, 10*time.Minute, r.phaseIs(id, dock.PhaseComplete))
	if ref := r.refresh().Sortie; ref != nil {
		t.Errorf("state.sortie = %+v after the sortie, want null", ref)
	}
	want := []dock.Phase{dock.PhaseQueued, dock.PhasePreflight, dock.PhaseLaunching, dock.PhaseAirborne,
		dock.PhaseOnStation, dock.PhaseReturning, dock.PhaseLanding, dock.PhaseLanded, dock.PhaseSecuring, dock.PhaseComplete}
	if diff := cmp.Diff(want, r.ev.phases(id)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	st := r.refresh()
	if st.Lid != dock.LidClosed || st.Arms != dock.ArmsClamped || !st.Charger {
		t.Errorf("after securing: lid %s arms %s charger %v, want closed, clamped, on", st.Lid, st.Arms, st.Charger)
	}
	rep := r.ev.report(id)
	if rep == nil {
		t.Fatalf("no sortie.report for %s", id)
	}
	if rep["outcome"] != "complete" || rep["ref"] != "INC-1" {
		t.Errorf("report outcome %v ref %v, want complete INC-1", rep["outcome"], rep["ref"])
	}
	if rep["tlog"] != id+".tlog" || fl.stops != 1 {
		t.Errorf("report tlog %v, flight log stopped %d times; want %s.tlog, 1", rep["tlog"], fl.stops, id)
	}
	if l := rep["launch_latency_s"].(float64); l < 12 || l > 13 {
		t.Errorf("report launch_latency_s = %v, want 12..13", l)
	}
	if d := rep["distance_m"].(float64); d < 2000 || d > 2500 {
		t.Errorf("report distance_m = %v, want about 2200", d)
	}
	if a := rep["max_alt_m"].(float64); a != 60 {
		t.Errorf("report max_alt_m = %v, want 60", a)
	}
	if u := rep["battery_used_pct"].(float64); u <= 0 {
		t.Errorf("report battery_used_pct = %v, want > 0", u)
	}
	if tts := rep["time_to_station_s"].(float64); tts < 80 || tts > 110 {
		t.Errorf("report time_to_station_s = %v, want about 12 + 74 s", tts)
	}
	if r.sync().Sortie != nil {
		t.Errorf("status still shows an active sortie")
	}
	// The vehicle flew GoTo at the commanded speed, held and came home (RTL).
	for _, c := range []string{"Streams", "SetHomeHere", "UploadMission", "Arm", "Takeoff", "GoTo", "SetSpeed", "Hold", "ReturnToLaunch"} {
		if r.callCount(c) == 0 {
			t.Errorf("vehicle never received %s", c)
		}
	}
}

func TestPreflightBlockedForWind(t *testing.T) {
	r := newRig(t, nil)
	r.setWeather(func(w *dock.Weather) { w.WindMPS, w.GustMPS = 14.2, 16 })
	r.step(fine)
	_, err := r.dispatch(target.Lat, target.Lon, nil)
	if !errors.Is(err, dock.ErrPrecondition) {
		t.Fatalf("dispatch in wind = %v, want precondition_failed", err)
	}
	var ge *dock.GateError
	if !errors.As(err, &ge) {
		t.Fatalf("dispatch error %T, want *dock.GateError", err)
	}
	want := []dock.Gate{
		{Name: "wind", Unit: "mps", Value: 14.2, Limit: 12},
		{Name: "gust", Unit: "mps", Value: 16, Limit: 15},
	}
	if diff := cmp.Diff(want, ge.Gates); diff != "" {
		t.Errorf("gates (-want +got):\n%s", diff)
	}
	if n := len(r.ev.of(dock.EventPreflightBlocked)); n != 1 {
		t.Errorf("%d preflight.blocked events, want 1", n)
	}
	if r.hw.Lid.Up.On() || r.callCount("Arm") > 0 {
		t.Errorf("something moved after a refused dispatch")
	}
}

func TestDispatchOutOfRange(t *testing.T) {
	r := newRig(t, nil)
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 270, 4800) // upwind
	_, err := r.dispatch(far.Lat, far.Lon, nil)
	if !errors.Is(err, dock.ErrOutOfRange) {
		t.Fatalf("dispatch 4.8 km away = %v, want out_of_range", err)
	}
	de, ok := errors.AsType[*dock.Error](err)
	if !ok {
		t.Fatalf("dispatch 4.8 km away = %T, want *dock.Error with details", err)
	}
	d := de.Details.(map[string]any)
	if d["circle_min"] != nil || d["distance_m"].(float64) < 4790 {
		t.Errorf("details = %v, want circle_min null and distance_m 4800", d)
	}
	if len(r.ev.of(dock.EventSortiePhase)) != 0 {
		t.Errorf("a sortie started for an out-of-range dispatch")
	}
}

func TestLidStuckAbortsBeforeArming(t *testing.T) {
	r := newRig(t, nil)
	r.hw.Lid.Stuck(true)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	r.until("aborted", fine, 30*time.Second, r.phaseIs(res.SortieID, dock.PhaseAborted))
	if n := r.callCount("Arm"); n != 0 {
		t.Errorf("vehicle armed %d times with a stuck lid", n)
	}
	rep := r.ev.report(res.SortieID)
	reasons := rep["reasons"].([]any)
	if len(reasons) == 0 || !containsText(reasons[0], "open lid") {
		t.Errorf("reasons = %v, want the lid named first", reasons)
	}
	if rep["outcome"] != "aborted" {
		t.Errorf("outcome = %v, want aborted", rep["outcome"])
	}
}

func TestEStopDuringLaunch(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("dispatch = %v", err)
	}
	for range 500 { // 5 s into the launch
		r.step(fine)
	}
	r.hw.Set(r.hw.EStop, true)
	r.until("aborted", fine, 30*time.Second, r.phaseIs(res.SortieID, dock.PhaseAborted))
	if n := r.callCount("Arm"); n != 0 {
		t.Errorf("vehicle armed %d times during an e-stop", n)
	}
	if r.hw.AnyOn() {
		t.Errorf("an output is on while the e-stop is latched")
	}
	ps := r.ev.phases(res.SortieID)
	if !slices.Contains(ps, dock.PhaseLaunching) || slices.Contains(ps, dock.PhaseAirborne) {
		t.Errorf("phases %v, want launching and no airborne", ps)
	}
}

func containsText(v any, sub string) bool {
	s, ok := v.(string)
	return ok && len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestLaunchFailuresAbortBeforeTakeoff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  func(r *rig)
		reason string
		armed  bool // the vehicle got an Arm that succeeded
	}{
		{"arms stuck", func(r *rig) { r.hw.Arms.Stuck(true) }, "release arms", false},
		{"upload refused", func(r *rig) { r.veh.Fail("UploadMission", errors.New("MISSION_ACK: denied")) }, "upload mission", false},
		{"arm refused", func(r *rig) { r.veh.Fail("Arm", errors.New("COMMAND_ACK: temporarily rejected")) }, "arm", false},
		{"take-off refused", func(r *rig) { r.veh.Fail("Takeoff", errors.New("COMMAND_ACK: failed")) }, "take-off", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			tc.fault(r)
			res, err := r.dispatch(target.Lat, target.Lon, nil)
			if err != nil {
				t.Fatalf("dispatch = %v", err)
			}
			r.until("aborted", fine, 40*time.Second, r.phaseIs(res.SortieID, dock.PhaseAborted))
			rep := r.ev.report(res.SortieID)
			if rs := rep["reasons"].([]any); !containsText(rs[0], tc.reason) {
				t.Errorf("reasons %v, want %q first", rs, tc.reason)
			}
			if v := r.veh.State(); v.Armed || v.Landed != dock.LandedOnGround {
				t.Errorf("vehicle armed=%v landed=%v after the abort", v.Armed, v.Landed)
			}
			if tc.armed && r.callCount("Disarm") != 1 {
				t.Errorf("armed vehicle not disarmed")
			}
			if r.callCount("Takeoff") > 0 && !tc.armed {
				t.Errorf("take-off sent")
			}
		})
	}
}

// TestLaunchLatencyDistribution flies 20 dispatches from idle and checks
// every command-to-take-off against the 12 s lid: 12 s + < 1 s. It logs
// the distribution (go test -v -run LaunchLatency).
func TestLaunchLatencyDistribution(t *testing.T) {
	if testing.Short() {
		t.Skip("20 flights")
	}
	r := newRig(t, nil)
	near := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 120, 300)
	var lats []time.Duration
	for i := range 20 {
		r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 100 })
		loiter := 0.0
		res, err := r.dispatch(near.Lat, near.Lon, func(a *dock.DispatchRequest) { a.LoiterS = &loiter })
		if err != nil {
			t.Fatalf("dispatch %d = %v", i, err)
		}
		r.awaitTakeoff(i+1, "Takeoff")
		r.until("complete", coarse, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
		lat := time.Duration(r.ev.report(res.SortieID)["launch_latency_s"].(float64) * float64(time.Second))
		if lat < lidTravel || lat >= lidTravel+time.Second {
			t.Errorf("dispatch %d: launch latency %v, want 12 s + < 1 s", i, lat)
		}
		lats = append(lats, lat)
	}
	slices.Sort(lats)
	t.Logf("launch latency over %d dispatches: min %v, median %v, p90 %v, max %v",
		len(lats), lats[0], lats[len(lats)/2], lats[len(lats)*9/10-1], lats[len(lats)-1])
	if est := r.sync().LaunchEstimateS; est < 12 || est >= 13 {
		t.Errorf("launch estimate %v s after 20 launches, want the measured 12.x s", est)
	}
}
