package physics

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
	"periph.io/x/conn/v3/gpio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)

func newDock(t *testing.T, opts Options) (*Dock, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	opts.Clock = clock
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, clock
}

func TestMotion(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		fault    func(d *Dock)
		motor    Signal
		limit    Signal
		wantTime time.Duration // 0: never arrives within 60 s
	}{
		{"lid opens in 12 s", Options{}, nil, LidOpenMotor, LidOpenLimit, 12 * time.Second},
		{"lid closes in 12 s", Options{LidOpen: true}, nil, LidCloseMotor, LidClosedLimit, 12 * time.Second},
		{"arms release in 4 s", Options{}, nil, ArmsReleaseMotor, ArmsReleasedLimit, 4 * time.Second},
		{"arms clamp in 4 s", Options{ArmsReleased: true}, nil, ArmsClampMotor, ArmsClampedLimit, 4 * time.Second},
		{"configured travel", Options{LidTravel: 5 * time.Second}, nil, LidOpenMotor, LidOpenLimit, 5 * time.Second},
		{"slow motor", Options{}, func(d *Dock) { d.SetSlowdown(AxisLid, 2) }, LidOpenMotor, LidOpenLimit, 24 * time.Second},
		{"lid stuck", Options{}, func(d *Dock) { d.SetStuck(AxisLid, true) }, LidOpenMotor, LidOpenLimit, 0},
		{"power loss", Options{}, func(d *Dock) { d.SetMains(false) }, ArmsReleaseMotor, ArmsReleasedLimit, 0},
		{"limit stuck low", Options{}, func(d *Dock) { d.StickInput(LidOpenLimit, gpio.Low) }, LidOpenMotor, LidOpenLimit, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, clock := newDock(t, tt.opts)
			if tt.fault != nil {
				tt.fault(d)
			}
			if err := d.Pin(tt.motor).Out(gpio.High); err != nil {
				t.Fatal(err)
			}
			var got time.Duration
			for step := 100 * time.Millisecond; clock.Since(t0) < time.Minute; {
				clock.Advance(step)
				if d.Pin(tt.limit).Read() {
					got = clock.Since(t0)
					break
				}
			}
			if got != tt.wantTime {
				t.Errorf("%s reached after %v, want %v (0: never)", tt.limit, got, tt.wantTime)
			}
			if len(d.Violations()) != 0 {
				t.Errorf("Violations() = %v, want none", d.Violations())
			}
		})
	}
}

func TestLimitChangeStampedAtArrival(t *testing.T) {
	d, clock := newDock(t, Options{})
	if err := d.Pin(ArmsReleaseMotor).Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second) // read long after the arrival
	var at time.Time
	for _, c := range d.History() {
		if c.Signal == ArmsReleasedLimit && c.Level {
			at = c.At
		}
	}
	if want := t0.Add(4 * time.Second); !at.Equal(want) {
		t.Errorf("arms_released_limit rose at %v, want %v", at, want)
	}
	if d.Pin(ArmsClampedLimit).Read() {
		t.Error("arms_clamped_limit still High after release")
	}
}

func TestBothMotorsOnIsAViolation(t *testing.T) {
	d, clock := newDock(t, Options{})
	_ = d.Pin(LidOpenMotor).Out(gpio.High)
	clock.Advance(time.Second)
	_ = d.Pin(LidCloseMotor).Out(gpio.High)
	v := d.Violations()
	if len(v) != 1 || !v[0].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("Violations() = %v, want one at t0+1s", v)
	}
	pos := d.Position(AxisLid)
	clock.Advance(time.Second)
	if got := d.Position(AxisLid); got != pos {
		t.Errorf("lid moved from %v to %v with both motors on", pos, got)
	}
}

func TestInputsAndEdges(t *testing.T) {
	d, clock := newDock(t, Options{VehiclePresent: true})
	estop := d.Pin(EStop)
	if err := estop.In(gpio.PullNoChange, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- estop.WaitForEdge(time.Second) }()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	d.SetEStop(true)
	if !<-done {
		t.Fatal("WaitForEdge on e-stop press = false, want true")
	}
	if !estop.Read() {
		t.Error("estop reads Low while pressed")
	}
	if err := estop.Out(gpio.High); err == nil {
		t.Error("Out on an input = nil, want an error")
	}
	// Charging needs the relay, mains and a vehicle.
	if err := d.Pin(ChargerEnable).Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if !d.Pin(ChargerStatus).Read() {
		t.Error("charger_status Low with relay on, mains and vehicle")
	}
	d.SetMains(false)
	if d.Pin(ChargerStatus).Read() || d.Pin(Mains).Read() {
		t.Error("charger_status or mains High after power loss")
	}
	d.SetRain(true)
	if !d.Pin(Rain).Read() {
		t.Error("rain Low after SetRain(true)")
	}
	// The history shows when the outputs changed, for "off within 100 ms".
	d.SetMains(true)
	clock.Advance(40 * time.Millisecond)
	_ = d.Pin(ChargerEnable).Out(gpio.Low)
	var pressed, off time.Time
	for _, c := range d.History() {
		switch {
		case c.Signal == EStop && bool(c.Level):
			pressed = c.At
		case c.Signal == ChargerEnable && !bool(c.Level):
			off = c.At
		}
	}
	if got := off.Sub(pressed); got != 40*time.Millisecond {
		t.Errorf("charger off %v after e-stop, want 40ms", got)
	}
}
