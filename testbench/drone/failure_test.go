package drone

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/jonboulle/clockwork"
)

func TestLostAckRetryIsAnsweredNotRerun(t *testing.T) {
	r := newRig(t, Options{})
	r.setMode(ModeGuided)
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.sim.DropCommandAcks(1)
	r.send(&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_NAV_TAKEOFF, Param7: 15})
	r.barrier()
	if _, ok := r.cl.waitFor(isMsg(77), 200*time.Millisecond); ok {
		t.Fatal("COMMAND_ACK arrived although it was to be lost")
	}
	r.advance(time.Second, 100*time.Millisecond) // the vehicle is climbing: a second take-off would fail
	if st := r.sim.State(); st.Landed != mavlink.MAV_LANDED_STATE_TAKEOFF {
		t.Fatalf("landed state %v, want TAKEOFF: the command ran", st.Landed)
	}
	if got := r.commandConf(1, mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 15); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Errorf("retry (confirmation 1) = %v, want the first answer ACCEPTED", got)
	}
	// A new command (confirmation 0) runs again, and fails in the air.
	if got := r.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 15); got != mavlink.MAV_RESULT_FAILED {
		t.Errorf("second take-off = %v, want FAILED", got)
	}
}

func TestLowBatteryTriggersRTL(t *testing.T) {
	r := newRig(t, Options{})
	r.takeOff(20)
	r.sim.SetBatteryPct(21)
	r.advanceUntil("low battery failsafe", 2*time.Minute, 500*time.Millisecond, func(st State) bool { return st.Mode == ModeRTL })
	r.text("Battery 1 is low")
	if st := r.sim.State(); st.BatteryPct > 20.1 {
		t.Errorf("failsafe at %.1f %%, want at BATT_LOW_MAH (20 %%)", st.BatteryPct)
	}
}

func TestGPSLossInFlightLandsDrifting(t *testing.T) {
	r := newRig(t, Options{})
	r.sim.SetWind(6, 0) // from the north
	r.takeOff(20)
	r.sim.SetPilotThrottle(0.5) // a pilot holds the altitude: LOITER without one descends
	r.setMode(ModeLoiter)
	start := r.sim.State()
	r.advance(20*time.Second, 200*time.Millisecond)
	if st := r.sim.State(); distM(st.Lat, st.Lon, start.Lat, start.Lon) > 1 || math.Abs(st.RelAltM-start.RelAltM) > 0.6 {
		t.Errorf("LOITER in 6 m/s wind with the throttle centred: moved %.1f m, altitude %.1f -> %.1f m; want under 1 m, same altitude",
			distM(st.Lat, st.Lon, start.Lat, start.Lon), start.RelAltM, st.RelAltM)
	}
	r.sim.SetGPSLost(true)
	r.advance(1200*time.Millisecond, 100*time.Millisecond)
	if st := r.sim.State(); st.Mode != ModeLand {
		t.Fatalf("mode %v 1.2 s after GPS loss, want LAND (EKF failsafe)", st.Mode)
	}
	r.text("EKF Failsafe")
	st := r.advanceUntil("land", 2*time.Minute, 500*time.Millisecond, func(st State) bool { return !st.Armed })
	n := rad(st.Lat-start.Lat) * earthRadius
	if n > -20 {
		t.Errorf("landed %.1f m north of the loiter point, want blown south by the wind", n)
	}
	var gps mavlink.GPSRawInt
	r.mustCommand(mavlink.MAV_CMD_REQUEST_MESSAGE, 24)
	r.wait("GPS_RAW_INT", isMsg(24)).decode(t, &gps)
	if gps.FixType != mavlink.GPS_FIX_TYPE_NO_FIX || gps.SatellitesVisible != 0 {
		t.Errorf("GPS_RAW_INT fix %v sats %d, want no fix", gps.FixType, gps.SatellitesVisible)
	}
}

func TestAltHoldDriftsWithWind(t *testing.T) {
	r := newRig(t, Options{})
	r.sim.SetWind(4, 90) // from the east
	r.takeOff(15)
	r.sim.SetPilotThrottle(0.5) // centred: hold the altitude
	r.setMode(ModeAltHold)
	start := r.sim.State()
	r.advance(10*time.Second, 200*time.Millisecond)
	st := r.sim.State()
	e := rad(st.Lon-start.Lon) * earthRadius * math.Cos(rad(st.Lat))
	if e > -30 || math.Abs(st.RelAltM-start.RelAltM) > 0.5 {
		t.Errorf("ALT_HOLD in 4 m/s easterly wind: %.1f m east, alt %.1f -> %.1f; want ~40 m west at constant altitude", e, start.RelAltM, st.RelAltM)
	}
	if st.BatteryPct >= start.BatteryPct {
		t.Error("battery did not drain in flight")
	}
}

func TestBatteryDrainGrowsWithWind(t *testing.T) {
	use := func(wind float64) float64 {
		r := newRig(t, Options{})
		r.sim.SetWind(wind, 0)
		r.takeOff(10)
		before := r.sim.State().BatteryPct
		r.advance(60*time.Second, 500*time.Millisecond)
		return before - r.sim.State().BatteryPct
	}
	calm, windy := use(0), use(10)
	if calm <= 0 || windy < calm*1.2 {
		t.Errorf("battery used hovering a minute: calm %.2f %%, 10 m/s wind %.2f %%; want more in wind", calm, windy)
	}
}

