package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockagent/dock-agent/testbench/world"
)

// alertTarget is the incident every measured alert and dispatch is for:
// about 150 m from the bench dock, so that each sortie is short.
var alertTarget = map[string]any{"lat": 24.3515, "lon": 102.5430}

// alertResult is one alert -> staged -> dispatch -> airborne.
type alertResult struct {
	staged      time.Duration // alert sent to the `alert` event "staged" (simulated)
	airborneSim time.Duration // dispatch sent to sortie.phase airborne, by the agent's clock (simulated)
	airborneWal time.Duration // the same in wall time, as the observer saw it
}

// runAlerts measures what issue 17 promises a command centre: quotes
// answered over MQTT (round trip, wall time) on an idle dock, then n
// alerts each followed, once the dock is staged, by a dispatch: the time
// from the dispatch to the airborne event.
func runAlerts(ctx context.Context, n, quotes int, speed float64, out, errOut io.Writer) int {
	dir, err := os.MkdirTemp("", "dock-alerts-")
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	defer os.RemoveAll(dir)
	w, obs, err := startObserved(ctx, dir, speed)
	if err != nil {
		fmt.Fprintf(errOut, "alerts: %v\n", err)
		return 1
	}
	defer w.Close()
	defer obs.Close()
	if err := waitIdle(ctx, obs); err != nil {
		fmt.Fprintf(errOut, "alerts: %v\n", err)
		return 1
	}

	if quotes > 0 {
		rtt, err := measureQuotes(ctx, w, quotes)
		if err != nil {
			fmt.Fprintf(errOut, "alerts: quotes: %v\n", err)
			return 1
		}
		slices.Sort(rtt)
		fmt.Fprintf(out, "%d quotes over MQTT (idle dock, one at a time), round trip: min %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n\n",
			len(rtt), ms64(rtt[0]), ms64(quantile(rtt, .5)), ms64(quantile(rtt, .99)), ms64(rtt[len(rtt)-1]))
	}

	var res []alertResult
	var failed []string
	for i := range n {
		r, err := oneAlert(ctx, w, obs, i)
		if err != nil {
			// Counted and shown, not hidden: the figures are over the
			// alerts that flew, and the run exits 1. A latched fault (a
			// loaded machine missing Modbus polls) is reset so that the
			// remaining alerts still measure something.
			fmt.Fprintf(out, "alert %2d: FAILED: %v\n", i+1, err)
			failed = append(failed, fmt.Sprintf("alert %d: %v", i+1, err))
			if err := resetDock(ctx, w, obs); err != nil {
				fmt.Fprintf(errOut, "alerts: %v\n", err)
				return 1
			}
			continue
		}
		fmt.Fprintf(out, "alert %2d: staged after %5.2f s, dispatch to airborne %5.2f s (simulated), %5.3f s wall\n",
			i+1, r.staged.Seconds(), r.airborneSim.Seconds(), r.airborneWal.Seconds())
		res = append(res, r)
	}
	if len(res) > 0 {
		col := func(f func(alertResult) time.Duration) []time.Duration {
			v := make([]time.Duration, len(res))
			for i, r := range res {
				v[i] = f(r)
			}
			slices.Sort(v)
			return v
		}
		fmt.Fprintf(out, "\n%d alerts flown of %d at speed x%g, load average %s:\n", len(res), n, speed, loadAvg())
		fmt.Fprintf(out, "| | min | median | max |\n| --- | ---: | ---: | ---: |\n")
		for _, row := range []struct {
			name string
			v    []time.Duration
		}{
			{"alert to staged (simulated)", col(func(r alertResult) time.Duration { return r.staged })},
			{"dispatch to airborne (simulated, agent clock)", col(func(r alertResult) time.Duration { return r.airborneSim })},
			{"dispatch to airborne (wall)", col(func(r alertResult) time.Duration { return r.airborneWal })},
		} {
			fmt.Fprintf(out, "| %s | %.2f s | %.2f s | %.2f s |\n", row.name, row.v[0].Seconds(), quantile(row.v, .5).Seconds(), row.v[len(row.v)-1].Seconds())
		}
	}
	if v := w.Witness().Violations(); len(v) > 0 {
		fmt.Fprintf(out, "SAFETY VIOLATIONS: %v\n", v)
		return 1
	}
	if len(failed) > 0 {
		fmt.Fprintf(out, "%d of %d alerts failed:\n  %s\n", len(failed), n, strings.Join(failed, "\n  "))
		return 1
	}
	return 0
}

