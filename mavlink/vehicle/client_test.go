package vehicle_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/transport"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Test timing: the real clock with short protocol timeouts, since the
// frames cross a real pty or socket. Waits are for conditions under a
// deadline, never sleeps.
func testOptions(t *testing.T) vehicle.Options {
	return vehicle.Options{
		Log:                slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		HeartbeatInterval:  40 * time.Millisecond,
		LinkTimeout:        400 * time.Millisecond,
		CommandTimeout:     400 * time.Millisecond,
		InProgressTimeout:  5 * time.Second,
		MissionTimeout:     300 * time.Millisecond,
		MissionItemTimeout: 100 * time.Millisecond,
	}
}

type rig struct {
	ap     *fakeAutopilot
	client *vehicle.Client
	link   *transport.Link
	pair   *pty.Pair
	sent   *frameLog
}

// frameLog records the message ids the client sent through OnSend.
type frameLog struct {
	mu  sync.Mutex
	ids []uint32
}

func (l *frameLog) add(raw []byte) {
	var f mavlink.Frame
	if _, err := mavlink.NewParser(mavlink.ParserOptions{}).Next(raw, true, &f); err == nil {
		l.mu.Lock()
		l.ids = append(l.ids, f.MsgID)
		l.mu.Unlock()
	}
}

// startRig runs a fake autopilot on a pty master and the client over a
// serial transport on its slave; setup may change the fake before it runs.
func startRig(t *testing.T, kind mavlink.MAVAutopilot, opts vehicle.Options, setup func(*fakeAutopilot)) *rig {
	t.Helper()
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "radio")})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{pair: pair, sent: &frameLog{}}
	r.ap = newFakeAutopilot(t, pair, kind)
	if setup != nil {
		setup(r.ap)
	}
	var client *vehicle.Client
	link, err := transport.New(transport.Serial, pair.Path(), transport.Options{Baud: 115200, OpenSerial: openSerial, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		OnFrame: func(f *mavlink.Frame) { client.Handle(f) }})
	if err != nil {
		t.Fatal(err)
	}
	opts.OnSend = r.sent.add
	client = vehicle.New(opts, link)
	r.client, r.link = client, link
	start(t, pair, r.ap, link, client)
	return r
}

// start runs everything and stops it at cleanup, in order.
func start(t *testing.T, closer interface{ Close() error }, ap *fakeAutopilot, link *transport.Link, client *vehicle.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(ap.run)
	wg.Go(func() { link.Run(ctx) })
	wg.Go(func() { client.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		closer.Close() // ends the fake's read
		wg.Wait()
	})
}

// waitState waits until cond holds for the client's state.
func waitState(t *testing.T, c *vehicle.Client, what string, cond func(vehicle.State) bool) vehicle.State {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := c.State()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; state %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond) // polling a snapshot under a deadline
	}
}

// waitFake waits until cond holds for the fake autopilot.
func waitFake(t *testing.T, a *fakeAutopilot, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		ok := cond()
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-a.changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for the autopilot: %s", what)
		}
	}
}

