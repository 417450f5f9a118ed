package sortie_test

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/route"
)

// kindOf is the kind of a typed dock error (dock.ErrOutOfRange ...), with
// gate errors as preconditions.
func kindOf(err error) error {
	for _, k := range []error{dock.ErrInvalidArgument, dock.ErrOutOfRange, dock.ErrPrecondition, dock.ErrBusy} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

func hasGateNamed(g []dock.Gate, name string) bool {
	for _, x := range g {
		if x.Name == name {
			return true
		}
	}
	return false
}

// TestQuote: a quote gives the dispatch's ETA, circle and energy margin
// and the gates, and changes nothing: no event, no vehicle command.
func TestQuote(t *testing.T) {
	r := newRig(t, nil)
	r.step(time.Second)
	evs, calls := len(r.ev.of(dock.EventPreflightBlocked)), len(r.veh.Calls())

	q, err := r.eng.Quote(t.Context(), target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("quote = %v", err)
	}
	if !q.Ready || len(q.Gates) != 0 || q.CircleMin == nil || *q.CircleMin != 3 {
		t.Errorf("quote = %+v, want ready in the 3-minute circle", q)
	}
	if q.DistanceM < 1090 || q.DistanceM > 1110 || q.ETAS < 60 || q.ETAS > 120 {
		t.Errorf("quote distance %v eta %v, want 1100 m and what a dispatch promises", q.DistanceM, q.ETAS)
	}
	d, err := r.dispatch(target.Lat, target.Lon, func(a *dock.DispatchRequest) { a.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if d.ETAS != q.ETAS {
		t.Errorf("quote eta %v, the dispatch then promised %v: a quote is what a dispatch would promise", q.ETAS, d.ETAS)
	}
	if q.Energy == nil || q.Energy.BatteryPct != 100 || q.Energy.NeededPct <= 0 ||
		math.Abs(q.Energy.MarginPct-(100-q.Energy.NeededPct-25)) > 0.11 {
		t.Errorf("quote energy = %+v, want needed > 0 and margin = battery - needed - reserve 25", q.Energy)
	}
	r.until("dry run done", time.Second, 2*time.Minute, func() bool { return r.sync().Sortie == nil })
	evs, calls = len(r.ev.of(dock.EventPreflightBlocked)), len(r.veh.Calls())
	events := len(r.ev.all())

	// Gates: the battery, then an e-stop. Still answered, still nothing moved.
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 20 })
	r.hw.Set(r.hw.EStop, true)
	r.step(time.Second)
	q, err = r.eng.Quote(t.Context(), target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatalf("quote with gates = %v", err)
	}
	if q.Ready || !hasGateNamed(q.Gates, "battery") || !hasGateNamed(q.Gates, "estop") || q.Energy.MarginPct >= 0 {
		t.Errorf("quote = %+v, want not ready, battery and estop gates, negative margin", q)
	}
	if n := len(r.ev.of(dock.EventPreflightBlocked)); n != evs {
		t.Errorf("quote emitted preflight.blocked")
	}
	if n := len(r.veh.Calls()); n != calls {
		t.Errorf("quote sent the vehicle %d commands", n-calls)
	}
	if n := len(r.ev.all()); n != events+1 { // the e-stop's own event
		t.Errorf("%d events during the quotes, want only the e-stop's", n-events)
	}

	// Bad input: a typed error.
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 90, 20000)
	for _, c := range []struct {
		lat, lon float64
		alt      *float64
		code     error
	}{
		{far.Lat, far.Lon, nil, dock.ErrOutOfRange},
		{91, 0, nil, dock.ErrInvalidArgument},
		{target.Lat, target.Lon, ptr(900.0), dock.ErrOutOfRange},
	} {
		if _, err := r.eng.Quote(t.Context(), c.lat, c.lon, c.alt); kindOf(err) != c.code {
			t.Errorf("quote %v,%v = %v, want %s", c.lat, c.lon, err, c.code)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestRetargetInFlight: a dispatch in the air is moved to a new point,
// flies there, holds there and ends complete against its new promise.
func TestRetargetInFlight(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.until("en route", 200*time.Millisecond, time.Minute, func() bool { return r.callCount("GoTo") > 0 })
	r.step(10 * time.Second)

	moved := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 0, 1500)
	rt, err := r.eng.Retarget(t.Context(), "", moved.Lat, moved.Lon, nil)
	if err != nil {
		t.Fatalf("retarget = %v", err)
	}
	if rt.SortieID != res.SortieID || rt.Phase != dock.PhaseAirborne || rt.ETAS <= 0 {
		t.Fatalf("retarget = %+v, want %s airborne with an ETA", rt, res.SortieID)
	}
	at := r.clock.Now()
	lastGoTo := func() []any {
		var last []any
		for _, c := range r.veh.Calls() {
			if c.Name == "GoTo" {
				last = c.Args
			}
		}
		return last
	}
	// The go-to is a vehicle command job: wait for it in real time.
	deadline := time.Now().Add(10 * time.Second)
	for last := lastGoTo(); last == nil || last[0].(float64) != moved.Lat || last[1].(float64) != moved.Lon; last = lastGoTo() {
		if time.Now().After(deadline) {
			t.Fatalf("last GoTo %v 10 s (real time) after the retarget, want the new point %v", last, moved)
		}
		runtime.Gosched()
	}
	if n := len(r.ev.of(dock.EventRetargeted)); n != 1 {
		t.Errorf("%d dispatch.retargeted events, want 1", n)
	}
	r.until("on station at the new point", 200*time.Millisecond, 5*time.Minute, r.phaseIs(res.SortieID, dock.PhaseOnStation))
	took := r.clock.Since(at).Seconds()
	if e := math.Abs(took-rt.ETAS) / rt.ETAS; e > 0.15 {
		t.Errorf("on station %.0f s after the retarget, ETA said %.0f s (%.0f %% off, want within 15 %%)", took, rt.ETAS, e*100)
	}
	v := r.veh.State()
	if d := route.Distance(route.Point{Lat: v.Lat, Lon: v.Lon}, moved); d > 20 {
		t.Errorf("on station %.0f m from the new point", d)
	}
	r.until("complete", time.Second, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
	rep := r.ev.report(res.SortieID)
	if rep["outcome"] != "complete" || rep["retargeted"] != 1.0 || len(r.ev.of(dock.EventPromiseBroken)) != 0 {
		t.Errorf("report outcome %v retargeted %v, %d broken promises; want complete, 1, none",
			rep["outcome"], rep["retargeted"], len(r.ev.of(dock.EventPromiseBroken)))
	}
}

// TestRetargetRefused: no active sortie, a patrol, a point outside the
// geofence, a battery that cannot cover it: typed errors, nothing moves.
func TestRetargetRefused(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.eng.Retarget(t.Context(), "", target.Lat, target.Lon, nil); kindOf(err) != dock.ErrPrecondition ||
		!strings.Contains(err.Error(), "no active sortie") {
		t.Errorf("retarget with no sortie = %v, want precondition_failed naming it", err)
	}
	if _, err := r.eng.Patrol(t.Context(), "req-patrol", "square", false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Retarget(t.Context(), "", target.Lat, target.Lon, nil); kindOf(err) != dock.ErrPrecondition ||
		!strings.Contains(err.Error(), "patrol") {
		t.Errorf("retarget of a patrol = %v, want precondition_failed naming it", err)
	}
	if err := r.eng.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.until("idle", time.Second, 2*time.Minute, func() bool { return r.sync().Sortie == nil })

	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.awaitTakeoff(1, "Takeoff")
	r.until("en route", 200*time.Millisecond, time.Minute, func() bool { return r.callCount("GoTo") > 0 })
	gotos := r.callCount("GoTo")
	outside := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 90, 5200)
	var ge *dock.GateError
	if _, err := r.eng.Retarget(t.Context(), res.SortieID, outside.Lat, outside.Lon, nil); !errors.As(err, &ge) || !hasGateNamed(ge.Gates, "geofence") {
		t.Errorf("retarget outside the geofence = %v, want the geofence gate", err)
	}
	r.veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 30 })
	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 180, 3000)
	if _, err := r.eng.Retarget(t.Context(), res.SortieID, far.Lat, far.Lon, nil); !errors.As(err, &ge) || !hasGateNamed(ge.Gates, "battery") {
		t.Errorf("retarget beyond the battery = %v, want the battery gate", err)
	}
	if _, err := r.eng.Retarget(t.Context(), "d-nope", far.Lat, far.Lon, nil); kindOf(err) != dock.ErrInvalidArgument {
		t.Errorf("retarget of an unknown sortie = %v, want invalid_argument", err)
	}
	if n := r.callCount("GoTo"); n != gotos {
		t.Errorf("refused retargets sent %d GoTo", n-gotos)
	}
	if st := r.sync(); st.Sortie == nil || st.Sortie.Target.Lat != target.Lat {
		t.Errorf("the sortie's target changed after refused retargets: %+v", st.Sortie)
	}
}