// resetDock clears a latched fault after a failed alert, as an operator
// would once the cause is gone, and waits for the dock to be idle again.
func resetDock(ctx context.Context, w *world.World, obs *world.Observer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if f, _ := obs.State()["fault"].(string); f != "" {
		rep, err := obs.Send(ctx, "reset", nil)
		if err != nil {
			return fmt.Errorf("reset after a failed alert: %w", err)
		}
		if !rep.OK {
			return fmt.Errorf("reset after a failed alert refused: %s %s", rep.Error.Code, rep.Error.Message)
		}
	}
	w.Drone.SetBatteryPct(100)
	return waitIdle(ctx, obs)
}

// quantile is the p-quantile of sorted s (nearest rank).
func quantile(s []time.Duration, p float64) time.Duration {
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// waitIdle waits for a secured dock and a linked, disarmed vehicle with no
// sortie running.
// startObserved starts a bench world in dir (no ground station, its own
// broker) and an observer of its broker; on error nothing is left running.
func startObserved(ctx context.Context, dir string, speed float64) (*world.World, *world.Observer, error) {
	w, err := world.Start(ctx, world.Options{BrokerAddr: "127.0.0.1:0", GCS: "none", Speed: speed, Dir: dir})
	if err != nil {
		return nil, nil, err
	}
	obs, err := w.Observe(ctx)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, obs, nil
}

func waitIdle(ctx context.Context, obs *world.Observer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := obs.Wait(ctx, func() bool {
		st := obs.State()
		v, _ := st["vehicle"].(map[string]any)
		s, _ := st["sortie"].(map[string]any)
		idle := s == nil || s["phase"] == "complete" || s["phase"] == "aborted" || s["phase"] == "failed"
		return st["lid"] == "closed" && st["arms"] == "clamped" && v != nil && v["link"] == true && v["armed"] == false &&
			idle && world.Lookup(st, "readiness.ready") == true
	}); err != nil {
		return fmt.Errorf("dock not idle and ready: %w; state %v", err, obs.State())
	}
	return nil
}

func oneAlert(ctx context.Context, w *world.World, obs *world.Observer, i int) (alertResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// A charged pack first: the bench's charger is not modelled, and
	// readiness (which waitIdle waits for) has a battery gate.
	w.Drone.SetBatteryPct(100)
	if err := waitIdle(ctx, obs); err != nil {
		return alertResult{}, err
	}
	from := len(obs.Events())
	alertAt := w.Clock().Now()
	args := map[string]any{"ref": fmt.Sprintf("call-%d", i+1)}
	for k, v := range alertTarget {
		args[k] = v
	}
	rep, err := obs.Send(ctx, "alert", args)
	if err != nil {
		return alertResult{}, err
	}
	if !rep.OK {
		return alertResult{}, fmt.Errorf("alert refused: %s %s %s", rep.Error.Code, rep.Error.Message, rep.Error.Details)
	}
	ev, err := obs.WaitEvent(ctx, from, func(e world.Event) bool {
		return e.Type == "alert" && (e.Fields["state"] == "staged" || e.Fields["state"] == "failed" || e.Fields["state"] == "expired")
	})
	if err != nil {
		return alertResult{}, fmt.Errorf("no alert staged: %w", err)
	}
	if ev.Fields["state"] != "staged" {
		return alertResult{}, fmt.Errorf("alert %v: %v", ev.Fields["state"], ev.Fields["message"])
	}
	var r alertResult
	r.staged = agentTime(ev).Sub(alertAt)

	sentSim, sentWall := w.Clock().Now(), time.Now()
	rep, err = obs.Send(ctx, "dispatch", map[string]any{"lat": alertTarget["lat"], "lon": alertTarget["lon"], "loiter_s": 0, "priority": "alarm"})
	if err != nil {
		return alertResult{}, err
	}
	if !rep.OK {
		return alertResult{}, fmt.Errorf("dispatch on a staged dock refused: %s %s %s", rep.Error.Code, rep.Error.Message, rep.Error.Details)
	}
	var res struct {
		SortieID string `json:"sortie_id"`
	}
	if err := json.Unmarshal(rep.Result, &res); err != nil {
		return alertResult{}, err
	}
	air, err := obs.WaitEvent(ctx, from, func(e world.Event) bool {
		return e.Type == "sortie.phase" && e.Fields["sortie_id"] == res.SortieID && e.Fields["phase"] == "airborne"
	})
	if err != nil {
		return alertResult{}, fmt.Errorf("sortie %s never airborne: %w", res.SortieID, err)
	}
	r.airborneSim, r.airborneWal = agentTime(air).Sub(sentSim), air.Real.Sub(sentWall)
	report, err := obs.WaitEvent(ctx, from, func(e world.Event) bool {
		return e.Type == "sortie.report" && e.Fields["sortie_id"] == res.SortieID
	})
	if err != nil {
		return alertResult{}, fmt.Errorf("no report for %s: %w", res.SortieID, err)
	}
	if report.Fields["outcome"] != "complete" {
		return alertResult{}, fmt.Errorf("sortie %s ended %v (reasons %v), want complete", res.SortieID, report.Fields["outcome"], report.Fields["reasons"])
	}
	return r, nil
}

// agentTime is when the agent stamped e (its own clock, simulated on the
// bench), or when the observer got it if the stamp does not parse.
func agentTime(e world.Event) time.Time {
	if ts, err := time.Parse(time.RFC3339Nano, e.TS); err == nil {
		return ts
	}
	return e.At
}

// measureQuotes sends n quotes one after the other from a client of its
// own (the observer keeps every message, which would time its own
// bookkeeping) and returns each round trip: publish to reply received.
func measureQuotes(ctx context.Context, w *world.World, n int) ([]time.Duration, error) {
	replyTopic := w.Prefix() + "cmd/quote/reply"
	var mu sync.Mutex
	waiting := map[string]chan json.RawMessage{}
	opts := mqtt.NewClientOptions().AddBroker(w.BrokerURL()).
		SetClientID(fmt.Sprintf("load-quotes-%d", time.Now().UnixNano())).SetCleanSession(true)
	c := mqtt.NewClient(opts)
	if err := waitToken(ctx, c.Connect()); err != nil {
		return nil, fmt.Errorf("connect %s: %w", w.BrokerURL(), err)
	}
	defer c.Disconnect(100)
	if err := waitToken(ctx, c.Subscribe(replyTopic, 1, func(_ mqtt.Client, m mqtt.Message) {
		var rep struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m.Payload(), &rep) != nil {
			return
		}
		mu.Lock()
		ch := waiting[rep.ID]
		delete(waiting, rep.ID)
		mu.Unlock()
		if ch != nil {
			ch <- append(json.RawMessage(nil), m.Payload()...)
		}
	})); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", replyTopic, err)
	}
	rtt := make([]time.Duration, 0, n)
	for i := range n {
		// Points around the dock, inside its circles.
		lat := 24.3504 + 0.004*float64(i%7-3)/3
		lon := 102.5420 + 0.004*float64(i%5-2)/2
		id := fmt.Sprintf("q-%d-%d", time.Now().UnixNano(), i)
		body, err := json.Marshal(map[string]any{"id": id, "lat": lat, "lon": lon})
		if err != nil {
			return nil, err
		}
		ch := make(chan json.RawMessage, 1)
		mu.Lock()
		waiting[id] = ch
		mu.Unlock()
		t0 := time.Now()
		if err := waitToken(ctx, c.Publish(w.Prefix()+"cmd/quote", 1, false, body)); err != nil {
			return nil, fmt.Errorf("publish quote %d: %w", i+1, err)
		}
		select {
		case payload := <-ch:
			rtt = append(rtt, time.Since(t0))
			var rep struct {
				OK     bool `json:"ok"`
				Result struct {
					ETAS float64 `json:"eta_s"`
				} `json:"result"`
			}
			if err := json.Unmarshal(payload, &rep); err != nil || !rep.OK || rep.Result.ETAS <= 0 {
				return nil, fmt.Errorf("quote %d (%.5f,%.5f): reply %s, want ok with an eta_s", i+1, lat, lon, payload)
			}
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("quote %d: no reply within 10 s", i+1)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return rtt, nil
}

func waitToken(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