func TestDiscoveryStreamsAndState(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), func(a *fakeAutopilot) { a.customMode = 5 })
	waitFake(t, r.ap, "every default stream asked for", func() bool { return len(r.ap.intervals) == len(vehicle.DefaultStreams()) })
	r.ap.with(func() {
		if got := r.ap.intervals[33]; got != 250000 {
			t.Errorf("GLOBAL_POSITION_INT interval = %v µs, want 250000 (4 Hz)", got)
		}
		if len(r.ap.dataStreams) != 0 {
			t.Errorf("REQUEST_DATA_STREAM sent although intervals were accepted: %v", r.ap.dataStreams)
		}
	})
	s := waitState(t, r.client, "telemetry and home", func(s vehicle.State) bool {
		return s.PositionKnown && s.HomeKnown && s.EKFKnown && len(s.StatusTexts) > 0 && s.GPS.Sats >= 0
	})
	if !s.Alive || s.Autopilot != vehicle.ArduPilot || s.VehicleType != mavlink.MAV_TYPE_QUADROTOR || s.SysID != 1 || s.Mode != "LOITER" {
		t.Errorf("link state = alive %v %v %v sys %d mode %q, want alive ArduPilot quadrotor sys 1 LOITER", s.Alive, s.Autopilot, s.VehicleType, s.SysID, s.Mode)
	}
	want := vehicle.State{Lat: 52.52, Lon: 13.405, AltM: 54, RelAltM: 20, HeadingDeg: 90, YawDeg: 270, GroundSpeedMPS: 3, ClimbMPS: 0.5,
		VelNorthMPS: 3, Battery: vehicle.Battery{Pct: 87, VoltageV: 16.1, CurrentA: 12.5},
		GPS: vehicle.GPS{Fix: mavlink.GPS_FIX_TYPE_3D_FIX, Sats: 14, HDOP: 0.8}, Landed: mavlink.MAV_LANDED_STATE_IN_AIR,
		Home: vehicle.Position{Lat: 52.52, Lon: 13.405, AltM: 34}, MissionCurrent: 2, MissionTotal: 5}
	got := vehicle.State{Lat: s.Lat, Lon: s.Lon, AltM: s.AltM, RelAltM: s.RelAltM, HeadingDeg: s.HeadingDeg, YawDeg: round(s.YawDeg),
		GroundSpeedMPS: s.GroundSpeedMPS, ClimbMPS: s.ClimbMPS, VelNorthMPS: s.VelNorthMPS, Battery: s.Battery, GPS: s.GPS,
		Landed: s.Landed, Home: s.Home, MissionCurrent: s.MissionCurrent, MissionTotal: s.MissionTotal}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("State() differs (-want +got):\n%s", d)
	}
	if !s.EKFHealthy || !s.PrearmKnown || !s.PrearmHealthy || s.StatusTexts[0].Text != "PreArm: ready" {
		t.Errorf("health = EKF %v prearm %v/%v text %q, want healthy and the status text", s.EKFHealthy, s.PrearmKnown, s.PrearmHealthy, s.StatusTexts[0].Text)
	}
	r.sent.mu.Lock()
	hbs := 0
	for _, id := range r.sent.ids {
		if id == 0 {
			hbs++
		}
	}
	r.sent.mu.Unlock()
	if hbs == 0 {
		t.Error("OnSend saw no heartbeat of ours")
	}
}

func round(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

func TestStreamFallbackToRequestDataStream(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), func(a *fakeAutopilot) { a.noIntervals = true })
	waitFake(t, r.ap, "data streams asked for", func() bool { return len(r.ap.dataStreams) == 5 })
	r.ap.with(func() {
		want := map[uint8]uint16{2: 1, 6: 4, 10: 4, 11: 2, 12: 1}
		for id, rate := range want {
			if r.ap.dataStreams[id] != rate {
				t.Errorf("stream %d at %d Hz, want %d Hz (all: %v)", id, r.ap.dataStreams[id], rate, r.ap.dataStreams)
			}
		}
	})
	waitState(t, r.client, "telemetry", func(s vehicle.State) bool { return s.PositionKnown })
}

func TestLinkLossAndRecovery(t *testing.T) {
	var mu sync.Mutex
	var events []bool
	opts := testOptions(t)
	opts.OnLink = func(alive bool) { mu.Lock(); events = append(events, alive); mu.Unlock() }
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, opts, nil)
	waitFake(t, r.ap, "streams set up", func() bool { return len(r.ap.intervals) == 10 })
	if err := r.pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.client, "link lost", func(s vehicle.State) bool { return !s.Alive })
	r.ap.with(func() { clear(r.ap.intervals) })
	if err := r.pair.Replug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.client, "link alive again", func(s vehicle.State) bool { return s.Alive })
	waitFake(t, r.ap, "streams set up again", func() bool { return len(r.ap.intervals) == 10 })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(events, []bool{true, false, true}) {
		t.Errorf("OnLink events = %v, want alive, lost, alive", events)
	}
	if s := r.link.Stats(); s.Reopens != 1 {
		t.Errorf("transport reopens = %d, want 1", s.Reopens)
	}
}

