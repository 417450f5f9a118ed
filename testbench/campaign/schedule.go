package campaign

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scheduled is one fault of a random schedule, at a simulated time since
// the first dispatch.
type Scheduled struct {
	At    time.Duration
	Fault Fault
}

// Schedule is a random fault schedule over a series of dispatches.
type Schedule struct {
	Seed    int64
	Sorties int
	Faults  []Scheduled // by At
}

func (s Schedule) String() string {
	var parts []string
	for _, f := range s.Faults {
		parts = append(parts, fmt.Sprintf("%s@%v", f.Fault.Name, f.At))
	}
	return fmt.Sprintf("seed %d: %d sorties, faults %s", s.Seed, s.Sorties, strings.Join(parts, ", "))
}

// sortieSpan is about one campaign dispatch, launch to secured, in
// simulated time; the random faults fall within the series.
const sortieSpan = 4 * time.Minute

// RandomSchedule picks k faults of Faults at random simulated times during
// a series of sorties dispatches; the same seed gives the same schedule.
func RandomSchedule(seed int64, k, sorties int) Schedule {
	r := rand.New(rand.NewPCG(uint64(seed), 0x1d0c4))
	all := Faults()
	s := Schedule{Seed: seed, Sorties: sorties}
	span := time.Duration(max(1, sorties)) * sortieSpan
	for range k {
		at := 10*time.Second + time.Duration(r.Int64N(int64(span))).Round(time.Second)
		s.Faults = append(s.Faults, Scheduled{At: at, Fault: all[r.IntN(len(all))]})
	}
	sort.Slice(s.Faults, func(i, j int) bool { return s.Faults[i].At < s.Faults[j].At })
	return s
}

// ScheduleResult is the verdict of a random schedule.
type ScheduleResult struct {
	Schedule Schedule
	Pass     bool
	Reasons  []string
	Reports  []string // outcome per sortie
	End      string
	Events   int
	Wall     time.Duration
}

func (r ScheduleResult) String() string {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s %s\n  reports %v, end %s, %d events, wall %v\n  %s", verdict, r.Schedule, r.Reports, r.End,
		r.Events, r.Wall.Round(100*time.Millisecond), strings.Join(r.Reasons, "\n  "))
}

// RunSchedule flies s.Sorties dispatches one after the other while the
// schedule's faults strike at their times (one at a time: a fault due
// while another holds waits for its undo). Every dispatch must end with a
// report, the dock secured or in a named fault, invariants unbroken and
// every event delivered once in order.
func RunSchedule(ctx context.Context, o Options, s Schedule) (res ScheduleResult) {
	wall := time.Now()
	res = ScheduleResult{Schedule: s}
	defer func() { res.Wall = time.Since(wall) }()
	c, closeFn, err := start(ctx, o, fmt.Sprintf("seed-%d", s.Seed))
	if err != nil {
		res.Reasons = append(res.Reasons, err.Error())
		return res
	}
	defer closeFn()
	c.log = func(format string, args ...any) {
		if o.Log != nil {
			o.Log("  %8v  %s", c.W.Clock().Since(c.W.Clock().SimOrigin()).Round(100*time.Millisecond), fmt.Sprintf(format, args...))
		}
	}
	t0 := c.W.Clock().Now()
	fctx, stopFaults := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var faultErrs []string
	var mu sync.Mutex
	wg.Go(func() {
		for _, f := range s.Faults {
			if err := c.sleepSim(fctx, t0.Add(f.At).Sub(c.W.Clock().Now())); err != nil && fctx.Err() != nil {
				return
			}
			c.log("inject %s for %v", f.Fault.Name, f.Fault.Hold)
			if err := c.inject(fctx, f.Fault); err != nil {
				mu.Lock()
				faultErrs = append(faultErrs, fmt.Sprintf("%s: %v", f.Fault.Name, err))
				mu.Unlock()
			}
			c.log("undone %s", f.Fault.Name)
		}
	})
	for i := range s.Sorties {
		id, err := c.dispatchRetrying(ctx)
		if err != nil {
			res.Reasons = append(res.Reasons, fmt.Sprintf("sortie %d: %v", i+1, err))
			break
		}
		c.Sortie = id
		c.log("sortie %d: %s", i+1, id)
		rep, err := c.waitEvent(ctx, 30*time.Minute, "sortie.report", nil)
		if err != nil {
			res.Reasons = append(res.Reasons, fmt.Sprintf("sortie %d: %v (%s)", i+1, err, brief(c.Obs.State())))
			break
		}
		res.Reports = append(res.Reports, fmt.Sprint(rep.Fields["outcome"]))
	}
	wg.Wait() // the faults run to the end of the schedule
	stopFaults()
	res.Reasons = append(res.Reasons, faultErrs...)
	var v Verdict
	if len(res.Reasons) == 0 {
		c.settle(ctx, &v)
		if !v.Pass {
			res.Reasons = append(res.Reasons, v.Reason)
		}
	}
	c.finish(&v)
	res.End, res.Events = v.End, v.Events
	if len(v.Violations) > 0 || strings.HasPrefix(v.Reason, "events:") {
		res.Reasons = append(res.Reasons, v.Reason)
	}
	res.Pass = len(res.Reasons) == 0
	return res
}

// dispatchRetrying waits for a dock ready for a sortie (resetting a named
// fault) and dispatches, retrying while a fault of the schedule holds.
func (c *Cell) dispatchRetrying(ctx context.Context) (string, error) {
	var last error
	for range 40 {
		if st := c.Obs.State(); st != nil && strings.HasPrefix(endState(st), "fault") || (st != nil && st["estop_latched"] == true && st["estop"] == false) {
			_ = c.reset(ctx)
		}
		id, err := c.dispatch(ctx)
		if err == nil {
			return id, nil
		}
		last = err
		if err := c.sleepSim(ctx, 15*time.Second); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no dispatch accepted: %w", last)
}
