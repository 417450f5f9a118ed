package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// RunOptions configure Run.
type RunOptions struct {
	Incidents []Incident
	// LoiterS is the dispatches' loiter on station (seconds); 0 is 30, so
	// docks come back for the next incidents sooner than with the
	// agent's default of 120.
	LoiterS float64
	// WaitReady bounds how long (simulated) an incident waits for a ready
	// dock in reach when the docks near it are out; 0 is 20 min (a dock
	// back from a sortie charges for about as long).
	WaitReady time.Duration
	// SceneSlack is how long (simulated) past twice its promise the
	// centre waits for a dispatched vehicle to be on station; 0 is 2 min.
	SceneSlack time.Duration
	// Out receives one line per incident as it is settled; nil: none.
	Out io.Writer
}

// Result is what happened to one incident.
type Result struct {
	Incident Incident
	// ReadyDocks is how many docks the state called ready; Quotes how
	// many of their quotes said ready and in reach (the others answered
	// out_of_range: outside their 5-minute circle).
	ReadyDocks, Quotes int
	// WaitS is how long the incident waited for a dock ready by its state
	// and by its quote (simulated s).
	WaitS float64
	// Named is the dock with the lowest quoted ETA, NamedETAS that ETA.
	Named     string
	NamedETAS float64
	// Dock took the dispatch (Named unless Named refused it).
	Dock, SortieID string
	// FirstPromiseS is the dispatch reply's eta_s; PromisedETAS the promise
	// in force at the end (a retarget's promised_eta_s), both from the
	// dispatch, in simulated seconds.
	FirstPromiseS, PromisedETAS float64
	Retargeted                  bool
	RetargetErr                 string
	// OnStation: the vehicle reported on station at the (final) scene,
	// ActualS simulated seconds after the dispatch was sent.
	OnStation bool
	ActualS   float64
	// Broken lists the promises the dock reported broken
	// (sortie.promise_broken).
	Broken []string
	// Failed lists the dispatches a dock accepted and gave up before the
	// scene (dock: why); the incident was then dispatched again,
	// RedispatchS simulated seconds after the first dispatch.
	Failed      []string
	RedispatchS float64
	Err         string
}

// ServedByNamed reports whether the dock the quotes named reached the scene.
func (r Result) ServedByNamed() bool { return r.OnStation && r.Dock == r.Named }

// Kept reports whether the ETA promise held (on station within the
// promise + 15 %, the dock's own rule, docs/mqtt-api.md "Promises").
func (r Result) Kept() bool {
	return r.OnStation && r.ActualS <= r.PromisedETAS*1.15 && !slices.Contains(r.Broken, "eta")
}

// PromiseAccounted reports whether the promise was kept or the dock said
// it was broken.
func (r Result) PromiseAccounted() bool { return r.Kept() || len(r.Broken) > 0 }

// Report is a whole run.
type Report struct {
	Results  []Result
	QuoteRTT []time.Duration // every quote's MQTT round trip (wall time)
	Elapsed  time.Duration   // simulated
}