func TestLossFromSequenceGaps(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), func(a *fakeAutopilot) { a.skipSeq = 1 })
	s := waitState(t, r.client, "loss measured", func(s vehicle.State) bool { return s.PositionKnown && s.LossPct > 40 })
	if s.LossPct > 51 {
		t.Errorf("LossPct = %.1f with every other frame missing, want about 50", s.LossPct)
	}
}

func TestCommandRetriesWhenAcksDropped(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), nil)
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	ctx := t.Context()

	r.ap.with(func() { r.ap.dropAcks[mavlink.MAV_CMD_COMPONENT_ARM_DISARM] = 2 })
	if err := r.client.Arm(ctx); err != nil {
		t.Fatalf("Arm() with 2 ACKs lost = %v, want nil", err)
	}
	r.ap.with(func() {
		var conf []uint8
		for _, c := range r.ap.commands {
			if c.Command == mavlink.MAV_CMD_COMPONENT_ARM_DISARM {
				conf = append(conf, c.Confirmation)
				if c.Param2 != 0 {
					t.Errorf("arm sent with param2 %v, want 0 (never forced)", c.Param2)
				}
			}
		}
		if !slices.Equal(conf, []uint8{0, 1, 2}) {
			t.Errorf("confirmations sent = %v, want [0 1 2]", conf)
		}
	})

	r.ap.with(func() { r.ap.dropAcks[mavlink.MAV_CMD_COMPONENT_ARM_DISARM] = 3 })
	err := r.client.Disarm(ctx)
	if !errors.Is(err, vehicle.ErrTimeout) {
		t.Fatalf("Disarm() with every ACK lost = %v, want ErrTimeout", err)
	}
}

func TestCommandDenied(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), func(a *fakeAutopilot) {
		a.refuse[mavlink.MAV_CMD_COMPONENT_ARM_DISARM] = mavlink.MAV_RESULT_DENIED
	})
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	err := r.client.Arm(t.Context())
	ce, ok := errors.AsType[*vehicle.CommandError](err)
	if !ok || ce.Result != mavlink.MAV_RESULT_DENIED {
		t.Fatalf("Arm() refused = %v, want a *CommandError with MAV_RESULT_DENIED", err)
	}
	if got, want := ce.Error(), "MAV_CMD_COMPONENT_ARM_DISARM: MAV_RESULT_DENIED"; got != want {
		t.Errorf("CommandError text = %q, want %q", got, want)
	}
}

func TestCommandInProgressWaitsLonger(t *testing.T) {
	opts := testOptions(t)
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, opts, func(a *fakeAutopilot) {
		// The final ACK comes ~20 heartbeats (800 ms) later: twice
		// the 400 ms command timeout.
		a.inProgress[mavlink.MAV_CMD_NAV_TAKEOFF] = 20
		a.armed = true
	})
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	if err := r.client.Takeoff(t.Context(), 15); err != nil {
		t.Fatalf("Takeoff() answered IN_PROGRESS then ACCEPTED = %v, want nil", err)
	}
	r.ap.with(func() {
		n := 0
		for _, c := range r.ap.commands {
			if c.Command == mavlink.MAV_CMD_NAV_TAKEOFF {
				n++
				if c.Param7 != 15 {
					t.Errorf("takeoff altitude %v, want 15", c.Param7)
				}
			}
		}
		if n != 1 {
			t.Errorf("takeoff sent %d times, want once (no resend after IN_PROGRESS)", n)
		}
	})
}

