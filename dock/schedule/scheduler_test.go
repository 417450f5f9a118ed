package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder collects what the Scheduler hands out; fail decides whether a
// launch is refused (nil: accept).
type recorder struct {
	mu       sync.Mutex
	launches []Firing
	missed   []Missed
	fail     func(f Firing) error
}

func (r *recorder) launch(_ context.Context, f Firing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.launches = append(r.launches, f)
	if r.fail != nil {
		return r.fail(f)
	}
	return nil
}

func (r *recorder) miss(m Missed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.missed = append(r.missed, m)
}

func (r *recorder) snapshot() ([]Firing, []Missed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Firing(nil), r.launches...), append([]Missed(nil), r.missed...)
}

// harness runs a Scheduler on a fake clock; step advances the clock once
// the scheduler is parked on its timer and waits until it is parked again.
type harness struct {
	t     *testing.T
	clock *clockwork.FakeClock
	s     *Scheduler
	rec   *recorder
	ctx   context.Context
	stop  func()
}

func start(t *testing.T, now time.Time, opts Options, fail func(Firing) error) *harness {
	t.Helper()
	clock := clockwork.NewFakeClockAt(now)
	rec := &recorder{fail: fail}
	opts.Clock = clock
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	s, err := NewScheduler(opts, rec.launch, rec.miss)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	h := &harness{t: t, clock: clock, s: s, rec: rec, ctx: ctx}
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	}
	h.park()
	return h
}

func (h *harness) park() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, 1); err != nil {
		h.t.Fatalf("scheduler not parked on its timer: %v", err)
	}
}

// advanceTo moves the clock to t in steps of step, letting the scheduler
// run and park on its timer after each, as real time would. Tests pick a
// step that divides every due and retry time they expect, so no timer is
// overshot.
func (h *harness) advanceTo(t time.Time, step time.Duration) {
	h.t.Helper()
	for h.clock.Now().Before(t) {
		d := min(step, t.Sub(h.clock.Now()))
		h.clock.Advance(d)
		h.park()
	}
}

func mustEntries(t *testing.T, js string) []Entry {
	t.Helper()
	es, err := DecodeEntries([]byte(js))
	if err != nil {
		t.Fatalf("DecodeEntries(%s) = %v", js, err)
	}
	return es
}

func dues(fs []Firing) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Due.UTC().Format("01-02T15:04Z"))
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSchedulerCronInZone(t *testing.T) {
	entries := mustEntries(t, `[{"name":"oldtown","route":"oldtown","cron":"0 */2 * * *","time_zone":"Europe/Berlin"}]`)
	h := start(t, time.Date(2026, 12, 5, 18, 30, 0, 0, time.UTC), Options{Entries: entries}, nil)
	defer h.stop()
	h.advanceTo(time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC), time.Minute)
	launches, missed := h.rec.snapshot()
	if want := []string{"12-05T19:00Z", "12-05T21:00Z", "12-05T23:00Z"}; !equal(dues(launches), want) {
		t.Errorf("launched %v, want %v", dues(launches), want)
	}
	if len(missed) != 0 {
		t.Errorf("missed %v, want none", missed)
	}
}

func TestSchedulerWindowAcrossMidnightAndSpringForward(t *testing.T) {
	// Night of the spring change in Berlin: 01:00, 02:00 (does not exist:
	// fires at the change, 03:00 CEST), 03:00 (same instant: once), 04:00.
	entries := mustEntries(t, `[{"name":"night","route":"oldtown","when":"every 1h between 23:00 and 04:00","time_zone":"Europe/Berlin"}]`)
	h := start(t, time.Date(2026, 3, 28, 21, 30, 0, 0, time.UTC), Options{Entries: entries}, nil)
	defer h.stop()
	h.advanceTo(time.Date(2026, 3, 29, 3, 0, 0, 0, time.UTC), time.Minute)
	launches, missed := h.rec.snapshot()
	if want := []string{"03-28T22:00Z", "03-28T23:00Z", "03-29T00:00Z", "03-29T01:00Z", "03-29T02:00Z"}; !equal(dues(launches), want) {
		t.Errorf("launched %v, want %v", dues(launches), want)
	}
	if len(missed) != 0 {
		t.Errorf("missed %v, want none", missed)
	}
}

func TestSchedulerMissedPolicy(t *testing.T) {
	errWind := errors.New("wind 14.2 m/s over limit 12 m/s")
	due := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		failUntil    time.Time // refuse launches before this instant
		wantAttempts int       // launch calls
		wantMissed   []Missed
	}{
		{"flies at once", due, 1, nil},
		{"flies on retry within grace", due.Add(95 * time.Second), 5, nil},
		// Grace 5 min, retry 30 s: attempts at 0, 30, ..., 300 s = 11.
		{"missed after grace", due.Add(time.Hour), 11, []Missed{{Entry: "e", Route: "r", Due: due, Reason: errWind.Error(), Attempts: 11, Count: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := mustEntries(t, `[{"name":"e","route":"r","at":["2026-12-05T19:00:00Z"],"grace":"5m"}]`)
			var h *harness
			h = start(t, due.Add(-time.Minute), Options{Entries: entries}, func(Firing) error {
				if h.clock.Now().Before(tt.failUntil) {
					return errWind
				}
				return nil
			})
			defer h.stop()
			h.advanceTo(due.Add(10*time.Minute), 5*time.Second)
			launches, missed := h.rec.snapshot()
			if len(launches) != tt.wantAttempts {
				t.Errorf("%d launch attempts, want %d", len(launches), tt.wantAttempts)
			}
			for i, f := range launches {
				if f.Attempt != i+1 || !f.Due.Equal(due) || !f.Deadline.Equal(due.Add(5*time.Minute)) {
					t.Errorf("launch %d = %+v", i, f)
				}
			}
			if !equalMissed(missed, tt.wantMissed) {
				t.Errorf("missed = %+v, want %+v", missed, tt.wantMissed)
			}
			for _, m := range missed {
				if !errors.Is(m.Err, errWind) {
					t.Errorf("Missed.Err = %v, want the launch error", m.Err)
				}
			}
		})
	}
}

