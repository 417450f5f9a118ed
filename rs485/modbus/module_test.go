package modbus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// fakeBus is an in-memory Bus whose inputs a test sets.
type fakeBus struct {
	mu     sync.Mutex
	inputs []bool
	coils  []bool
	err    error
	polls  int
	multi  int // WriteMultipleCoils requests
}

func (b *fakeBus) ReadDiscreteInputs(_ context.Context, unit uint8, start, count uint16) ([]bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.polls++
	if b.err != nil {
		return nil, b.err
	}
	return append([]bool(nil), b.inputs[start:start+count]...), nil
}

func (b *fakeBus) ReadCoils(_ context.Context, unit uint8, start, count uint16) ([]bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return nil, b.err
	}
	return append([]bool(nil), b.coils[start:start+count]...), nil
}

func (b *fakeBus) WriteSingleCoil(_ context.Context, unit uint8, addr uint16, on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.coils[addr] = on
	return nil
}

func (b *fakeBus) WriteMultipleCoils(_ context.Context, unit uint8, start uint16, values []bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.multi++
	if b.err != nil {
		return b.err
	}
	copy(b.coils[start:], values)
	return nil
}

func (b *fakeBus) set(f func(b *fakeBus)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// runModule starts m.Run and stops it when the test ends.
func runModule(t *testing.T, m *modbus.Module) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := m.Run(ctx); err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func newTestModule(t *testing.T) (*modbus.Module, *fakeBus, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	bus := &fakeBus{inputs: make([]bool, 8), coils: make([]bool, 8)}
	m, err := modbus.NewModule(modbus.ModuleOptions{Name: "io", Unit: 1, Inputs: 8, Coils: 8, ReadBackCoils: true, Clock: clock}, bus)
	if err != nil {
		t.Fatal(err)
	}
	return m, bus, clock
}

// tick advances the clock by one poll once waiters timers (Run's ticker
// included) are set, and waits until Run polled.
func tick(t *testing.T, clock *clockwork.FakeClock, bus *fakeBus, waiters int) {
	t.Helper()
	if err := clock.BlockUntilContext(t.Context(), waiters); err != nil {
		t.Fatal(err)
	}
	bus.mu.Lock()
	before := bus.polls
	bus.mu.Unlock()
	clock.Advance(modbus.DefaultPoll)
	waitFor(t, "poll after tick", func() bool {
		bus.mu.Lock()
		defer bus.mu.Unlock()
		return bus.polls > before
	})
}

// waitFor polls cond under a 2 s deadline: Run reacts on its own goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2 s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
}