func TestOperationsArduPilot(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), nil)
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	ctx := t.Context()
	c := r.client
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s = %v", what, err)
		}
	}
	must("SetMode(GUIDED)", c.SetMode(ctx, "GUIDED"))
	waitState(t, c, "mode GUIDED", func(s vehicle.State) bool { return s.Mode == "GUIDED" })
	must("Arm()", c.Arm(ctx))
	waitState(t, c, "armed", func(s vehicle.State) bool { return s.Armed })
	must("Takeoff(20)", c.Takeoff(ctx, 20))
	must("GoTo()", c.GoTo(ctx, 52.5301, 13.4102, 35))
	if err := c.SetMode(ctx, "LOITER"); !errors.Is(err, vehicle.ErrPilotMode) {
		t.Fatalf("SetMode(LOITER) = %v, want ErrPilotMode", err)
	}
	must("SetSpeed(15)", c.SetSpeed(ctx, 15))
	must("StartMission()", c.StartMission(ctx))
	must("ReturnToLaunch()", c.ReturnToLaunch(ctx))
	waitState(t, c, "mode RTL", func(s vehicle.State) bool { return s.Mode == "RTL" })
	must("Land()", c.Land(ctx))
	waitState(t, c, "mode LAND", func(s vehicle.State) bool { return s.Mode == "LAND" })
	must("SetHomeHere()", c.SetHomeHere(ctx))
	must("Disarm()", c.Disarm(ctx))

	r.ap.with(func() {
		var reposition *mavlink.CommandInt
		for i := range r.ap.commandInts {
			if r.ap.commandInts[i].Command == mavlink.MAV_CMD_DO_REPOSITION {
				reposition = &r.ap.commandInts[i]
			}
		}
		if reposition == nil || reposition.X != 525301000 || reposition.Y != 134102000 || reposition.Z != 35 ||
			reposition.Frame != mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT {
			t.Errorf("reposition = %+v, want 52.5301,13.4102 at 35 m relative", reposition)
		}
		var speed, home *mavlink.CommandLong
		for i := range r.ap.commands {
			switch r.ap.commands[i].Command {
			case mavlink.MAV_CMD_DO_CHANGE_SPEED:
				speed = &r.ap.commands[i]
			case mavlink.MAV_CMD_DO_SET_HOME:
				home = &r.ap.commands[i]
			}
		}
		if speed == nil || speed.Param2 != 15 {
			t.Errorf("change speed = %+v, want param2 15 m/s", speed)
		}
		if home == nil || home.Param1 != 1 {
			t.Errorf("set home = %+v, want param1 1 (use current position)", home)
		}
	})

	v, err := c.GetParam(ctx, "RTL_ALT")
	if err != nil || v != 1500 {
		t.Fatalf("GetParam(RTL_ALT) = %v, %v; want 1500", v, err)
	}
	v, err = c.SetParam(ctx, "RTL_ALT", 3000)
	if err != nil || v != 3000 {
		t.Fatalf("SetParam(RTL_ALT, 3000) = %v, %v; want 3000", v, err)
	}
	if _, err := c.GetParam(ctx, "NO_SUCH_PARAM"); !errors.Is(err, vehicle.ErrTimeout) {
		t.Fatalf("GetParam(NO_SUCH_PARAM) = %v, want ErrTimeout", err)
	}
	if err := c.SetMode(ctx, "AUTO.MISSION"); err == nil {
		t.Fatal("SetMode(AUTO.MISSION) on ArduPilot succeeded, want an error")
	}
}

func TestGoToFallsBackToPositionTarget(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), func(a *fakeAutopilot) {
		a.refuse[mavlink.MAV_CMD_DO_REPOSITION] = mavlink.MAV_RESULT_UNSUPPORTED
	})
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	if err := r.client.GoTo(t.Context(), 52.53, 13.41, 30); err != nil {
		t.Fatalf("GoTo() = %v", err)
	}
	waitFake(t, r.ap, "position target", func() bool { return len(r.ap.positions) == 1 })
	r.ap.with(func() {
		p := r.ap.positions[0]
		if r.ap.customMode != 4 || p.LatInt != 525300000 || p.LonInt != 134100000 || p.Alt != 30 || p.TypeMask != 0x0FF8 {
			t.Errorf("mode %d target %+v, want GUIDED and 52.53,13.41 at 30 m, position only", r.ap.customMode, p)
		}
	})
}

