package dock_test

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
)

// faultTable is the contract: each code's severity and component, as
// docs/operations.md lists them.
var faultTable = map[dock.FaultCode]struct {
	severity  dock.FaultSeverity
	component dock.Component
}{
	"io.module_silent":           {"warning", "io"},
	"lid.timeout":                {"critical", "lid"},
	"arms.timeout":               {"critical", "arms"},
	"lid.limit_stuck":            {"critical", "lid"},
	"arms.limit_stuck":           {"critical", "arms"},
	"lid.limit_reclosed":         {"critical", "lid"},
	"arms.limit_reclosed":        {"critical", "arms"},
	"lid.limits_conflict":        {"critical", "lid"},
	"arms.limits_conflict":       {"critical", "arms"},
	"power.mains_lost_in_motion": {"warning", "power"},
	"output.write_failed":        {"critical", "io"},
	"output.interlock":           {"critical", "io"},
	"selftest.failed":            {"critical", "dock"},
	"vehicle.landed_away":        {"critical", "vehicle"},
}

// checkFaults checks that the first active fault of s has code, the
// code's severity and component, and s.Fault as its message.
func checkFaults(t *testing.T, s dock.State, code dock.FaultCode) {
	t.Helper()
	if len(s.Faults) == 0 {
		t.Fatalf("state.faults empty, want %s first", code)
	}
	f, want := s.Faults[0], faultTable[code]
	if f.Code != code || f.Severity != want.severity || f.Component != want.component ||
		f.Message != s.Fault || f.Count < 1 || f.Since.IsZero() {
		t.Errorf("state.faults[0] = %+v, want code %s severity %s component %s message %q", f, code, want.severity, want.component, s.Fault)
	}
}

// checkFaultEvent checks a fault or fault.cleared event's fields.
func checkFaultEvent(t *testing.T, ev dock.Event, code dock.FaultCode, count int) {
	t.Helper()
	want := faultTable[code]
	f := ev.Fields
	if f["code"] != string(code) || f["severity"] != string(want.severity) || f["component"] != string(want.component) ||
		f["count"] != count || f["message"] == "" || f["message"] != f["fault"] {
		t.Errorf("%s event %v, want code %s severity %s component %s count %d and the message", ev.Type, f, code, want.severity, want.component, count)
	}
}

// TestFaultCodes: every code has the severity and component of the
// contract and a row in the operator's table of docs/operations.md.
func TestFaultCodes(t *testing.T) {
	codes := dock.FaultCodes()
	if len(codes) != len(faultTable) {
		t.Errorf("FaultCodes() has %d codes, the contract %d", len(codes), len(faultTable))
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		want, ok := faultTable[c]
		if !ok || c.Severity() != want.severity || c.Component() != want.component || !c.Known() {
			t.Errorf("%s: severity %q component %q, want %q %q", c, c.Severity(), c.Component(), want.severity, want.component)
		}
		if row := "| `" + string(c) + "` | " + string(want.severity) + " |"; !strings.Contains(string(doc), row) {
			t.Errorf("docs/operations.md has no row starting %q", row)
		}
	}
	if dock.FaultCode("lid.on_fire").Known() {
		t.Error("an unknown code is Known")
	}
}

// TestFlappingFaultIsOneFault: inputs that go unreadable again within the
// damping window after they recovered are the same fault, its count
// incremented and its since kept; after the window it is a new fault.
func TestFlappingFaultIsOneFault(t *testing.T) {
	tests := []struct {
		name      string
		damping   time.Duration
		gap       time.Duration
		wantCount int
	}{
		{"returns within the default 10s", 0, 3 * time.Second, 2},
		{"returns after the default 10s", 0, 11 * time.Second, 1},
		{"returns after a 2s window", 2 * time.Second, 3 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var health error
			set := func(err error) {
				mu.Lock()
				health = err
				mu.Unlock()
			}
			opts := dock.ControllerOptions{FaultDamping: tt.damping, InputsHealthy: func() error {
				mu.Lock()
				defer mu.Unlock()
				return health
			}}
			r := newRig(t, opts, docktest.HardwareOptions{}, nil)
			set(errors.New("io module io unit 1 not answering"))
			r.step(poll)
			first := r.refresh().Faults
			r.step(time.Second) // a lasting cause is one fault
			set(nil)
			r.step(poll)
			if s := r.refresh(); len(s.Faults) != 0 {
				t.Fatalf("faults %v after the inputs recovered, want none", s.Faults)
			}
			r.step(tt.gap)
			set(errors.New("io module io unit 1 not answering"))
			r.step(poll)
			s := r.refresh()
			checkFaults(t, s, dock.FaultIOModuleSilent)
			if len(first) != 1 || len(s.Faults) != 1 || s.Faults[0].Count != tt.wantCount ||
				s.Faults[0].Since.Equal(first[0].Since) != (tt.wantCount > 1) {
				t.Errorf("faults %v after the return (first %v), want count %d, the first since kept %v", s.Faults, first, tt.wantCount, tt.wantCount > 1)
			}
			ev := r.ev.of(dock.EventFault)
			if len(ev) != 2 {
				t.Fatalf("fault events %v, want one per onset", ev)
			}
			checkFaultEvent(t, ev[0], dock.FaultIOModuleSilent, 1)
			checkFaultEvent(t, ev[1], dock.FaultIOModuleSilent, tt.wantCount)
			set(nil)
			r.step(poll)
		})
	}
}