func TestModuleInputsFollowPolls(t *testing.T) {
	m, bus, clock := newTestModule(t)
	if !m.Health().Stale {
		t.Error("Health().Stale before the first poll = false, want true")
	}
	runModule(t, m)
	in := m.Input(2)
	var _ gpio.PinIn = in
	if err := in.In(gpio.PullNoChange, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first poll", func() bool { return !m.Health().LastPoll.IsZero() })
	if in.Read() != gpio.Low {
		t.Fatalf("input 2 before the change = High, want Low")
	}

	edge := make(chan bool)
	go func() { edge <- in.WaitForEdge(time.Second) }()
	bus.set(func(b *fakeBus) { b.inputs[2] = true })
	// Run waits on its ticker, WaitForEdge on its timer.
	tick(t, clock, bus, 2)
	if !<-edge {
		t.Fatal("WaitForEdge = false, want true after the input rose")
	}
	if in.Read() != gpio.High {
		t.Errorf("input 2 after the poll = Low, want High")
	}
	if h := m.Health(); h.Stale || h.Err != nil {
		t.Errorf("Health() = %+v, want fresh", h)
	}

	// A falling edge is not reported with RisingEdge: WaitForEdge times out.
	go func() { edge <- in.WaitForEdge(100 * time.Millisecond) }()
	bus.set(func(b *fakeBus) { b.inputs[2] = false })
	tick(t, clock, bus, 2)
	waitFor(t, "input falls", func() bool { return in.Read() == gpio.Low })
	clock.Advance(100 * time.Millisecond)
	if <-edge {
		t.Error("WaitForEdge(rising) = true on a falling edge")
	}
}

func TestModuleInRearmsWaiter(t *testing.T) {
	m, _, _ := newTestModule(t)
	in := m.Input(0)
	done := make(chan bool)
	go func() { done <- in.WaitForEdge(-1) }()
	// Give the waiter time to park is not needed: In closes the channel it
	// read, or the waiter reads the new one and In is called again below.
	for {
		if err := in.In(gpio.Float, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-done:
			if got {
				t.Error("WaitForEdge woken by In = true, want false")
			}
			if err := in.In(gpio.PullUp, gpio.NoEdge); err == nil {
				t.Error("In(PullUp) = nil, want an error (no pull on a Modbus input)")
			}
			return
		case <-time.After(10 * time.Millisecond): // retry In until the waiter parked
		}
	}
}

func TestModuleHealthGoesStale(t *testing.T) {
	m, bus, clock := newTestModule(t)
	runModule(t, m)
	waitFor(t, "first poll", func() bool { return !m.Health().LastPoll.IsZero() })
	bus.set(func(b *fakeBus) { b.err = modbus.ErrTimeout })
	for range 20 {
		tick(t, clock, bus, 1)
	}
	waitFor(t, "failures counted", func() bool { return m.Health().Failures >= 20 })
	h := m.Health()
	if !h.Stale || !errors.Is(h.Err, modbus.ErrTimeout) {
		t.Errorf("Health() after 20 failed polls = %+v, want stale with ErrTimeout", h)
	}
	bus.set(func(b *fakeBus) { b.err = nil })
	tick(t, clock, bus, 1)
	waitFor(t, "recovery", func() bool { return !m.Health().Stale })
	if h := m.Health(); h.Failures != 0 || h.Err != nil {
		t.Errorf("Health() after recovery = %+v, want no failures", h)
	}
}

func TestModuleCoils(t *testing.T) {
	m, bus, _ := newTestModule(t)
	c := m.Output(4)
	var _ gpio.PinIO = c
	if err := c.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	bus.mu.Lock()
	on := bus.coils[4]
	bus.mu.Unlock()
	if !on || c.Read() != gpio.High {
		t.Errorf("after Out(High): coil %v, Read %v; want both on", on, c.Read())
	}
	bus.set(func(b *fakeBus) { b.err = errors.New("port gone") })
	if err := c.Out(gpio.Low); err == nil {
		t.Error("Out(Low) on a failing bus = nil, want the error")
	}
	if c.Read() != gpio.High {
		t.Error("Read after a failed Out changed the level")
	}
	bus.set(func(b *fakeBus) { b.err = nil })
	if err := m.Halt(); err != nil {
		t.Fatal(err)
	}
	bus.mu.Lock()
	defer bus.mu.Unlock()
	for i, on := range bus.coils {
		if on {
			t.Errorf("coil %d on after Halt", i)
		}
	}
	if err := c.In(gpio.Float, gpio.NoEdge); err == nil {
		t.Error("In on a coil = nil, want an error")
	}
}

func TestCutAllInOneRequest(t *testing.T) {
	m, bus, _ := newTestModule(t)
	for _, n := range []int{0, 3, 7} {
		if err := m.Output(n).Out(gpio.High); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.CutAll(); err != nil {
		t.Fatalf("CutAll() = %v", err)
	}
	bus.set(func(b *fakeBus) {
		if b.multi != 1 {
			t.Errorf("%d multiple-coil requests, want 1", b.multi)
		}
		for i, on := range b.coils {
			if on {
				t.Errorf("coil %d still on after CutAll", i)
			}
		}
	})
	for n := range 8 {
		if m.Output(n).Read() != gpio.Low {
			t.Errorf("coil %d reads High after CutAll", n)
		}
	}
	bus.set(func(b *fakeBus) { b.err = errors.New("bus dead") })
	if err := m.CutAll(); err == nil || !strings.Contains(err.Error(), "bus dead") {
		t.Errorf("CutAll() on a dead bus = %v, want the bus error", err)
	}
}

// A coil wired active-low drops its relay when energised: CutAll and Halt
// write its off level, High, and leave the other coils Low. Writing Low to
// it, as CutAll once did for every coil, would switch that relay on at an
// e-stop.
func TestCutAllAndHaltWriteEachCoilsOffLevel(t *testing.T) {
	m, bus, _ := newTestModule(t)
	m.Output(2).SetOffLevel(gpio.High)
	for _, n := range []int{0, 2} {
		if err := m.Output(n).Out(!m.Output(n).Read()); err != nil { // switch on
			t.Fatal(err)
		}
	}
	if err := m.CutAll(); err != nil {
		t.Fatalf("CutAll() = %v", err)
	}
	want := func(when string) {
		t.Helper()
		bus.set(func(b *fakeBus) {
			for i, on := range b.coils[:8] {
				if on != (i == 2) {
					t.Errorf("%s: coil %d = %v, want %v", when, i, on, i == 2)
				}
			}
		})
		if got := m.Output(2).Read(); got != gpio.High {
			t.Errorf("%s: active-low coil reads %s, want High (off)", when, got)
		}
	}
	want("after CutAll")
	if err := m.Output(2).Out(gpio.Low); err != nil { // on again
		t.Fatal(err)
	}
	if err := m.Halt(); err != nil {
		t.Fatalf("Halt() = %v", err)
	}
	want("after Halt")
}

// OnChange is called after the first poll, after a poll that saw an input
// change and after a recovery, and not after a poll that saw nothing new:
// the dock controller rests between its calls.
func TestModuleOnChange(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	bus := &fakeBus{inputs: make([]bool, 8), coils: make([]bool, 8)}
	var calls atomic.Int32
	m, err := modbus.NewModule(modbus.ModuleOptions{Name: "io", Unit: 1, Inputs: 8, Coils: 8, Clock: clock,
		OnChange: func() { calls.Add(1) }}, bus)
	if err != nil {
		t.Fatal(err)
	}
	runModule(t, m)
	waitFor(t, "first poll", func() bool { return !m.Health().LastPoll.IsZero() })
	if n := calls.Load(); n != 1 {
		t.Fatalf("OnChange calls after the first poll = %d, want 1", n)
	}
	tick(t, clock, bus, 1)
	tick(t, clock, bus, 1)
	if n := calls.Load(); n != 1 {
		t.Errorf("OnChange calls after two polls with nothing new = %d, want 1", n)
	}
	bus.set(func(b *fakeBus) { b.inputs[5] = true })
	tick(t, clock, bus, 1)
	waitFor(t, "OnChange after the input changed", func() bool { return calls.Load() == 2 })
	bus.set(func(b *fakeBus) { b.err = modbus.ErrTimeout })
	tick(t, clock, bus, 1)
	if n := calls.Load(); n != 2 {
		t.Errorf("OnChange calls after a failed poll = %d, want 2", n)
	}
	bus.set(func(b *fakeBus) { b.err = nil })
	tick(t, clock, bus, 1)
	waitFor(t, "OnChange after the poll recovered", func() bool { return calls.Load() == 3 })
}

// TestModuleIdlePoll: an idle module polls every IdlePoll; SetBusy(true)
// polls at once and every Poll from then on; SetBusy(false) goes back to
// IdlePoll after the next poll. Without an IdlePoll SetBusy changes
// nothing.
func TestModuleIdlePoll(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(t0)
	bus := &fakeBus{inputs: make([]bool, 8), coils: make([]bool, 8)}
	const poll, idle = 20 * time.Millisecond, 100 * time.Millisecond
	m, err := modbus.NewModule(modbus.ModuleOptions{Name: "io", Unit: 1, Inputs: 8, Clock: clock, Poll: poll, IdlePoll: idle}, bus)
	if err != nil {
		t.Fatal(err)
	}
	polls := func() int {
		bus.mu.Lock()
		defer bus.mu.Unlock()
		return bus.polls
	}
	// step waits until Run re-armed its timer after a poll, then advances.
	step := func(d time.Duration) {
		t.Helper()
		if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(d)
	}
	expect := func(what string, n int, at time.Duration) {
		t.Helper()
		waitFor(t, what, func() bool { return polls() >= n && !m.Health().LastPoll.Before(t0.Add(at)) })
		if got, last := polls(), m.Health().LastPoll.Sub(t0); got != n || last != at {
			t.Fatalf("%s: %d polls, the last at %v; want %d, at %v", what, got, last, n, at)
		}
	}
	runModule(t, m)
	expect("first poll", 1, 0)
	step(idle - poll) // an idle module does not poll at Poll
	step(poll)
	expect("idle poll", 2, idle)

	m.SetBusy(true)
	expect("poll at once when busy", 3, idle)
	step(poll)
	expect("busy poll", 4, idle+poll)
	step(poll)
	expect("busy poll", 5, idle+2*poll)

	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	m.SetBusy(false)
	step(poll) // armed while busy
	expect("last busy poll", 6, idle+3*poll)
	step(idle - poll)
	step(poll)
	expect("idle again", 7, 2*idle+3*poll)

	// Stale counts idle polls: five of them plus the bus timeout.
	if h := m.Health(); h.Stale {
		t.Fatalf("Health() = %+v right after a poll, want fresh", h)
	}
}

// Without an IdlePoll the module polls every Poll, busy or not.
func TestModuleNoIdlePoll(t *testing.T) {
	m, bus, clock := newTestModule(t)
	runModule(t, m)
	waitFor(t, "first poll", func() bool { return !m.Health().LastPoll.IsZero() })
	m.SetBusy(false)
	tick(t, clock, bus, 1)
	m.SetBusy(true)
	tick(t, clock, bus, 1)
	bus.mu.Lock()
	defer bus.mu.Unlock()
	if bus.polls != 3 {
		t.Fatalf("%d polls after the first and two ticks, want 3 (SetBusy without IdlePoll polls nothing extra)", bus.polls)
	}
}

// TestModuleIdleStale: an idle module counts as stale after StaleAfter plus
// five times IdlePoll - Poll without a good poll; once busy, after
// StaleAfter from the switch (the idle gap before it is no failure), unless
// it was stale at the switch already. Every poll after the first fails, so
// the last good poll stays at the start.
func TestModuleIdleStale(t *testing.T) {
	start := func(t *testing.T) (*modbus.Module, *clockwork.FakeClock) {
		clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
		bus := &fakeBus{inputs: make([]bool, 8), coils: make([]bool, 8)}
		m, err := modbus.NewModule(modbus.ModuleOptions{Name: "io", Unit: 1, Inputs: 8, Clock: clock,
			Poll: 20 * time.Millisecond, IdlePoll: 100 * time.Millisecond, StaleAfter: 100 * time.Millisecond}, bus)
		if err != nil {
			t.Fatal(err)
		}
		runModule(t, m)
		waitFor(t, "first poll", func() bool { return !m.Health().LastPoll.IsZero() })
		bus.set(func(b *fakeBus) { b.err = modbus.ErrTimeout })
		return m, clock
	}
	t.Run("idle, then busy", func(t *testing.T) {
		m, clock := start(t)
		clock.Advance(500 * time.Millisecond) // 100 ms + 5 x 80 ms
		if m.Health().Stale {
			t.Fatal("idle, stale 500 ms after the last good poll, want fresh until 500 ms have passed")
		}
		clock.Advance(time.Millisecond)
		if !m.Health().Stale {
			t.Fatal("idle, fresh 501 ms after the last good poll, want stale")
		}
		m.SetBusy(true)
		if !m.Health().Stale {
			t.Fatal("fresh after the switch to busy of a module stale while idle, want stale")
		}
	})
	t.Run("busy after an idle gap", func(t *testing.T) {
		m, clock := start(t)
		clock.Advance(400 * time.Millisecond)
		m.SetBusy(true)
		if m.Health().Stale {
			t.Fatal("stale at the switch to busy 400 ms after an idle poll, want StaleAfter from the switch")
		}
		clock.Advance(100 * time.Millisecond)
		if m.Health().Stale {
			t.Fatal("busy, stale 100 ms after the switch, want fresh until StaleAfter has passed")
		}
		clock.Advance(time.Millisecond)
		if !m.Health().Stale {
			t.Fatal("busy, fresh 101 ms after the switch with every poll failing, want stale")
		}
	})
}