func TestOperationsPX4(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_PX4, testOptions(t), func(a *fakeAutopilot) { a.customMode = 50593792 })
	s := waitState(t, r.client, "discovery and home", func(s vehicle.State) bool { return s.Alive && s.HomeKnown })
	if s.Autopilot != vehicle.PX4 || s.Mode != "AUTO.LOITER" {
		t.Fatalf("autopilot %v mode %q, want px4 AUTO.LOITER", s.Autopilot, s.Mode)
	}
	ctx := t.Context()
	if err := r.client.SetMode(ctx, "AUTO.MISSION"); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.client, "AUTO.MISSION", func(s vehicle.State) bool { return s.Mode == "AUTO.MISSION" })
	if err := r.client.ReturnToLaunch(ctx); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.client, "AUTO.RTL", func(s vehicle.State) bool { return s.Mode == "AUTO.RTL" })
	if err := r.client.Arm(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.client.Takeoff(ctx, 20); err != nil {
		t.Fatal(err)
	}
	r.ap.with(func() {
		var modeCmd, takeoff mavlink.CommandLong
		for _, c := range r.ap.commands {
			switch c.Command {
			case mavlink.MAV_CMD_DO_SET_MODE:
				if modeCmd.Command == 0 {
					modeCmd = c
				}
			case mavlink.MAV_CMD_NAV_TAKEOFF:
				takeoff = c
			}
		}
		if modeCmd.Param1 != 1 || modeCmd.Param2 != 4 || modeCmd.Param3 != 4 {
			t.Errorf("PX4 AUTO.MISSION sent as %v/%v/%v, want 1/4/4", modeCmd.Param1, modeCmd.Param2, modeCmd.Param3)
		}
		if takeoff.Param7 != 54 { // home 34 m AMSL + 20 m
			t.Errorf("PX4 takeoff altitude %v, want 54 (AMSL)", takeoff.Param7)
		}
	})
}

func missionItems() []vehicle.Item {
	return []vehicle.Item{
		vehicle.TakeoffItem(30),
		vehicle.ChangeSpeedItem(8),
		vehicle.WaypointItem(52.5210, 13.4100, 40, 5*time.Second),
		vehicle.LoiterTimeItem(52.5230, 13.4120, 40, 30*time.Second),
		vehicle.WaypointItem(52.5200, 13.4050, 40, 0),
		vehicle.ReturnToLaunchItem(),
	}
}

func TestMissionUploadWithLostRequests(t *testing.T) {
	opts := testOptions(t)
	opts.VerifyUpload = true
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, opts, func(a *fakeAutopilot) { a.dropRequests = 3 })
	waitState(t, r.client, "discovery and home", func(s vehicle.State) bool { return s.Alive && s.HomeKnown })
	ctx := t.Context()
	items := missionItems()
	if err := r.client.UploadMission(ctx, items); err != nil {
		t.Fatalf("UploadMission() with 3 requests lost = %v", err)
	}
	r.ap.with(func() {
		if len(r.ap.mission) != len(items)+1 {
			t.Fatalf("autopilot holds %d items, want %d (home + %d)", len(r.ap.mission), len(items)+1, len(items))
		}
		if home := r.ap.mission[0]; home.X != 525200000 || home.Command != mavlink.MAV_CMD_NAV_WAYPOINT {
			t.Errorf("item 0 = %+v, want home", home)
		}
		if wp := r.ap.mission[3]; wp.Command != mavlink.MAV_CMD_NAV_WAYPOINT || wp.Param1 != 5 || wp.X != 525210000 || wp.Z != 40 {
			t.Errorf("item 3 = %+v, want the waypoint with a 5 s hold", wp)
		}
		if r.ap.itemsSeen < len(items)+1 {
			t.Errorf("items sent %d, want at least %d", r.ap.itemsSeen, len(items)+1)
		}
	})
	got, err := r.client.DownloadMission(ctx)
	if err != nil || len(got) != len(items) || got[3].Command != mavlink.MAV_CMD_NAV_LOITER_TIME || got[3].Param1 != 30 {
		t.Fatalf("DownloadMission() = %+v, %v; want the %d items", got, err, len(items))
	}
	if err := r.client.ClearMission(ctx); err != nil {
		t.Fatalf("ClearMission() = %v", err)
	}
	r.ap.with(func() {
		if len(r.ap.mission) != 0 {
			t.Errorf("mission after clear has %d items", len(r.ap.mission))
		}
	})
}

