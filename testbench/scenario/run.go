package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/telemetry/schema"
	"github.com/dockagent/dock-agent/testbench/physics"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
	"github.com/dockagent/dock-agent/testbench/weathersim"
	"github.com/dockagent/dock-agent/testbench/world"
)

// Result is the verdict of one run.
type Result struct {
	Name       string
	Passed     bool
	Failure    string // the first failure
	Violations []world.Violation
	EventErr   error
	// Redelivered counts events that arrived again with their seq and
	// content (MQTT QoS 1 is at least once); not a failure.
	Redelivered int
	SimTime     time.Duration
	WallTime    time.Duration
	Events      int
	// Messages is how many of the agent's messages were checked against
	// the contract's schemas; SchemaErrs are the first that failed.
	Messages   int
	SchemaErrs []error
}

// Run starts a world for s, runs its steps and returns the verdict. The
// timeline goes to out as it happens.
func Run(ctx context.Context, s *Scenario, opts world.Options, out io.Writer) (*Result, error) {
	wall := time.Now()
	if s.World.LidTravel != 0 {
		opts.LidTravel = s.World.LidTravel
	}
	if s.World.ArmsTravel != 0 {
		opts.ArmsTravel = s.World.ArmsTravel
	}
	edit := opts.Edit
	opts.Edit = func(c *config.Config) {
		if edit != nil {
			edit(c)
		}
		applyLimits(c, s.World.Limits)
	}
	if opts.BrokerAddr == "" {
		opts.BrokerAddr = "127.0.0.1:0"
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w, err := world.Start(startCtx, opts)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if s.World.Weather != nil {
		setWeather(w, s.World.Weather)
	}
	if s.World.BatteryPct != nil {
		if err := w.DroneFault("battery", strconv.FormatFloat(*s.World.BatteryPct, 'f', -1, 64)); err != nil {
			return nil, err
		}
	}
	obs, err := w.Observe(ctx)
	if err != nil {
		return nil, err
	}
	defer obs.Close()

	r := &runner{w: w, obs: obs, out: out, start: w.Clock().Now(), saved: map[string]string{}}
	fmt.Fprintf(out, "scenario %q: speed x%g, agent pid %d\n", s.Name, w.Clock().Speed(), w.Agent.PID())
	res := &Result{Name: s.Name, Passed: true}
	runCtx, cancelRun := context.WithTimeout(ctx, time.Duration(float64(s.Timeout)/w.Clock().Speed())+30*time.Second)
	defer cancelRun()
	for i, st := range s.Steps {
		if err := r.step(runCtx, i, st); err != nil {
			res.Passed = false
			res.Failure = fmt.Sprintf("step %d (%s): %v", i+1, describe(st), err)
			r.logf("FAIL %s", res.Failure)
			break
		}
	}
	// Settle: let the last events reach the observer.
	w.Witness().Check()
	res.Violations = allowed(w.Witness().Violations(), s.AllowViolations)
	res.Redelivered, res.EventErr = obs.CheckEvents()
	if res.Redelivered > 0 {
		r.logf("EVENTS %d redelivered (same seq and content: QoS 1 at least once)", res.Redelivered)
	}
	res.Events = len(obs.Events())
	res.Messages, res.SchemaErrs = checkSchemas(obs.All())
	for _, e := range res.SchemaErrs {
		r.logf("SCHEMA %v", e)
	}
	res.SimTime = w.Clock().Since(r.start)
	res.WallTime = time.Since(wall)
	if len(res.Violations) > 0 {
		res.Passed = false
		if res.Failure == "" {
			res.Failure = "safety invariant violated: " + res.Violations[0].String()
		}
		for _, v := range res.Violations {
			r.logf("VIOLATION %s", v)
		}
	}
	if len(res.SchemaErrs) > 0 {
		res.Passed = false
		if res.Failure == "" {
			res.Failure = "message outside the contract: " + res.SchemaErrs[0].Error()
		}
	}
	if res.EventErr != nil {
		res.Passed = false
		if res.Failure == "" {
			res.Failure = "event delivery: " + res.EventErr.Error()
		}
		r.logf("EVENTS %v", res.EventErr)
	}
	verdict := "PASS"
	if !res.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "%s %q: %d steps, %d events, %d messages valid against the schemas, %d invariant checks, sim %v, wall %v\n", verdict, s.Name, len(s.Steps), res.Events,
		res.Messages-len(res.SchemaErrs), w.Witness().Checks(), res.SimTime.Round(time.Second), res.WallTime.Round(10*time.Millisecond))
	if !res.Passed {
		fmt.Fprintf(out, "first failure: %s\n(agent log: %s/agent.log)\n", res.Failure, w.Dir())
	}
	return res, nil
}

