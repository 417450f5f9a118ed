package campaign

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ciPhases are the phases the CI-sized campaign covers: the drone away
// and coming home, where the lid must be open in time. The take-off and
// launch cells that fail today have tests of their own
// (TestLinkLossRightAfterTakeOff, TestLaunchAbortSecuresDock).
// `go run ./testbench/cmd/campaign` runs every phase; CAMPAIGN_PHASES=a,b
// overrides the list here.
var ciPhases = []string{"on_station", "returning"}

// TestFaultCampaign runs the CI-sized fault matrix: each CI phase x every
// fault on a fresh bench at speed 20, two cells at a time (about 4 minutes
// on 2 cores). Each cell must keep every invariant, deliver every event to
// the broker once in seq order (redeliveries of the same seq and content
// are counted, not failed: MQTT QoS 1), report the sortie with an outcome
// and end secured or in a named fault.
func TestFaultCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("fault campaign: minutes of bench runs")
	}
	phases := ciPhases
	if p := os.Getenv("CAMPAIGN_PHASES"); p != "" {
		phases = strings.Split(p, ",")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 12*time.Minute)
	defer cancel()
	start := time.Now()
	dir := t.TempDir() // the cells' worlds are kept until the test ends
	m := RunMatrix(ctx, Options{Speed: 20, Dir: dir}, phases, Faults(), 2, func(v Verdict) {
		t.Logf("%-10s %-15s %s", v.Phase, v.Fault, v.Line())
	})
	t.Logf("matrix (wall %v):\n%s", time.Since(start).Round(time.Second), m.Text())
	for _, v := range m.Cells {
		if !v.Pass {
			t.Errorf("%s x %s: %s\nagent log (tail):\n%s", v.Phase, v.Fault, v.Reason,
				logTail(filepath.Join(dir, v.Phase+"-"+v.Fault, "agent.log"), 60))
		}
	}
}

// logTail returns the last n lines of the file at path, or why not.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func TestRandomScheduleReproducible(t *testing.T) {
	a, b := RandomSchedule(42, 4, 2), RandomSchedule(42, 4, 2)
	if a.String() != b.String() {
		t.Fatalf("seed 42 gave two schedules:\n%s\n%s", a, b)
	}
	if c := RandomSchedule(43, 4, 2); c.String() == a.String() {
		t.Errorf("seeds 42 and 43 gave the same schedule %s", a)
	}
	if len(a.Faults) != 4 {
		t.Fatalf("%d faults, want 4", len(a.Faults))
	}
	for i, f := range a.Faults {
		if f.At < 10*time.Second || f.At > 10*time.Second+2*sortieSpan {
			t.Errorf("fault %d at %v: outside the series", i, f.At)
		}
		if i > 0 && f.At < a.Faults[i-1].At {
			t.Errorf("faults not in time order: %s", a)
		}
	}
}

// TestRandomSchedule flies two dispatches under a seeded random schedule
// of three faults (seed from CAMPAIGN_SEED, else 7).
func TestRandomSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("random fault schedule: a minute of bench runs")
	}
	seed := int64(7)
	if s := os.Getenv("CAMPAIGN_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("CAMPAIGN_SEED=%q: %v", s, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	res := RunSchedule(ctx, Options{Speed: 20, Log: t.Logf}, RandomSchedule(seed, 3, 2))
	t.Log(res)
	if !res.Pass {
		t.Errorf("seed %d failed (reproduce: CAMPAIGN_SEED=%d go test -run TestRandomSchedule ./testbench/campaign): %s", seed, seed, strings.Join(res.Reasons, "; "))
	}
	if len(res.Reports) != 2 {
		t.Errorf("%d sortie reports, want 2", len(res.Reports))
	}
}