func TestMissionUploadGivesUp(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), func(a *fakeAutopilot) { a.dropRequests = 1000 })
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	err := r.client.UploadMission(t.Context(), missionItems())
	if !errors.Is(err, vehicle.ErrTimeout) {
		t.Fatalf("UploadMission() with every request lost = %v, want ErrTimeout", err)
	}
	// MISSION_COUNT sent once plus 5 retries (the last may still be on
	// its way through the pty), and no more.
	waitFake(t, r.ap, "6 MISSION_COUNTs", func() bool { return r.ap.dropRequests <= 1000-6 })
	r.ap.with(func() {
		if r.ap.dropRequests != 1000-6 {
			t.Errorf("autopilot saw %d MISSION_COUNTs, want 6", 1000-r.ap.dropRequests)
		}
	})
}

func TestOverUDP(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ap := newFakeAutopilot(t, &udpPeer{c: pc}, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA)
	var client *vehicle.Client
	link, err := transport.New(transport.UDP, pc.LocalAddr().String(), transport.Options{OnFrame: func(f *mavlink.Frame) { client.Handle(f) }})
	if err != nil {
		t.Fatal(err)
	}
	client = vehicle.New(testOptions(t), link)
	start(t, pc, ap, link, client)
	waitState(t, client, "discovery over UDP", func(s vehicle.State) bool { return s.Alive && s.PositionKnown })
	if err := client.SetMode(t.Context(), "GUIDED"); err != nil {
		t.Fatal(err)
	}
	if err := client.Arm(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitState(t, client, "armed", func(s vehicle.State) bool { return s.Armed && s.Mode == "GUIDED" })
}

func TestNoVehicle(t *testing.T) {
	c := vehicle.New(vehicle.Options{}, nopSender{})
	if err := c.Arm(t.Context()); !errors.Is(err, vehicle.ErrNoVehicle) {
		t.Fatalf("Arm() before discovery = %v, want ErrNoVehicle", err)
	}
	if s := c.State(); s.Discovered || s.Battery.Pct != -1 || s.MissionReached != -1 {
		t.Fatalf("State() before discovery = %+v", s)
	}
}

type nopSender struct{}

func (nopSender) Write([]byte) error { return nil }

func TestDiscoveryIgnoresOthers(t *testing.T) {
	c := vehicle.New(vehicle.Options{}, nopSender{})
	feed := func(sys, comp uint8, m mavlink.Message) {
		t.Helper()
		raw, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: sys, CompID: comp}, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		var f mavlink.Frame
		if _, err := mavlink.NewParser(mavlink.ParserOptions{}).Next(raw, true, &f); err != nil {
			t.Fatal(err)
		}
		c.Handle(&f)
	}
	feed(255, 190, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GCS, Autopilot: mavlink.MAV_AUTOPILOT_INVALID})
	feed(1, 154, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_GIMBAL, Autopilot: mavlink.MAV_AUTOPILOT_INVALID})
	if c.State().Discovered {
		t.Fatal("a ground station or gimbal heartbeat discovered a vehicle")
	}
	feed(1, 1, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_HEXAROTOR, Autopilot: mavlink.MAV_AUTOPILOT_PX4, BaseMode: mavlink.MAV_MODE_FLAG_SAFETY_ARMED, CustomMode: 67371008})
	feed(1, 154, &mavlink.GlobalPositionInt{Lat: 1, Lon: 1})
	s := c.State()
	if !s.Discovered || s.Autopilot != vehicle.PX4 || s.VehicleType != mavlink.MAV_TYPE_HEXAROTOR || !s.Armed || s.Mode != "AUTO.MISSION" {
		t.Fatalf("State() = %+v, want an armed PX4 hexarotor in AUTO.MISSION", s)
	}
	if s.PositionKnown {
		t.Fatal("a gimbal's position was taken as the vehicle's")
	}
	feed(1, 1, &mavlink.GlobalPositionInt{Lat: 525200000, Lon: 1})
	if s := c.State(); !s.PositionKnown || s.Lat != 52.52 {
		t.Fatalf("autopilot position not taken: %+v", s)
	}
}

