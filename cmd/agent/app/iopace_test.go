package app

import (
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/sortie"
	"github.com/dockagent/dock-agent/rs485/modbus"
)

// paceLog records, in order, the modules' busy switches and the motor
// writes.
type paceLog struct {
	mu  sync.Mutex
	got []string
}

func (l *paceLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, s)
}

func (l *paceLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.got
	l.got = nil
	return g
}

type busyRec struct{ l *paceLog }

func (b busyRec) SetBusy(busy bool) {
	if busy {
		b.l.add("busy")
	} else {
		b.l.add("idle")
	}
}

type motorRec struct {
	gpio.PinOut
	l *paceLog
}

func (m motorRec) Out(l gpio.Level) error { m.l.add("motor " + l.String()); return nil }

func wantLog(t *testing.T, l *paceLog, want ...string) {
	t.Helper()
	got := l.take()
	if len(got) != len(want) {
		t.Fatalf("log %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("log %q, want %q", got, want)
		}
	}
}

// TestIOPace: a motor going on makes the modules busy before it is
// written; they stay busy until config.IdleAfterMotion after the last
// motor went off, and while a sortie is active.
func TestIOPace(t *testing.T) {
	clock := clockwork.NewFakeClock()
	l := &paceLog{}
	p := &ioPace{clock: clock, mods: []busySetter{busyRec{l}}}
	lid := pacedMotor{PinOut: motorRec{l: l}, pace: p, bit: 1}
	arms := pacedMotor{PinOut: motorRec{l: l}, pace: p, bit: 2}

	if err := lid.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	wantLog(t, l, "busy", "motor High")
	arms.Out(gpio.High)
	lid.Out(gpio.Low)
	wantLog(t, l, "motor High", "motor Low") // still busy: the arms run
	arms.Out(gpio.Low)
	wantLog(t, l, "motor Low")
	clock.Advance(config.IdleAfterMotion - time.Millisecond)
	wantLog(t, l) // within the hold after the last motor
	lid.Out(gpio.High)
	lid.Out(gpio.Low)
	wantLog(t, l, "motor High", "motor Low")
	clock.Advance(time.Millisecond) // the first hold's end: stale
	wantLog(t, l)
	clock.Advance(config.IdleAfterMotion)
	waitPace(t, l, "idle")

	s := sortieWatch{Hardware: fakeSortieHW{}, hooks: []func(bool){p.setSortie}}
	s.SetSortie(&dock.SortieRef{ID: "s1"})
	wantLog(t, l, "busy")
	s.SetSortie(&dock.SortieRef{ID: "s1", Phase: "airborne"})
	wantLog(t, l)
	s.SetSortie(nil)
	wantLog(t, l, "idle")
}

// waitPace waits for the hold's end, which runs on the fake clock's
// AfterFunc goroutine.
func waitPace(t *testing.T, l *paceLog, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		l.mu.Lock()
		n := len(l.got)
		l.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
	wantLog(t, l, want)
}

// fakeSortieHW is the engine's hardware; only SetSortie is used.
type fakeSortieHW struct{ sortie.Hardware }

func (fakeSortieHW) SetSortie(*dock.SortieRef) {}

// TestNewIOPace: only buses with an idle_poll_interval are paced, and
// without one nothing is wrapped.
func TestNewIOPace(t *testing.T) {
	lidPin := &gpiotest.Pin{N: "lid"}
	hw := &hardware{modules: []*ioModule{{bus: "io", unit: 1, m: &modbus.Module{}}}}
	hw.pins.LidOpenMotor = lidPin
	cfg := &config.Config{Buses: map[string]config.Bus{"io": {PollInterval: 20 * time.Millisecond}}}
	if p := newIOPace(cfg, hw, clockwork.NewFakeClock()); p != nil {
		t.Fatalf("newIOPace without idle_poll_interval = %+v, want nil", p)
	}
	if hw.pins.LidOpenMotor != gpio.PinOut(lidPin) {
		t.Fatal("motor wrapped without idle_poll_interval")
	}
	cfg.Buses["io"] = config.Bus{PollInterval: 20 * time.Millisecond, IdlePollInterval: 40 * time.Millisecond}
	if p := newIOPace(cfg, hw, clockwork.NewFakeClock()); p == nil || len(p.mods) != 1 {
		t.Fatalf("newIOPace with idle_poll_interval = %+v, want the io module paced", p)
	}
	if _, ok := hw.pins.LidOpenMotor.(pacedMotor); !ok {
		t.Fatalf("lid motor %T, want paced", hw.pins.LidOpenMotor)
	}
}
