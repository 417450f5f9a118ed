package sortie_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/docktest"
	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/dock/sortie"
)

// BenchmarkQuote times Engine.Quote as the agent answers it (issue 17:
// <= 50 ms at the agent): the engine and the controller running on the
// real clock, each quote a round trip through the engine's loop, which
// computes the ETA, circle, energy and every preflight gate. Mixes: a
// ready dock, a dock whose gates block (battery, e-stop: more gates to
// report), and a point beyond the 5-minute circle (refused early).
func BenchmarkQuote(b *testing.B) {
	clock := clockwork.NewRealClock()
	ev := &events{}
	hw := docktest.NewHardware(clock, docktest.HardwareOptions{LidTravel: lidTravel, ArmsTravel: armsTravel})
	veh := docktest.NewVehicle()
	veh.Set(func(s *dock.VehicleState) {
		s.Lat, s.Lon, s.BatteryPct = home.Lat, home.Lon, 100
		s.HomeLat, s.HomeLon = home.Lat, home.Lon
	})
	opts := baseOptions(b.TempDir())
	logger := slog.New(slog.DiscardHandler)
	ctrl, err := dock.NewController(dock.ControllerOptions{
		Clock: clock, Logger: logger, LidTimeout: opts.Actuators.LidTimeout,
		ArmsTimeout: opts.Actuators.ArmsTimeout, ClearanceAltM: opts.Limits.ClearanceAltM,
		DockLat: home.Lat, DockLon: home.Lon,
	}, hw.Dock(), veh.State, ev)
	if err != nil {
		b.Fatalf("NewController() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ctrlDone := make(chan error, 1)
	go func() { ctrlDone <- ctrl.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ctrlDone; err != nil {
			b.Errorf("controller Run() = %v", err)
		}
	}()
	refresh := func() {
		ctrl.SetWeather(dock.Weather{WindMPS: 3, GustMPS: 5, DirDeg: 270, TempC: 10, HumidityPct: 60, At: clock.Now()}, nil)
		if _, err := ctrl.Refresh(ctx); err != nil {
			b.Fatalf("Refresh() = %v", err)
		}
	}
	refresh()
	opts.Clock, opts.Logger, opts.Hardware, opts.Vehicle, opts.Events = clock, logger, ctrl, veh, ev
	eng, err := sortie.New(opts)
	if err != nil {
		b.Fatalf("sortie.New() = %v", err)
	}
	engCtx, engCancel := context.WithCancel(ctx)
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(engCtx) }()
	defer func() {
		engCancel()
		if err := <-engDone; err != nil {
			b.Errorf("engine Run() = %v", err)
		}
	}()

	far := route.Destination(route.Point{Lat: home.Lat, Lon: home.Lon}, 45, 20000)
	for _, mix := range []struct {
		name     string
		setup    func()
		lat, lon float64
		check    func(q dock.QuoteResult, err error) bool
	}{
		{"ready", func() {}, target.Lat, target.Lon,
			func(q dock.QuoteResult, err error) bool { return err == nil && q.Ready }},
		{"gated", func() {
			veh.Set(func(s *dock.VehicleState) { s.BatteryPct = 20 })
			hw.Set(hw.EStop, true)
			refresh()
		}, target.Lat, target.Lon,
			func(q dock.QuoteResult, err error) bool { return err == nil && !q.Ready && len(q.Gates) >= 2 }},
		{"out_of_range", func() {}, far.Lat, far.Lon,
			func(_ dock.QuoteResult, err error) bool { return err != nil }},
	} {
		mix.setup()
		b.Run(mix.name, func(b *testing.B) {
			b.ReportAllocs()
			// The answer is checked once, outside the timed loop: a benchmark
			// of a quote that answers wrongly measures nothing.
			if q, err := eng.Quote(ctx, mix.lat, mix.lon, nil); !mix.check(q, err) {
				b.Fatalf("Quote() = %+v, %v: not the %s answer", q, err, mix.name)
			}
			var worst time.Duration
			for b.Loop() {
				t0 := clock.Now()
				if _, err := eng.Quote(ctx, mix.lat, mix.lon, nil); err != nil && mix.name != "out_of_range" {
					b.Fatal(err)
				}
				worst = max(worst, clock.Since(t0))
			}
			b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-ms")
		})
	}
}