func allowed(vs []world.Violation, allow []int) []world.Violation {
	var out []world.Violation
	for _, v := range vs {
		ok := false
		for _, a := range allow {
			if a == v.Invariant {
				ok = true
			}
		}
		if !ok {
			out = append(out, v)
		}
	}
	return out
}

type runner struct {
	w     *world.World
	obs   *world.Observer
	out   io.Writer
	start time.Time
	saved map[string]string
	// cursor is the index of the first event an event expectation looks
	// at: set when an action starts, moved past each matched event, so
	// expectations match events in order and none that came before the
	// action they follow.
	cursor int
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.out, "  %8s  %s\n", r.w.Clock().Since(r.start).Round(100*time.Millisecond), fmt.Sprintf(format, args...))
}

func describe(st Step) string {
	switch {
	case st.Command != "":
		return "command " + st.Command
	case st.Fault != "":
		return "fault " + st.Fault
	case st.Weather != nil:
		return "weather"
	case st.Expect != nil && st.Expect.Event != "":
		return "expect event " + st.Expect.Event
	case st.Expect != nil && st.Expect.NoEvent != "":
		return "expect no event " + st.Expect.NoEvent
	case st.Expect != nil && st.Expect.Drone != nil:
		return "expect drone " + st.Expect.Drone.String()
	}
	return "expect state"
}

// sleepSim waits d of simulated time.
func (r *runner) sleepSim(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := r.w.Clock().NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *runner) step(ctx context.Context, i int, st Step) error {
	switch {
	case st.At != nil:
		if err := r.sleepSim(ctx, r.start.Add(*st.At).Sub(r.w.Clock().Now())); err != nil {
			return err
		}
	case st.After > 0:
		if err := r.sleepSim(ctx, st.After); err != nil {
			return err
		}
	}
	if st.Note != "" {
		r.logf("# %s", st.Note)
	}
	if st.Expect == nil {
		r.cursor = len(r.obs.Events())
	}
	switch {
	case st.Command != "":
		return r.command(ctx, st)
	case st.Fault != "":
		name, arg, _ := strings.Cut(st.Fault, ":")
		r.logf("fault %s", st.Fault)
		return r.fault(ctx, name, arg)
	case st.Weather != nil:
		r.logf("weather %s", weatherText(st.Weather))
		setWeather(r.w, st.Weather)
		return nil
	default:
		return r.expect(ctx, st.Expect)
	}
}

func (r *runner) command(ctx context.Context, st Step) error {
	args := map[string]any{}
	for k, v := range st.Args {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "$") {
			if saved, ok := r.saved[s[1:]]; ok {
				v = saved
			}
		}
		args[k] = v
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rep world.Reply
	var err error
	if st.Raw != "" {
		var probe struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(st.Raw), &probe)
		rep, err = r.obs.SendRaw(cctx, st.Command, probe.ID, []byte(st.Raw))
	} else {
		rep, err = r.obs.Send(cctx, st.Command, args)
	}
	if err != nil {
		return err
	}
	got := "ok"
	if !rep.OK && rep.Error != nil {
		got = rep.Error.Code
		r.logf("command %s -> %s: %s %s", st.Command, got, rep.Error.Message, string(rep.Error.Details))
	} else {
		r.logf("command %s -> ok %s", st.Command, string(rep.Result))
	}
	if st.Save != "" && rep.OK {
		var res struct {
			SortieID string `json:"sortie_id"`
		}
		if json.Unmarshal(rep.Result, &res) == nil && res.SortieID != "" {
			r.saved[st.Save] = res.SortieID
		}
	}
	if st.Reply != "" && st.Reply != got {
		return fmt.Errorf("reply %s, want %s", got, st.Reply)
	}
	return nil
}