// TestAlertThenDispatch: an alert opens the dock and prepares the vehicle
// without arming it; the dispatch that follows takes off at once.
func TestAlertThenDispatch(t *testing.T) {
	r := newRig(t, nil)
	cold, err := r.eng.Quote(t.Context(), target.Lat, target.Lon, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.eng.Alert(t.Context(), "CALL-7", &target.Lat, &target.Lon, 0)
	if err != nil {
		t.Fatalf("alert = %v", err)
	}
	if a.Window != 90*time.Second || !a.Until.Equal(r.clock.Now().Add(90*time.Second)) {
		t.Errorf("alert = %+v, want the default 90 s window", a)
	}
	r.awaitStaged()
	if r.veh.State().Armed || r.callCount("Arm") != 0 || r.callCount("UploadMission") != 1 {
		t.Errorf("staged: armed %v, %d Arm, %d UploadMission; want disarmed, none, one", r.veh.State().Armed, r.callCount("Arm"), r.callCount("UploadMission"))
	}
	if st := r.refresh(); !st.Readiness.Ready {
		t.Errorf("readiness while staged = %+v, want ready: the dock waits for its dispatch", st.Readiness)
	}
	res, err := r.dispatch(target.Lat, target.Lon, nil)
	if err != nil || res.Queued {
		t.Fatalf("dispatch after alert = %+v, %v", res, err)
	}
	start := r.clock.Now()
	deadline := time.Now().Add(10 * time.Second)
	for r.callCount("Takeoff") == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if r.callCount("Takeoff") == 0 {
		t.Fatalf("no take-off after the dispatch on a staged dock")
	}
	if d := r.clock.Since(start); d > 3*time.Second {
		t.Errorf("dispatch to take-off %v on a staged dock, want <= 3 s", d)
	}
	if r.alertState() != "used" {
		t.Errorf("alert state %q, want used", r.alertState())
	}
	// The staging prepared the vehicle: the launch only sent the mission
	// again, and promised no lid time.
	if n, h := r.callCount("Streams"), r.callCount("SetHomeHere"); n != 1 || h != 1 {
		t.Errorf("Streams %d, SetHomeHere %d times; want once each, at the staging", n, h)
	}
	if res.ETAS > cold.ETAS-10 {
		t.Errorf("eta_s %v on a staged dock, %v from a closed one: want the 15 s launch replaced by about 2 s", res.ETAS, cold.ETAS)
	}
	r.until("complete", time.Second, 10*time.Minute, r.phaseIs(res.SortieID, dock.PhaseComplete))
}

// TestAlertExpires: no dispatch within the window: the dock secures itself.
func TestAlertExpires(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.eng.Alert(t.Context(), "", nil, nil, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	r.awaitStaged()
	r.until("expired and secured", time.Second, 2*time.Minute, func() bool {
		st := r.refresh()
		return r.alertState() == "expired" && st.Lid == dock.LidClosed && st.Arms == dock.ArmsClamped
	})
	if r.callCount("Arm") != 0 {
		t.Errorf("an alert without dispatch armed the vehicle")
	}
}

// TestAlertRefused: during an e-stop, in maintenance or with a bad window
// an alert is refused and nothing moves.
func TestAlertRefused(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.eng.Alert(t.Context(), "", nil, nil, time.Hour); kindOf(err) != dock.ErrOutOfRange {
		t.Errorf("alert for an hour = %v, want out_of_range", err)
	}
	if _, err := r.eng.Alert(t.Context(), "", &target.Lat, nil, 0); kindOf(err) != dock.ErrInvalidArgument {
		t.Errorf("alert with lat and no lon = %v, want invalid_argument", err)
	}
	r.hw.Set(r.hw.EStop, true)
	r.step(time.Second)
	var ge *dock.GateError
	if _, err := r.eng.Alert(t.Context(), "", nil, nil, 0); !errors.As(err, &ge) || !hasGateNamed(ge.Gates, "estop") {
		t.Errorf("alert during e-stop = %v, want the estop gate", err)
	}
	r.hw.Set(r.hw.EStop, false)
	if err := r.ctrl.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.ctrl.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Alert(t.Context(), "", nil, nil, 0); !errors.As(err, &ge) || !hasGateNamed(ge.Gates, "maintenance") {
		t.Errorf("alert in maintenance = %v, want the maintenance gate", err)
	}
	r.step(5 * time.Second)
	if st := r.refresh(); st.Lid != dock.LidClosed || len(r.ev.of(dock.EventAlert)) != 0 {
		t.Errorf("refused alerts: lid %s, %d alert events; want closed, none", st.Lid, len(r.ev.of(dock.EventAlert)))
	}
}

// alertState is the state of the last alert event, or "".
func (r *rig) alertState() string {
	evs := r.ev.of(dock.EventAlert)
	if len(evs) == 0 {
		return ""
	}
	s, _ := evs[len(evs)-1].Fields["state"].(string)
	return s
}

// all returns every event so far.
func (e *events) all() []dock.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dock.Event(nil), e.ev...)
}

// awaitStaged steps until the lid is open and the arms released, then
// waits in real time (the clock standing still) for the staging job's
// result to reach the engine's loop: a job left in the run queue must not
// let the alert's window run out in simulated time.
func (r *rig) awaitStaged() {
	r.t.Helper()
	r.until("dock open", 200*time.Millisecond, time.Minute, func() bool {
		st := r.refresh()
		return st.Lid == dock.LidOpen && st.Arms == dock.ArmsReleased
	})
	deadline := time.Now().Add(10 * time.Second)
	for r.sync(); r.alertState() != "staged"; r.sync() {
		if time.Now().After(deadline) {
			r.t.Fatalf("alert state %q 10 s (real time) after the dock opened, want staged", r.alertState())
		}
		runtime.Gosched()
	}
}