func TestCheckEvents(t *testing.T) {
	ev := func(seq uint64, typ string) worldEvent { return mkEvent(seq, typ) }
	cases := []struct {
		name    string
		evs     []worldEvent
		redeliv int
		err     string
	}{
		{"in order", []worldEvent{ev(4, "a"), ev(5, "b"), ev(6, "c")}, 0, ""},
		{"redelivered", []worldEvent{ev(4, "a"), ev(5, "b"), ev(5, "b"), ev(6, "c")}, 1, ""},
		{"same seq other content", []worldEvent{ev(4, "a"), ev(5, "b"), ev(5, "x")}, 1, "different content"},
		{"gap", []worldEvent{ev(4, "a"), ev(6, "c")}, 0, "5..5 never arrived"},
		{"out of order", []worldEvent{ev(4, "a"), ev(6, "c"), ev(5, "b")}, 0, "out of order"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := checkEvents(tc.evs)
			if n != tc.redeliv {
				t.Errorf("redelivered %d, want %d", n, tc.redeliv)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("checkEvents() = %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("checkEvents() = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestLinkLossRightAfterTakeOff is the campaign's first agent bug, alone:
// the vehicle link drops (or the radio is unplugged) as the sortie turns
// airborne. The sortie engine then sees the last snapshot from before the
// take-off (disarmed, on the ground, heartbeats still fresh for the link
// timeout) and declares the sortie landed: it clamps the arms under the
// armed, climbing drone (invariant 3) and closes the lid over it.
func TestLinkLossRightAfterTakeOff(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	for _, name := range []string{"link_drop", "unplug_vehicle"} {
		t.Run(name, func(t *testing.T) {
			f, _ := FaultByName(name)
			v := RunCell(t.Context(), Options{Speed: 20}, "airborne", f)
			t.Log(v.Line())
			if !v.Pass {
				t.Errorf("airborne x %s: %s", name, v.Reason)
			}
		})
	}
}

// TestLaunchAbortSecuresDock is the campaign's second agent bug, alone: the
// vehicle's radio is unplugged while the lid opens. The launch fails (the
// stream set-up cannot be sent), the sortie goes securing -> aborted within
// milliseconds, but the lid motion goes on to fully open and nothing closes
// it or clamps the arms again: the dock is left open, arms loose, with no
// fault named.
func TestLaunchAbortSecuresDock(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	// It depends on where the lid job is when the launch fails: three
	// runs show it most of the time (3 of 5 single runs did).
	f, _ := FaultByName("unplug_vehicle")
	for i := range 3 {
		v := RunCell(t.Context(), Options{Speed: 20}, "launching", f)
		t.Log(v.Line())
		if !v.Pass {
			t.Fatalf("launching x unplug_vehicle, run %d: %s", i+1, v.Reason)
		}
	}
}

// TestMainsBackSecuresDock is the campaign's third agent bug, alone: mains
// power is lost while the drone lands. Securing is refused ("clamp arms:
// mains power lost"), the sortie fails, and when the mains come back a
// minute later nothing secures the dock: lid open, arms released, the
// drone on the pad, and no fault named.
func TestMainsBackSecuresDock(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	f, _ := FaultByName("mains_lost")
	v := RunCell(t.Context(), Options{Speed: 20}, "landing", f)
	t.Log(v.Line())
	if !v.Pass {
		t.Errorf("landing x mains_lost: %s", v.Reason)
	}
}

// TestKillAtTakeOffResumesFlight is the campaign's fourth agent bug: the
// agent is SIGKILLed right as the sortie.phase airborne event goes out.
// The sortie store still says launching; the restarted agent "resumes" a
// launch, secures and reports the sortie aborted (reason agent_restart)
// while the drone flies its mission armed, and then watches it no more
// (seen in 1 of 2 full matrix runs; three runs here).
func TestKillAtTakeOffResumesFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	f, _ := FaultByName("agent_kill")
	for i := range 3 {
		v := RunCell(t.Context(), Options{Speed: 20}, "airborne", f)
		t.Log(v.Line())
		if !v.Pass {
			t.Fatalf("airborne x agent_kill, run %d: %s", i+1, v.Reason)
		}
	}
}