// Run sends the incidents to the fleet as the command centre would: each
// at its time, quotes every ready dock, dispatches the fastest, retargets a
// moving incident, and waits for the vehicle on station. It returns when
// every incident is settled or ctx ends.
func (c *Centre) Run(ctx context.Context, opts RunOptions) Report {
	if opts.LoiterS == 0 {
		opts.LoiterS = 30
	}
	if opts.WaitReady == 0 {
		opts.WaitReady = 20 * time.Minute
	}
	if opts.SceneSlack == 0 {
		opts.SceneSlack = 2 * time.Minute
	}
	r := &runner{c: c, opts: opts, start: c.opts.Clock.Now()}
	rep := Report{Results: make([]Result, len(opts.Incidents))}
	var wg sync.WaitGroup
	for i, in := range opts.Incidents {
		wg.Go(func() {
			res := r.incident(ctx, in)
			rep.Results[i] = res
			if opts.Out != nil {
				r.outMu.Lock()
				fmt.Fprintln(opts.Out, FormatResult(res))
				r.outMu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.QuoteRTT = r.rtts
	rep.Elapsed = c.opts.Clock.Since(r.start)
	return rep
}

type runner struct {
	c     *Centre
	opts  RunOptions
	start time.Time

	pick  sync.Mutex // see pickAndSend
	outMu sync.Mutex

	mu   sync.Mutex
	rtts []time.Duration
}

// within returns a context that ends after d of the centre's clock.
func (r *runner) within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	t := r.c.opts.Clock.AfterFunc(d, cancel)
	return ctx, func() { t.Stop(); cancel() }
}

// sleepUntil waits until d after the run's start on the centre's clock.
func (r *runner) sleepUntil(ctx context.Context, d time.Duration) error {
	wait := r.c.opts.Clock.Until(r.start.Add(d))
	if wait <= 0 {
		return ctx.Err()
	}
	t := r.c.opts.Clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type quote struct {
	dock  string
	etaS  float64
	ready bool
	err   error
}

func (r *runner) incident(ctx context.Context, in Incident) Result {
	res := Result{Incident: in}
	if err := r.sleepUntil(ctx, in.At); err != nil {
		res.Err = err.Error()
		return res
	}
	var first time.Time
	for attempt := 1; ; attempt++ {
		// A moving incident dispatched again after its move is sent
		// straight to where it went.
		where, move := in.Where, in.MoveTo
		if move != nil && !first.IsZero() && r.c.opts.Clock.Since(first) >= in.MoveAt {
			where, move = *in.MoveTo, nil
		}
		sentAt, err := r.dispatch(ctx, in.N, where, &res)
		if err != nil {
			res.Err = err.Error()
			return res
		}
		if first.IsZero() {
			first = sentAt
		} else {
			res.RedispatchS = math.Round(sentAt.Sub(first).Seconds())
		}
		aborted := r.follow(ctx, in, sentAt, move, &res)
		if !aborted || attempt == 3 {
			return res
		}
		// The dock took the dispatch and gave it up before the scene (a
		// fault at launch): a command centre sends the next one.
		res.Failed = append(res.Failed, res.Dock+": "+res.Err)
		res.Dock, res.SortieID, res.Err, res.RetargetErr, res.Retargeted, res.Broken = "", "", "", "", false, nil
	}
}

// follow retargets a moving incident in time and waits for the vehicle
// on station; aborted reports a sortie that ended without reaching it.
func (r *runner) follow(ctx context.Context, in Incident, sentAt time.Time, move *Point, res *Result) (aborted bool) {
	fromEvent := 0 // the on_station that counts comes after this many events
	if move != nil {
		if err := r.sleepUntil(ctx, sentAt.Sub(r.start)+in.MoveAt); err != nil {
			res.Err = err.Error()
			return false
		}
		out, _, err := r.c.Send(ctx, res.Dock, "retarget", map[string]any{"sortie_id": res.SortieID, "lat": move.Lat, "lon": move.Lon})
		var rt struct {
			PromisedETAS float64 `json:"promised_eta_s"`
		}
		if err == nil {
			err = json.Unmarshal(out, &rt)
		}
		if err != nil {
			res.RetargetErr = err.Error()
		} else {
			res.Retargeted, res.PromisedETAS = true, rt.PromisedETAS
			// The dispatch.retargeted event marks where the new leg starts.
			wctx, cancel := r.within(ctx, time.Minute)
			_ = r.c.Wait(wctx, func() bool {
				evs := r.c.Events(res.SortieID)
				for i, ev := range evs {
					if ev.Type == "dispatch.retargeted" {
						fromEvent = i + 1
						return true
					}
				}
				return false
			})
			cancel()
		}
	}
	return r.awaitScene(ctx, sentAt, fromEvent, res)
}

// dispatch picks the dock and sends it; it returns when the dispatch was
// accepted (the centre's clock then). While no ready dock reaches the
// incident it asks again every 5 s (simulated), up to WaitReady.
func (r *runner) dispatch(ctx context.Context, n int, where Point, res *Result) (time.Time, error) {
	waitFrom := r.c.opts.Clock.Now()
	wctx, cancel := r.within(ctx, r.opts.WaitReady)
	defer cancel()
	for {
		if err := r.c.Wait(wctx, func() bool { return len(r.c.ReadyDocks()) > 0 }); err != nil {
			return time.Time{}, fmt.Errorf("no dock ready within %v: %w", r.opts.WaitReady, err)
		}
		res.WaitS = math.Round(r.c.opts.Clock.Since(waitFrom).Seconds())
		sentAt, quotes, err := r.pickAndSend(ctx, n, where, res)
		if err != nil || !sentAt.IsZero() {
			return sentAt, err
		}
		// Out of reach of every ready dock (a nearer one is out), or ready
		// by its state but not by its quote (a state on its way): ask
		// again a little later.
		t := r.c.opts.Clock.NewTimer(5 * time.Second)
		select {
		case <-t.Chan():
		case <-wctx.Done():
			t.Stop()
			return time.Time{}, fmt.Errorf("no dock quoted ready and in reach within %v (last: %v)", r.opts.WaitReady, quoteErrs(quotes))
		}
	}
}

// pickAndSend quotes every ready dock and dispatches the fastest: a zero
// time and no error when none quoted ready and in reach. It holds pick
// from the quotes to the dispatch's reply, so two incidents never both
// count on one dock.
func (r *runner) pickAndSend(ctx context.Context, n int, where Point, res *Result) (time.Time, []quote, error) {
	r.pick.Lock()
	defer r.pick.Unlock()
	ready := r.c.ReadyDocks()
	res.ReadyDocks = len(ready)
	quotes := r.quoteAll(ctx, ready, where)
	res.Quotes = 0
	for _, q := range quotes {
		if q.err == nil && q.ready {
			res.Quotes++
		}
	}
	if res.Quotes == 0 {
		return time.Time{}, quotes, nil
	}
	slices.SortFunc(quotes, func(a, b quote) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.etaS, b.etaS), strings.Compare(a.dock, b.dock))
	})
	if res.Named == "" { // a dispatch sent again keeps the first pick
		res.Named, res.NamedETAS = quotes[0].dock, quotes[0].etaS
	}
	var errs []error
	for _, q := range quotes {
		if q.err != nil || !q.ready {
			break
		}
		sentAt := r.c.opts.Clock.Now()
		out, _, err := r.c.Send(ctx, q.dock, "dispatch", map[string]any{
			"lat": where.Lat, "lon": where.Lon, "loiter_s": r.opts.LoiterS, "priority": "alarm", "ref": fmt.Sprintf("INC-%d", n)})
		var d struct {
			SortieID string  `json:"sortie_id"`
			ETAS     float64 `json:"eta_s"`
		}
		if err == nil {
			err = json.Unmarshal(out, &d)
		}
		if err == nil && d.SortieID == "" {
			err = fmt.Errorf("dispatch to %s: reply without sortie_id: %s", q.dock, out)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.c.reserve(q.dock, d.SortieID)
		res.Dock, res.SortieID, res.FirstPromiseS, res.PromisedETAS = q.dock, d.SortieID, d.ETAS, d.ETAS
		return sentAt, quotes, nil
	}
	return time.Time{}, quotes, fmt.Errorf("every ready dock refused the dispatch: %w", errors.Join(errs...))
}

// quoteErrs says in one line why no quote could be taken.
func quoteErrs(qs []quote) string {
	var out []string
	for _, q := range qs {
		if q.err != nil {
			out = append(out, q.err.Error())
		} else {
			out = append(out, q.dock+": not ready")
		}
	}
	return strings.Join(out, "; ")
}

func rank(q quote) int {
	if q.err == nil && q.ready {
		return 0
	}
	return 1
}

// quoteAll asks every dock at once and records the round trips.
func (r *runner) quoteAll(ctx context.Context, docks []string, p Point) []quote {
	out := make([]quote, len(docks))
	var wg sync.WaitGroup
	for i, d := range docks {
		wg.Go(func() {
			raw, rtt, err := r.c.Send(ctx, d, "quote", map[string]any{"lat": p.Lat, "lon": p.Lon})
			q := quote{dock: d, err: err}
			if err == nil {
				r.mu.Lock()
				r.rtts = append(r.rtts, rtt)
				r.mu.Unlock()
				var v struct {
					ETAS  float64 `json:"eta_s"`
					Ready bool    `json:"ready"`
				}
				if err := json.Unmarshal(raw, &v); err != nil {
					q.err = fmt.Errorf("quote from %s: %w", d, err)
				}
				q.etaS, q.ready = v.ETAS, v.Ready
			} else {
				var re *ReplyError
				if errors.As(err, &re) && re.Code == "out_of_range" {
					r.mu.Lock()
					r.rtts = append(r.rtts, rtt) // answered all the same
					r.mu.Unlock()
				}
			}
			out[i] = q
		})
	}
	wg.Wait()
	return out
}

// awaitScene waits for the vehicle on station (the first on_station after
// event fromEvent), or the sortie's end without it.
func (r *runner) awaitScene(ctx context.Context, sentAt time.Time, fromEvent int, res *Result) (aborted bool) {
	limit := time.Duration(2*res.PromisedETAS*float64(time.Second)) + r.opts.SceneSlack
	wctx, cancel := r.within(ctx, max(limit-r.c.opts.Clock.Since(sentAt), time.Second))
	defer cancel()
	var ended bool
	err := r.c.Wait(wctx, func() bool {
		evs := r.c.Events(res.SortieID)
		for _, ev := range evs[min(fromEvent, len(evs)):] {
			switch {
			case ev.Type == "sortie.phase" && ev.Phase == "on_station":
				res.OnStation, res.ActualS = true, math.Round(ev.At.Sub(sentAt).Seconds())
				return true
			case ev.Type == "sortie.report", ev.Type == "sortie.phase" && ev.Phase == "failed":
				ended = true
				return true
			}
		}
		return false
	})
	switch {
	case err != nil:
		res.Err = fmt.Sprintf("%s: not on station %v after the dispatch (promised %gs): %v", res.SortieID, limit, res.PromisedETAS, err)
	case ended:
		res.Err = fmt.Sprintf("%s: ended without reaching the scene: %s", res.SortieID, story(r.c.Events(res.SortieID)))
	}
	if res.OnStation && res.ActualS > res.PromisedETAS*1.15 {
		// The dock says so at once, before it is on station
		// (docs/mqtt-api.md "Promises"); allow the event its way here.
		bctx, cancel := r.within(ctx, 10*time.Second)
		_ = r.c.Wait(bctx, func() bool { return len(brokenOf(r.c.Events(res.SortieID))) > 0 })
		cancel()
	}
	res.Broken = brokenOf(r.c.Events(res.SortieID))
	return ended
}

// story is a sortie's events in short: its phases, and its report.
func story(evs []SortieEvent) string {
	var parts []string
	for _, ev := range evs {
		switch ev.Type {
		case "sortie.phase":
			parts = append(parts, ev.Phase)
		case "sortie.report", "sortie.promise_broken", "preflight.blocked":
			parts = append(parts, string(ev.Raw))
		default:
			parts = append(parts, ev.Type)
		}
	}
	return strings.Join(parts, " > ")
}

func brokenOf(evs []SortieEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type != "sortie.promise_broken" {
			continue
		}
		var b struct {
			Promise string `json:"promise"`
		}
		if json.Unmarshal(ev.Raw, &b) == nil && !slices.Contains(out, b.Promise) {
			out = append(out, b.Promise)
		}
	}
	return out
}

// FormatResult is one incident's line.
func FormatResult(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%02d t+%4.0fs %.5f,%.5f", r.Incident.N, r.Incident.At.Seconds(), r.Incident.Where.Lat, r.Incident.Where.Lon)
	if r.Named == "" {
		fmt.Fprintf(&b, "  ready %d  NOT SERVED: %s", r.ReadyDocks, r.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "  ready %2d in reach %2d", r.ReadyDocks, r.Quotes)
	if r.WaitS > 0 {
		fmt.Fprintf(&b, " waited %gs", r.WaitS)
	}
	fmt.Fprintf(&b, "  named %s (%gs)", r.Named, r.NamedETAS)
	if len(r.Failed) > 0 {
		fmt.Fprintf(&b, "  gave up: %s;", strings.Join(r.Failed, "; "))
		if r.Dock == "" {
			fmt.Fprintf(&b, "  NOT SERVED: %s", r.Err)
			return b.String()
		}
		fmt.Fprintf(&b, " sent again after %gs", r.RedispatchS)
	}
	fmt.Fprintf(&b, "  dock %s  promised %gs", r.Dock, r.FirstPromiseS)
	switch {
	case r.Retargeted:
		fmt.Fprintf(&b, " moved->%gs", r.PromisedETAS)
	case r.RetargetErr != "":
		fmt.Fprintf(&b, " move refused (%s)", r.RetargetErr)
	}
	if r.OnStation {
		fmt.Fprintf(&b, "  on scene %gs", r.ActualS)
	}
	verdict := "kept"
	switch {
	case !r.OnStation:
		verdict = "NOT ON SCENE: " + r.Err
	case !r.Kept() && len(r.Broken) > 0:
		verdict = "late, reported broken " + strings.Join(r.Broken, ",")
	case !r.Kept():
		verdict = "LATE, NOT REPORTED"
	case len(r.Broken) > 0:
		verdict = "kept, but reported broken " + strings.Join(r.Broken, ",")
	}
	served := "served by named"
	if !r.ServedByNamed() {
		served = "NOT SERVED BY NAMED"
	}
	fmt.Fprintf(&b, "  %s  %s", verdict, served)
	return b.String()
}

// Percentile returns the p-th percentile (0..100, nearest rank) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// FormatSummary is the run's last lines.
func FormatSummary(rep Report) string {
	var named, kept, broken, unreported, onScene, retargeted int
	var actual []time.Duration
	for _, r := range rep.Results {
		if r.ServedByNamed() {
			named++
		}
		if r.OnStation {
			onScene++
			actual = append(actual, time.Duration(r.ActualS*float64(time.Second)))
		}
		if r.Retargeted {
			retargeted++
		}
		switch {
		case r.Kept():
			kept++
		case r.OnStation && len(r.Broken) > 0:
			broken++
		case r.OnStation:
			unreported++
		}
	}
	n := len(rep.Results)
	var b strings.Builder
	fmt.Fprintf(&b, "incidents %d: on scene %d, served by the dock the quotes named %d, retargeted %d\n", n, onScene, named, retargeted)
	fmt.Fprintf(&b, "promises: kept %d, late and reported broken %d, late and NOT reported %d\n", kept, broken, unreported)
	fmt.Fprintf(&b, "time to scene (simulated): p50 %v, max %v; run took %v simulated\n",
		Percentile(actual, 50), Percentile(actual, 100), rep.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "quote round trip over MQTT (wall): n %d, p50 %v, p99 %v, max %v\n", len(rep.QuoteRTT),
		Percentile(rep.QuoteRTT, 50).Round(10*time.Microsecond), Percentile(rep.QuoteRTT, 99).Round(10*time.Microsecond),
		Percentile(rep.QuoteRTT, 100).Round(10*time.Microsecond))
	return b.String()
}
