package dock_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
)

// TestInvariantsHoldUnderRandomSequences drives seeded random commands,
// vehicle changes and hardware faults and checks the hardware invariants
// of DESIGN.md §4 after every step. A failure names the seed and step.
func TestInvariantsHoldUnderRandomSequences(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			r := newRig(t, dock.ControllerOptions{}, docktest.HardwareOptions{LidTravel: 6 * time.Second, ArmsTravel: 2 * time.Second}, nil)
			ctx := t.Context()
			onSince := map[*docktest.OutPin]time.Time{}
			// Repairs and commands are weighted up so the dock spends most of
			// the run able to move: a latched dock tests little.
			actions := []struct {
				name string
				do   func()
				w    int
			}{
				{"open lid", func() { _, _ = r.c.StartMotion(ctx, dock.MotionOpenLid, "") }, 6},
				{"close lid", func() { _, _ = r.c.StartMotion(ctx, dock.MotionCloseLid, "") }, 6},
				{"release arms", func() { _, _ = r.c.StartMotion(ctx, dock.MotionReleaseArms, "") }, 6},
				{"clamp arms", func() { _, _ = r.c.StartMotion(ctx, dock.MotionClampArms, "") }, 6},
				{"charger on", func() { _ = r.c.SetCharger(ctx, true) }, 3},
				{"charger off", func() { _ = r.c.SetCharger(ctx, false) }, 1},
				{"stop all", func() { _ = r.c.StopAll(ctx) }, 1},
				{"reset", func() { _ = r.c.Reset(ctx) }, 6},
				{"press e-stop", func() { r.hw.Set(r.hw.EStop, true) }, 1},
				{"release e-stop", func() { r.hw.Set(r.hw.EStop, false) }, 4},
				{"mains lost", func() { r.hw.Set(r.hw.Mains, false) }, 1},
				{"mains back", func() { r.hw.Set(r.hw.Mains, true) }, 4},
				{"vehicle arms", func() { r.veh.SetArmed(true) }, 1},
				{"vehicle disarms", func() { r.veh.SetArmed(false) }, 3},
				{"vehicle climbs", func() { r.veh.SetAirborne(float64(rng.IntN(40))) }, 1},
				{"vehicle lands", func() { r.veh.SetAirborne(-1) }, 4},
				{"link lost", func() { r.veh.SetLink(false) }, 1},
				{"link back", func() { r.veh.SetLink(true) }, 4},
				{"lid stuck", func() { r.hw.Lid.Stuck(true) }, 1},
				{"lid free", func() { r.hw.Lid.Stuck(false) }, 4},
				{"arms slow", func() { r.hw.Arms.Speed(0.2) }, 1},
				{"arms normal", func() { r.hw.Arms.Speed(1) }, 3},
				{"maintenance", func() { _ = r.c.SetMode(ctx, dock.ModeMaintenance) }, 1},
				{"auto", func() { _ = r.c.SetMode(ctx, dock.ModeAuto) }, 1},
			}
			var pool []int
			for i, a := range actions {
				for range a.w {
					pool = append(pool, i)
				}
			}
			for i := range 150 {
				a := actions[pool[rng.IntN(len(pool))]]
				a.do()
				steps := rng.IntN(200) + 1
				for range steps {
					r.clock.Advance(poll)
					s := r.refresh()
					if err := checkInvariants(r, s, onSince); err != nil {
						t.Fatalf("step %d (%s, then %v): %v", i, a.name, time.Duration(steps)*poll, err)
					}
				}
			}
			moved := 0
			for _, o := range r.hw.Outputs()[:4] {
				moved += len(o.Changes()) / 2
			}
			t.Logf("motor relay activations: %d, events: %d", moved, len(r.ev.ev))
			if moved == 0 {
				t.Errorf("no motor moved in 150 steps: the sequence tests nothing")
			}
		})
	}
}

func checkInvariants(r *rig, s dock.State, onSince map[*docktest.OutPin]time.Time) error {
	v := r.veh.State()
	hw := r.hw
	now := r.clock.Now()
	docked := v.Link && !v.Armed && v.Landed == dock.LandedOnGround && hw.Arms.LowLimit.Read() == true
	clear := v.Link && v.Armed && v.Landed == dock.LandedInAir && v.RelAltM >= 15
	for _, a := range []*docktest.Actuator{hw.Lid, hw.Arms} {
		if a.BothOn() > 0 || (a.Up.On() && a.Down.On()) {
			return fmt.Errorf("both relays of %s on together", a.Up.Name())
		}
	}
	if hw.Lid.Down.On() && !docked && !clear {
		return fmt.Errorf("invariant 1: lid closing with vehicle %+v", v)
	}
	if err := r.c.ArmPermitted(); err == nil && (hw.Lid.HighLimit.Read() != true || hw.Arms.HighLimit.Read() != true) {
		return fmt.Errorf("invariant 2: arming permitted with lid open limit %v arms released limit %v", hw.Lid.HighLimit.Read(), hw.Arms.HighLimit.Read())
	}
	if (hw.Arms.Up.On() || hw.Arms.Down.On()) && (v.Armed || !v.Link) {
		return fmt.Errorf("invariant 3: arms moving under vehicle armed %v link %v", v.Armed, v.Link)
	}
	if (hw.EStop.Read() == true || s.EStopLatched) && hw.AnyOn() {
		return fmt.Errorf("invariant 4: output on with e-stop pressed %v latched %v", hw.EStop.Read(), s.EStopLatched)
	}
	if hw.Charger.On() && !docked {
		return fmt.Errorf("invariant 5: charger on with vehicle %+v", v)
	}
	for _, o := range []*docktest.OutPin{hw.Lid.Up, hw.Lid.Down, hw.Arms.Up, hw.Arms.Down} {
		if !o.On() {
			delete(onSince, o)
			continue
		}
		if _, ok := onSince[o]; !ok {
			onSince[o] = now
		}
		limit := 25*time.Second + 2*poll
		if o == hw.Arms.Up || o == hw.Arms.Down {
			limit = 8*time.Second + 2*poll
		}
		if on := now.Sub(onSince[o]); on > limit {
			return fmt.Errorf("invariant 6: %s on for %v", o.Name(), on)
		}
	}
	return nil
}