func equalMissed(a, b []Missed) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Entry != y.Entry || x.Route != y.Route || !x.Due.Equal(y.Due) || x.Reason != y.Reason || x.Attempts != y.Attempts || x.Count != y.Count {
			return false
		}
	}
	return true
}

func TestSchedulerRestartCatchUp(t *testing.T) {
	loc := berlin(t)
	// Down from 19:30 to 22:04 Berlin: 20:00 is past its 5-minute default
	// grace (missed), 22:00 is inside it (flown at once, marked CatchUp).
	entries := mustEntries(t, `[{"name":"night","route":"oldtown","every":"2h","between":"20:00-05:00","time_zone":"Europe/Berlin"},
		{"name":"new","route":"market","cron":"0 12 * * *","time_zone":"Europe/Berlin"}]`)
	now := time.Date(2026, 12, 5, 22, 4, 0, 0, loc)
	last := map[string]time.Time{"night": time.Date(2026, 12, 5, 4, 0, 0, 0, loc)}
	h := start(t, now, Options{Entries: entries, LastRun: last}, nil)
	defer h.stop()
	launches, missed := h.rec.snapshot()
	want := []Missed{{Entry: "night", Route: "oldtown", Due: time.Date(2026, 12, 5, 20, 0, 0, 0, loc), Reason: ReasonAgentDown, Count: 1}}
	if !equalMissed(missed, want) {
		t.Errorf("missed = %+v, want %+v", missed, want)
	}
	if len(launches) != 1 || !launches[0].CatchUp || !launches[0].Due.Equal(time.Date(2026, 12, 5, 22, 0, 0, 0, loc)) {
		t.Errorf("launches = %+v, want the 22:00 catch-up", launches)
	}
}

func TestSchedulerCatchUpSummary(t *testing.T) {
	entries := mustEntries(t, `[{"name":"e","route":"r","every":"10m","grace":"1m"}]`)
	now := time.Date(2026, 12, 5, 12, 5, 0, 0, time.UTC)
	last := map[string]time.Time{"e": now.Add(-24*time.Hour - 5*time.Minute)} // 144 firings passed
	h := start(t, now, Options{Entries: entries, LastRun: last, MaxCatchUp: 10}, nil)
	defer h.stop()
	_, missed := h.rec.snapshot()
	total := 0
	for _, m := range missed {
		total += m.Count
	}
	if len(missed) != 11 || total != 144 || missed[10].Count != 134 {
		t.Errorf("%d missed reports covering %d firings (last %+v), want 11 covering 144", len(missed), total, missed[len(missed)-1])
	}
}

func TestSchedulerSupersededRemovedRestarted(t *testing.T) {
	busy := errors.New("dock busy")
	entries := mustEntries(t, `[{"name":"a","route":"r","every":"1h","grace":"2h"},{"name":"b","route":"r","every":"1h","grace":"2h"}]`)
	now := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	h := start(t, now, Options{Entries: entries, Retry: 10 * time.Minute}, func(Firing) error { return busy })
	h.advanceTo(time.Date(2026, 12, 5, 11, 5, 0, 0, time.UTC), time.Minute)
	_, missed := h.rec.snapshot()
	// 10:00 of both superseded by 11:00.
	if len(missed) != 2 || missed[0].Reason != ReasonSuperseded+" (last: dock busy)" || missed[0].Due.Hour() != 10 {
		t.Fatalf("missed = %+v, want a and b at 10:00 superseded", missed)
	}
	if err := h.s.SetEntries(t.Context(), entries[:1]); err != nil {
		t.Fatal(err)
	}
	h.advanceTo(time.Date(2026, 12, 5, 11, 6, 0, 0, time.UTC), time.Minute)
	_, missed = h.rec.snapshot()
	if len(missed) != 3 || missed[2].Entry != "b" || missed[2].Reason != ReasonRemoved {
		t.Fatalf("missed = %+v, want b removed", missed)
	}
	h.stop()
	_, missed = h.rec.snapshot()
	if len(missed) != 3 {
		t.Fatalf("missed after stop = %+v, want no new report", missed)
	}
	// Restarted 5 minutes later with the last handled due time: the 11:00
	// firing of a is still inside its grace and runs at once.
	last := map[string]time.Time{"a": missed[0].Due}
	h2 := start(t, time.Date(2026, 12, 5, 11, 11, 0, 0, time.UTC), Options{Entries: entries[:1], LastRun: last}, nil)
	defer h2.stop()
	launches, missed := h2.rec.snapshot()
	if len(missed) != 0 || len(launches) != 1 || !launches[0].CatchUp || launches[0].Due.Hour() != 11 {
		t.Errorf("after restart launches %+v, missed %+v, want the 11:00 catch-up", launches, missed)
	}
}

func TestNewSchedulerRefusesBadEntries(t *testing.T) {
	clock := clockwork.NewFakeClock()
	noop := func(context.Context, Firing) error { return nil }
	good := mustEntries(t, `[{"name":"a","route":"r","cron":"@daily"}]`)
	tests := []struct {
		name    string
		entries []Entry
	}{
		{"not compiled", []Entry{{Name: "a", Route: "r", Cron: "@daily"}}},
		{"duplicate names", append(good, good...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewScheduler(Options{Clock: clock, Entries: tt.entries}, noop, func(Missed) {}); err == nil {
				t.Error("NewScheduler() = nil error")
			}
		})
	}
}