func TestLinkDrop(t *testing.T) {
	r := newRig(t, Options{})
	r.advance(time.Second, 100*time.Millisecond)
	r.barrier()
	r.sim.DropLink(3 * time.Second)
	if !r.sim.State().LinkDown {
		t.Fatal("State().LinkDown false during a drop")
	}
	mark := r.cl.mark()
	r.cl.skip()
	before := r.sim.Links()[0].Frames
	r.send(&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_DO_SET_MODE,
		Param1: float32(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), Param2: float32(ModeGuided)})
	r.received(before + 1) // in, and ignored, during the drop
	r.advance(2*time.Second, 100*time.Millisecond)
	if _, ok := r.cl.waitFor(func(rx) bool { return true }, 300*time.Millisecond); ok {
		t.Fatalf("frames %v arrived during the drop", r.cl.since(mark))
	}
	if st := r.sim.State(); st.Mode != ModeStabilize {
		t.Errorf("mode %v: a command sent during the drop ran", st.Mode)
	}
	var last uint8
	for _, g := range r.cl.since(0) {
		last = g.seq
	}
	r.advance(2*time.Second, 100*time.Millisecond)
	g := r.wait("heartbeat after the drop", isMsg(0))
	if gap := g.seq - last; gap < 2 {
		t.Errorf("sequence went %d -> %d after the drop, want a gap for the lost frames", last, g.seq)
	}
	r.mustCommand(mavlink.MAV_CMD_DO_SET_MODE, float32(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), float32(ModeGuided))
}

func TestServeSurvivesUnplugAndAgentRestart(t *testing.T) {
	r := newRig(t, Options{})
	r.mustCommand(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 33, 500000)

	// The agent dies: its port closes; the world and the link go on.
	r.cl.close()
	r.advance(5*time.Second, 100*time.Millisecond)
	r.cl = r.open()
	r.advance(time.Second, 100*time.Millisecond)
	r.cl.skip()
	r.advance(time.Second, 100*time.Millisecond)
	r.wait("GLOBAL_POSITION_INT after an agent restart (streams kept)", isMsg(33))

	// The USB adapter is pulled and put back.
	r.cl.close()
	if err := r.pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	r.advance(3*time.Second, 100*time.Millisecond)
	if err := r.pair.Replug(); err != nil {
		t.Fatal(err)
	}
	r.cl = r.open()
	r.advance(2*time.Second, 100*time.Millisecond)
	r.wait("heartbeat after replug", isMsg(0))
	r.mustCommand(mavlink.MAV_CMD_DO_SET_MODE, float32(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), float32(ModeGuided))
	if n := len(r.sim.Links()); n != 1 {
		t.Errorf("%d links served, want the one", n)
	}
}

func TestLoadStreamAndWriteCallback(t *testing.T) {
	var mu sync.Mutex
	var written int
	var lastAt time.Time
	opts := Options{OnFrameWritten: func(frame []byte, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if len(frame) < 12 || frame[0] != mavlink.MagicV2 {
			panic("callback got a partial frame") // the test goroutine reports the count mismatch
		}
		written++
		lastAt = at
	}}
	r := newRig(t, opts)
	r.barrier()
	r.sim.SetLoadRate(3000)
	mark := r.cl.mark()
	// One simulated second in 20 ms steps; after each, the reader catches
	// up with what the simulator wrote (a fake clock would otherwise push
	// 3000 frames through the pty faster than a loaded machine reads them,
	// and the simulator drops what the pty cannot take, as it should).
	for range 50 {
		r.block()
		r.clk.Advance(20 * time.Millisecond)
		r.block()
		deadline := time.Now().Add(ioWait)
		for uint64(r.cl.mark()) < r.sim.Links()[0].Sent && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond) // polling the reader with a deadline, not synchronising
		}
	}
	r.sim.SetLoadRate(0)
	r.barrier()
	got := r.cl.since(mark)
	load := count(got, 30) + count(got, 33) + count(got, 74) + count(got, 1)
	if load < 2990 || load > 3010 {
		t.Errorf("load stream: %d frames in 1 s, want 3000", load)
	}
	seqOK := true
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			seqOK = false
		}
	}
	if !seqOK {
		t.Error("sequence numbers not consecutive under load")
	}
	st := r.sim.Links()[0]
	mu.Lock()
	defer mu.Unlock()
	if uint64(written) != st.Written || st.Dropped != 0 {
		t.Errorf("callback saw %d frames, link wrote %d and dropped %d", written, st.Written, st.Dropped)
	}
	// The write time is the simulator's clock time.
	if lastAt.Before(epoch.Add(time.Second)) || lastAt.After(r.clk.Now()) {
		t.Errorf("last write at %v, want within the simulated second ending %v", lastAt, r.clk.Now())
	}
}

// TestServeEndsWithDeadReader: nobody reads the pty (the agent died), the
// pty fills, frames are dropped, and Serve still ends on cancel; closing
// the pair releases the blocked writer (goleak checks it).
func TestServeEndsWithDeadReader(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	sim, err := New(Options{LoadRate: 3000, Logger: testLogger(t)}, clk)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pty.Open(pty.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = sim.Run(ctx)
	}()
	defer func() { <-runDone }()
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- sim.Serve(ctx, pair) }()
	deadline := time.Now().Add(ioWait)
	for len(sim.Links()) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("link not served")
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
	for range 100 { // 2 s at 3000 msg/s: far more than a pty holds
		if err := clk.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(20 * time.Millisecond)
	}
	deadline = time.Now().Add(ioWait)
	for sim.Links()[0].Dropped == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing dropped with nobody reading: %+v", sim.Links()[0])
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(ioWait):
		t.Fatal("Serve did not end with a blocked writer")
	}
}