func (r *runner) fault(ctx context.Context, name, arg string) error {
	p := r.w.Physics
	switch name {
	case "estop_press":
		p.SetEStop(true)
	case "estop_release":
		p.SetEStop(false)
	case "mains_lost":
		p.SetMains(false)
	case "mains_back":
		p.SetMains(true)
	case "rain_on", "rain_off":
		rain := name == "rain_on"
		p.SetRain(rain)
		setWeather(r.w, &Weather{Rain: &rain})
	case "lid_stuck", "lid_unstuck":
		p.SetStuck(physics.AxisLid, name == "lid_stuck")
	case "arms_stuck", "arms_unstuck":
		p.SetStuck(physics.AxisArms, name == "arms_stuck")
	case "lid_slow":
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return fmt.Errorf("lid_slow:%s: want a factor", arg)
		}
		p.SetSlowdown(physics.AxisLid, f)
	case "limit_stuck":
		sig, lvl, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("limit_stuck:%s: want signal=high|low", arg)
		}
		p.StickInput(physics.Signal(sig), lvl == "high")
	case "limit_release":
		p.ReleaseInput(physics.Signal(arg))
	case "unplug":
		return r.w.Unplug(arg)
	case "replug":
		return r.w.Replug(arg)
	case "broker_stop", "broker_start":
		if r.w.Broker == nil {
			return errors.New("an external broker cannot be stopped by the bench")
		}
		if name == "broker_stop" {
			return r.w.Broker.Stop()
		}
		return r.w.Broker.Start()
	case "agent_kill":
		return r.w.KillAgent(ctx)
	case "agent_term":
		return r.w.StopAgent(ctx)
	case "agent_restart":
		if r.w.Agent.PID() != 0 {
			return errors.New("agent_restart: the agent is still running (kill or term it first)")
		}
		return r.w.StartAgent(ctx)
	case "weather_silent":
		r.w.Weather.SetFaults(rtuslave.Faults{Silent: true})
	case "weather_back":
		r.w.Weather.SetFaults(rtuslave.Faults{})
	default:
		return r.w.DroneFault(name, arg)
	}
	return nil
}

func (r *runner) expect(ctx context.Context, e *Expect) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(float64(e.Within)/r.w.Clock().Speed())+2*time.Second)
	defer cancel()
	deadline := r.w.Clock().Now().Add(e.Within)
	from := r.cursor
	switch {
	case e.Event != "":
		idx := -1
		err := r.obs.Wait(ctx, func() bool {
			evs := r.obs.Events()
			for i := from; i < len(evs); i++ {
				if evs[i].Type == e.Event && r.matches(evs[i].Fields, e.Where) {
					idx = i
					return true
				}
			}
			return false
		})
		if err != nil {
			return fmt.Errorf("no %s event with %v within %v", e.Event, e.Where, e.Within)
		}
		ev := r.obs.Events()[idx]
		if ev.At.After(deadline) {
			return fmt.Errorf("%s event with %v came %v late", e.Event, e.Where, ev.At.Sub(deadline).Round(time.Millisecond))
		}
		r.cursor = idx + 1
		r.logf("event %s %v (seq %d)", ev.Type, e.Where, ev.Seq)
		return nil
	case e.NoEvent != "":
		err := r.obs.Wait(ctx, func() bool {
			if r.w.Clock().Now().After(deadline) {
				return true
			}
			evs := r.obs.Events()
			for _, ev := range evs[min(from, len(evs)):] {
				if ev.Type == e.NoEvent && r.matches(ev.Fields, e.Where) {
					return true
				}
			}
			return false
		})
		evs := r.obs.Events()
		for _, ev := range evs[min(from, len(evs)):] {
			if ev.Type == e.NoEvent && r.matches(ev.Fields, e.Where) {
				return fmt.Errorf("unexpected %s event %v (seq %d)", ev.Type, ev.Fields, ev.Seq)
			}
		}
		if err != nil {
			return err
		}
		r.logf("no %s event for %v, as expected", e.NoEvent, e.Within)
		return nil
	case e.Drone != nil:
		var why string
		err := r.obs.Wait(ctx, func() bool {
			if why = e.Drone.broken(r.w.DroneState()); why != "" {
				return true
			}
			return !r.w.Clock().Now().Before(deadline)
		})
		if why != "" {
			return fmt.Errorf("drone not %s after %v: %s", e.Drone, r.w.Clock().Since(deadline.Add(-e.Within)).Round(100*time.Millisecond), why)
		}
		if err != nil {
			return err
		}
		r.logf("drone %s for %v, as expected", e.Drone, e.Within)
		return nil
	default:
		var last map[string]any
		err := r.obs.Wait(ctx, func() bool {
			last = r.obs.State()
			return last != nil && r.matches(last, e.State)
		})
		if err != nil {
			return fmt.Errorf("state never had %v within %v (last %s)", e.State, e.Within, brief(last, e.State))
		}
		r.logf("state %v", e.State)
		return nil
	}
}