// TestResetWhileCauseLasts: limit switches that stay in conflict fault
// once, not once a poll; a reset clears the fault, which comes back at
// once with count 2.
func TestResetWhileCauseLasts(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, func(r *rig) {
		r.hw.Lid.SetPosition(0.5)
		r.hw.Lid.StickLimit(docktest.EndLow, true)
		r.hw.Lid.StickLimit(docktest.EndHigh, true)
	})
	r.step(time.Second)
	if ev := r.ev.of(dock.EventFault); len(ev) != 1 {
		t.Fatalf("fault events %v in 1s of conflicting switches, want 1", ev)
	}
	if err := r.c.Reset(t.Context()); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	r.step(poll)
	s := r.refresh()
	checkFaults(t, s, dock.FaultLidLimitsConflict)
	ev := r.ev.of(dock.EventFault)
	if len(ev) != 2 || len(s.Faults) != 1 || s.Faults[0].Count != 2 {
		t.Fatalf("fault events %v, faults %v after a reset with the switches still stuck, want the fault back with count 2", ev, s.Faults)
	}
	checkFaultEvent(t, ev[1], dock.FaultLidLimitsConflict, 2)
	cl := r.ev.of(dock.EventFaultCleared)
	if len(cl) != 1 || cl[0].Fields["cause"] != "reset" {
		t.Fatalf("fault.cleared events %v, want one for the reset", cl)
	}
	checkFaultEvent(t, cl[0], dock.FaultLidLimitsConflict, 1)
	r.hw.Lid.UnstickLimit(docktest.EndLow)
	r.hw.Lid.UnstickLimit(docktest.EndHigh)
}

// TestRaiseFault: a fault raised again while active counts without a new
// event and keeps its first message; a reset reports it with its count;
// an unknown code is refused.
func TestRaiseFault(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	for _, msg := range []string{"vehicle.landed_away: 1204 m out", "vehicle.landed_away: 1210 m out"} {
		if err := r.c.RaiseFault(t.Context(), dock.FaultVehicleLandedAway, msg); err != nil {
			t.Fatalf("RaiseFault() = %v", err)
		}
	}
	s := r.refresh()
	checkFaults(t, s, dock.FaultVehicleLandedAway)
	if len(s.Faults) != 1 || s.Faults[0].Count != 2 || s.Fault != "vehicle.landed_away: 1204 m out" {
		t.Errorf("faults %v fault %q, want one with count 2 and the first message", s.Faults, s.Fault)
	}
	if ev := r.ev.of(dock.EventFault); len(ev) != 1 {
		t.Errorf("fault events %v, want 1", ev)
	}
	if _, err := r.c.StartMotion(t.Context(), dock.MotionOpenLid, ""); !errors.Is(err, dock.ErrFault) {
		t.Errorf("StartMotion() with the vehicle away = %v, want ErrFault", err)
	}
	if err := r.c.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if cl := r.ev.of(dock.EventFaultCleared); len(cl) != 1 {
		t.Errorf("fault.cleared events %v, want 1", cl)
	} else {
		checkFaultEvent(t, cl[0], dock.FaultVehicleLandedAway, 2)
	}
	if err := r.c.RaiseFault(t.Context(), "lid.on_fire", "smoke"); !errors.Is(err, dock.ErrInvalidArgument) {
		t.Errorf("RaiseFault(unknown code) = %v, want invalid_argument", err)
	}
	if s := r.refresh(); len(s.Faults) != 0 || s.Fault != "" || s.Faults == nil {
		t.Errorf("faults %#v fault %q after the refused code, want an empty list", s.Faults, s.Fault)
	}
}

// TestOutputFaults: a relay that cannot be written faults once (not on
// every retry), and a motor direction held off because the other one
// could not be cut raises output.interlock; both relays never on.
func TestOutputFaults(t *testing.T) {
	r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{}, nil)
	if err := r.c.SetMode(t.Context(), dock.ModeMaintenance); err != nil {
		t.Fatal(err)
	}
	r.start(dock.MotionOpenLid)
	r.step(time.Second)
	r.hw.Lid.Up.Fail(errors.New("modbus: no reply from unit 1"))
	if _, err := r.c.StartMotion(t.Context(), dock.MotionCloseLid, "job-2"); err != nil {
		t.Fatalf("reverse to close = %v", err)
	}
	r.step(time.Second)
	r.checkBothOff()
	s := r.refresh()
	checkFaults(t, s, dock.FaultOutputWriteFailed)
	ev := r.ev.of(dock.EventFault)
	if len(ev) != 2 || len(s.Faults) != 2 || s.Faults[1].Code != dock.FaultOutputInterlock ||
		!strings.HasPrefix(s.Fault, "lid_open_motor: cannot switch off") {
		t.Fatalf("fault events %v, faults %v, want output.write_failed then output.interlock, once each", ev, s.Faults)
	}
	checkFaultEvent(t, ev[0], dock.FaultOutputWriteFailed, 1)
	checkFaultEvent(t, ev[1], dock.FaultOutputInterlock, 1)
	r.hw.Lid.Up.Fail(nil)
	r.step(poll)
	r.checkBothOff()
	if err := r.c.StopLid(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestFaultDampingOption: a negative damping window is refused.
func TestFaultDampingOption(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	hw := docktest.NewHardware(clock, docktest.HardwareOptions{}).Dock()
	_, err := dock.NewController(dock.ControllerOptions{Clock: clock, FaultDamping: -time.Second}, hw, docktest.NewVehicle().State, &events{})
	if err == nil || !strings.Contains(err.Error(), "fault damping -1s is negative") {
		t.Errorf("NewController(FaultDamping -1s) = %v, want the negative damping refused", err)
	}
}