func TestSetupStreamsOnDemand(t *testing.T) {
	opts := testOptions(t)
	opts.Streams = []vehicle.Stream{{MsgID: 33, RateHz: 10}, {MsgID: 9999, RateHz: 1}}
	r := startRig(t, mavlink.MAV_AUTOPILOT_PX4, opts, func(a *fakeAutopilot) {
		a.refuse[mavlink.MAV_CMD_SET_MESSAGE_INTERVAL] = mavlink.MAV_RESULT_UNSUPPORTED
	})
	waitState(t, r.client, "discovery", func(s vehicle.State) bool { return s.Alive })
	err := r.client.SetupStreams(t.Context())
	if _, ok := errors.AsType[*vehicle.CommandError](err); !ok {
		t.Fatalf("SetupStreams() on a PX4 refusing intervals = %v, want the refusals (no fallback on PX4)", err)
	}
	r.ap.with(func() {
		if len(r.ap.dataStreams) != 0 {
			t.Errorf("REQUEST_DATA_STREAM sent to a PX4: %v", r.ap.dataStreams)
		}
	})
}

// TestSetStreamsReplacesTheSet: after SetStreams a set-up asks for the new
// set, a stream at 0 Hz turned off (interval -1), and a reboot's set-up
// asks for the new set too, not Options.Streams.
func TestSetStreamsReplacesTheSet(t *testing.T) {
	opts := testOptions(t)
	opts.Streams = []vehicle.Stream{{MsgID: 33, RateHz: 4}, {MsgID: 30, RateHz: 4}}
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, opts, nil)
	waitFake(t, r.ap, "first set up", func() bool { return r.ap.intervals[30] == 250000 })
	r.client.SetStreams([]vehicle.Stream{{MsgID: 33, RateHz: 1}, {MsgID: 30, RateHz: 0}})
	if err := r.client.SetupStreams(t.Context()); err != nil {
		t.Fatalf("SetupStreams() = %v", err)
	}
	r.ap.with(func() {
		if r.ap.intervals[33] != 1e6 || r.ap.intervals[30] != -1 {
			t.Errorf("intervals after SetStreams = %v, want 33 at 1e6 µs and 30 off (-1)", r.ap.intervals)
		}
		clear(r.ap.intervals)
	})
	if err := r.pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.client, "link lost", func(s vehicle.State) bool { return !s.Alive })
	if err := r.pair.Replug(); err != nil {
		t.Fatal(err)
	}
	waitFake(t, r.ap, "streams set up again", func() bool { return len(r.ap.intervals) == 2 })
	r.ap.with(func() {
		if r.ap.intervals[33] != 1e6 || r.ap.intervals[30] != -1 {
			t.Errorf("intervals after a reconnect = %v, want the set of SetStreams", r.ap.intervals)
		}
	})
}

// TestMissionUploadResetsReached: MISSION_ITEM_REACHED of the last flight
// is not progress of the mission uploaded after it.
func TestMissionUploadResetsReached(t *testing.T) {
	r := startRig(t, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, testOptions(t), nil)
	waitState(t, r.client, "discovery and home", func(s vehicle.State) bool { return s.Alive && s.HomeKnown })
	r.ap.with(func() { r.ap.send(&mavlink.MissionItemReached{Seq: 4}) })
	waitState(t, r.client, "item 4 reached", func(s vehicle.State) bool { return s.MissionReached == 4 })
	if err := r.client.UploadMission(t.Context(), missionItems()); err != nil {
		t.Fatalf("UploadMission() = %v", err)
	}
	if got := r.client.State().MissionReached; got != -1 {
		t.Errorf("MissionReached after a new upload = %d, want -1", got)
	}
}
