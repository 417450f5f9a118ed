package campaign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/testbench/physics"
)

// AbortTry is one abort of an abort sweep: when it was sent and landed
// relative to the arms reaching their released switch (simulated time), and
// how the dock ended.
type AbortTry struct {
	Target time.Duration // when the abort was meant to land, from the released switch closing
	Offset time.Duration // when it was sent (Target less the lag measured so far)
	// Landed is when the agent acted on it: its sortie.phase securing
	// event, stamped by the agent.
	Landed time.Duration
	// ReleaseCut and ClampOn are when the physics saw the release motor
	// cut and the clamp motor energised, from the released switch closing
	// (ReleaseCut negative: the abort stopped the arms short of their end).
	ReleaseCut, ClampOn time.Duration
	Pass                bool
	Reason              string // why it failed, or how it ended
	// Which of Landed, ReleaseCut and ClampOn were seen: a clamp refused
	// by a fault never energises its motor.
	landed, cut, clampOn bool
}

// AbortSweepTargets are the landing times of an abort sweep: from span
// before to span after the arms' released switch closes, every step.
func AbortSweepTargets(span, step time.Duration) []time.Duration {
	var out []time.Duration
	for t := -span; t <= span; t += step {
		out = append(out, t)
	}
	return out
}

func (a AbortTry) String() string {
	verdict := "pass"
	if !a.Pass {
		verdict = "FAIL"
	}
	ms := func(d time.Duration, known bool) string {
		if !known {
			return "never"
		}
		return fmt.Sprintf("%+dms", d.Milliseconds())
	}
	return fmt.Sprintf("abort for %+4dms sent %+4dms landed %s: release cut %s, clamp on %s: %s %s",
		a.Target.Milliseconds(), a.Offset.Milliseconds(), ms(a.Landed, a.landed),
		ms(a.ReleaseCut, a.cut), ms(a.ClampOn, a.clampOn), verdict, a.Reason)
}

// RunAbortSweep dispatches one sortie per target on one bench world and
// sends `abort` so that the agent acts on it target (simulated time) after
// the arms' released limit switch closes. An abort takes a few ms of wall
// time to reach the agent's engine (MQTT, the command queue), tens of ms of
// simulated time at speed 4: each abort is sent early by the mean lag of
// the aborts before it. Each try must end with the sortie reported, the
// dock secured (lid closed, arms clamped) and no `fault` event; a faulted
// dock is reset before the next try. The error is the whole-sweep failure
// (the world's witness or the physics saw an invariant broken), if any.
func RunAbortSweep(ctx context.Context, o Options, targets []time.Duration) ([]AbortTry, error) {
	c, closeFn, err := start(ctx, o, "abort-sweep")
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var tries []AbortTry
	var lagSum time.Duration
	lags := 0
	for _, target := range targets {
		lag := time.Duration(0)
		if lags > 0 {
			lag = lagSum / time.Duration(lags)
		}
		tr := c.abortAt(ctx, target, target-lag)
		if o.Log != nil {
			o.Log("%s", tr)
		}
		tries = append(tries, tr)
		if ctx.Err() != nil {
			break
		}
		if tr.landed {
			lagSum += tr.Landed - tr.Offset
			lags++
		}
		if !tr.Pass {
			if err := c.reset(ctx); err != nil {
				return tries, err
			}
		}
	}
	c.W.Witness().Check()
	if v := c.W.Witness().Violations(); len(v) > 0 {
		return tries, fmt.Errorf("abort sweep: %d invariant violations, first: %s", len(v), v[0])
	}
	if v := c.W.Physics.Violations(); len(v) > 0 {
		return tries, fmt.Errorf("abort sweep: both directions of a motor on together at %s: %s", v[0].At, v[0].What)
	}
	return tries, nil
}

// abortAt runs one try of the sweep.
func (c *Cell) abortAt(ctx context.Context, target, off time.Duration) AbortTry {
	tr := AbortTry{Target: target, Offset: off}
	fail := func(format string, args ...any) AbortTry {
		tr.Reason = fmt.Sprintf(format, args...)
		return tr
	}
	rctx, cancel := c.within(ctx, 3*time.Minute)
	defer cancel()
	if err := c.Obs.Wait(rctx, func() bool { return c.Obs.ReadyToFly() && endState(c.Obs.State()) == "secured" }); err != nil {
		return fail("dock not ready for the next dispatch: %s", brief(c.Obs.State()))
	}
	from := len(c.brokerEvents())
	sent := c.W.Clock().Now()
	id, err := c.dispatch(ctx)
	if err != nil {
		return fail("%v", err)
	}
	c.Sortie = id
	// The arms reach their switch one full travel after their motor is
	// energised: wait for that edge, then for the offset.
	var on time.Time
	wctx, wcancel := c.within(ctx, time.Minute)
	err = c.Obs.Wait(wctx, func() bool {
		on = edgeAfter(c.W.Physics.History(), physics.ArmsReleaseMotor, gpio.High, sent)
		return !on.IsZero()
	})
	wcancel()
	if err != nil {
		return fail("arms release motor never energised after the dispatch")
	}
	end := on.Add(physics.DefaultArmsTravel)
	if err := c.sleepSim(ctx, end.Add(off).Sub(c.W.Clock().Now())); err != nil {
		return fail("%v", err)
	}
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	rep, err := c.Obs.Send(sctx, "abort", nil)
	scancel()
	switch {
	case err != nil:
		return fail("send abort: %v", err)
	case !rep.OK:
		return fail("abort refused: %+v", rep.Error)
	}
	if _, err := c.waitEvent(ctx, 3*time.Minute, "sortie.report", nil); err != nil {
		return fail("%v (%s)", err, brief(c.Obs.State()))
	}
	wctx, wcancel = c.within(ctx, 3*time.Minute)
	_ = c.Obs.Wait(wctx, func() bool { return endState(c.Obs.State()) != "" })
	wcancel()
	evs := c.brokerEvents()[from:]
	for _, ev := range evs {
		if ev.Type == "sortie.phase" && ev.Fields["sortie_id"] == id && ev.Fields["phase"] == "securing" {
			if at, err := time.Parse(time.RFC3339Nano, ev.TS); err == nil {
				tr.Landed, tr.landed = at.Sub(end), true
			}
			break
		}
	}
	h := c.W.Physics.History()
	if t := edgeAfter(h, physics.ArmsReleaseMotor, gpio.Low, on); !t.IsZero() {
		tr.ReleaseCut, tr.cut = t.Sub(end), true
	}
	if t := edgeAfter(h, physics.ArmsClampMotor, gpio.High, on); !t.IsZero() {
		tr.ClampOn, tr.clampOn = t.Sub(end), true
	}
	var faults []string
	for _, ev := range evs {
		if ev.Type == "fault" {
			faults = append(faults, fmt.Sprint(ev.Fields["fault"]))
		}
	}
	if len(faults) > 0 {
		return fail("fault %s (%s)", strings.Join(faults, "; "), brief(c.Obs.State()))
	}
	if end := endState(c.Obs.State()); end != "secured" {
		return fail("dock not secured: %s", brief(c.Obs.State()))
	}
	tr.Pass, tr.Reason = true, "secured"
	return tr
}

// edgeAfter returns when signal s first changed to l after from, or zero.
func edgeAfter(h []physics.Change, s physics.Signal, l gpio.Level, from time.Time) time.Time {
	for _, ch := range h {
		if ch.Signal == s && ch.Level == l && !ch.At.Before(from) {
			return ch.At
		}
	}
	return time.Time{}
}