// matches reports whether every dotted path of want has its value in got.
// A string "$name" compares with a saved value.
func (r *runner) matches(got map[string]any, want map[string]any) bool {
	for path, w := range want {
		if s, ok := w.(string); ok && strings.HasPrefix(s, "$") {
			if saved, ok := r.saved[s[1:]]; ok {
				w = saved
			}
		}
		if !equal(world.Lookup(got, path), w) {
			return false
		}
	}
	return true
}

func equal(got, want any) bool {
	switch w := want.(type) {
	case int:
		f, ok := got.(float64)
		return ok && f == float64(w)
	case float64:
		f, ok := got.(float64)
		return ok && f == w
	case nil:
		return got == nil
	}
	return reflect.DeepEqual(got, want)
}

func brief(st map[string]any, want map[string]any) string {
	parts := []string{}
	for path := range want {
		parts = append(parts, fmt.Sprintf("%s=%v", path, world.Lookup(st, path)))
	}
	return strings.Join(parts, " ")
}

func setWeather(w *world.World, x *Weather) {
	w.Weather.Update(func(r *weathersim.Reading) {
		if x.WindMPS != nil {
			r.WindMPS = *x.WindMPS
		}
		if x.GustMPS != nil {
			r.GustMPS = *x.GustMPS
		}
		if x.DirDeg != nil {
			r.DirDeg = *x.DirDeg
		}
		if x.TempC != nil {
			r.TempC = *x.TempC
		}
		if x.HumidityPct != nil {
			r.HumidityPct = *x.HumidityPct
		}
		if x.Rain != nil {
			r.Rain = *x.Rain
		}
	})
	if x.WindMPS != nil {
		_ = w.DroneFault("wind", fmt.Sprintf("%g,%g", *x.WindMPS, ptrOr(x.DirDeg, w.Weather.Reading().DirDeg)))
	}
}

func ptrOr(p *float64, d float64) float64 {
	if p != nil {
		return *p
	}
	return d
}

func weatherText(x *Weather) string {
	var parts []string
	add := func(k string, p *float64) {
		if p != nil {
			parts = append(parts, fmt.Sprintf("%s=%g", k, *p))
		}
	}
	add("wind_mps", x.WindMPS)
	add("gust_mps", x.GustMPS)
	add("dir_deg", x.DirDeg)
	add("temp_c", x.TempC)
	if x.Rain != nil {
		parts = append(parts, fmt.Sprintf("rain=%v", *x.Rain))
	}
	return strings.Join(parts, " ")
}

func applyLimits(c *config.Config, limits map[string]float64) {
	for k, v := range limits {
		switch k {
		case "wind_mps":
			c.Limits.WindMPS = v
		case "gust_mps":
			c.Limits.GustMPS = v
		case "battery_reserve_pct":
			c.Limits.BatteryReservePct = v
		case "clearance_alt_m":
			c.Limits.ClearanceAltM = v
		case "geofence_radius_m":
			c.Limits.Geofence.RadiusM = v
		}
	}
}

// checkSchemas validates every message the agent sent against the
// contract's JSON Schemas (telemetry/schema): the messages checked, and
// the first errors (one per topic and kind, at most 10).
func checkSchemas(msgs []world.Message) (int, []error) {
	v, err := schema.NewValidator()
	if err != nil {
		return 0, []error{err}
	}
	var errs []error
	seen := map[string]bool{}
	n := 0
	for _, m := range msgs {
		err := v.Check(m.Topic, m.Payload)
		if errors.Is(err, schema.ErrNoSchema) {
			continue
		}
		n++
		if err == nil || seen[m.Topic] || len(errs) >= 10 {
			continue
		}
		seen[m.Topic] = true
		p := string(m.Payload)
		if len(p) > 300 {
			p = p[:300] + "..."
		}
		errs = append(errs, fmt.Errorf("%s at %s: %w\n  payload: %s", m.Topic, m.At.Format(time.RFC3339Nano), err, p))
	}
	return n, errs
}
