package vehicle_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/flightlog"
	"github.com/dockagent/dock-agent/mavlink/router"
	"github.com/dockagent/dock-agent/mavlink/tlog"
	"github.com/dockagent/dock-agent/mavlink/transport"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
	"github.com/dockagent/dock-agent/testbench/drone"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/dockagent/dock-agent/testbench/simclock"
)

// simSpeed runs the simulated drone this many times faster than real time,
// so a patrol of a few simulated minutes takes seconds.
const simSpeed = 30

// linkStack is the vehicle link wired as the agent wires it: the serial
// transport feeds the client, the router and the flight log; the client's
// own frames go to the router and the flight log too.
type linkStack struct {
	sim    *drone.Sim
	client *vehicle.Client
	router *router.Router
	rec    *flightlog.Recorder
	gcs    *net.UDPConn
	pair   *pty.Pair

	mu        sync.Mutex
	links     []bool // OnLink events
	intervals int    // SET_MESSAGE_INTERVAL commands sent
}

func startSimStack(t *testing.T) *linkStack {
	t.Helper()
	epoch := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	clk := simclock.New(time.Now(), epoch, simSpeed)
	sim, err := drone.New(drone.Options{Seed: 3, GPSNoiseM: -1}, clk)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "radio")})
	if err != nil {
		t.Fatal(err)
	}
	gcs, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := flightlog.New(flightlog.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := &linkStack{sim: sim, rec: rec, gcs: gcs, pair: pair}

	var client *vehicle.Client
	var rt *router.Router
	link, err := transport.New(transport.Serial, pair.Path(), transport.Options{Baud: 115200, OpenSerial: openSerial, OnFrame: func(f *mavlink.Frame) {
		client.Handle(f)
		rt.Forward(f.Raw)
		rec.Write(f.Raw)
	}})
	if err != nil {
		t.Fatal(err)
	}
	rt, err = router.New(router.Options{Endpoints: []router.Endpoint{{Name: "qgc", Addr: gcs.LocalAddr().String()}}}, link)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.HeartbeatInterval = 100 * time.Millisecond
	opts.CommandTimeout = 500 * time.Millisecond
	opts.MissionTimeout = 500 * time.Millisecond
	opts.MissionItemTimeout = 200 * time.Millisecond
	opts.VerifyUpload = true
	opts.OnSend = func(raw []byte) {
		rt.Forward(raw)
		rec.Write(raw)
		var f mavlink.Frame
		var cmd mavlink.CommandLong
		if _, err := mavlink.NewParser(mavlink.ParserOptions{}).Next(raw, true, &f); err == nil && f.MsgID == cmd.MsgID() {
			mavlink.DecodeMessage(&f, &cmd)
			if cmd.Command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL {
				s.mu.Lock()
				s.intervals++
				s.mu.Unlock()
			}
		}
	}
	opts.OnLink = func(alive bool) {
		s.mu.Lock()
		s.links = append(s.links, alive)
		s.mu.Unlock()
	}
	client = vehicle.New(opts, link)
	s.client, s.router = client, rt

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sim.Run(ctx) })
	wg.Go(func() { sim.Serve(ctx, pair) })
	wg.Go(func() { link.Run(ctx) })
	wg.Go(func() { rt.Run(ctx) })
	wg.Go(func() { client.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		pair.Close()
		gcs.Close()
	})
	return s
}

// waitSim waits (real time, bounded) until cond holds for the drone.
func waitSim(t *testing.T, sim *drone.Sim, what string, within time.Duration, cond func(drone.State) bool) drone.State {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := sim.State()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the drone: %s; state %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition under a deadline
	}
}

// offset returns the point north/east metres from p.
func offset(lat, lon, northM, eastM float64) (float64, float64) {
	const r = 6378137.0
	return lat + northM/r*180/math.Pi, lon + eastM/(r*math.Cos(lat*math.Pi/180))*180/math.Pi
}

func TestPatrolAgainstSimulator(t *testing.T) {
	s := startSimStack(t)
	c := s.client
	if _, err := s.rec.Start("sortie-1"); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, c, "discovery, streams and home", func(st vehicle.State) bool {
		return st.Alive && st.PositionKnown && st.HomeKnown && st.GPS.Fix >= mavlink.GPS_FIX_TYPE_3D_FIX
	})
	if st.Autopilot != vehicle.ArduPilot || st.Mode != "STABILIZE" || st.Armed {
		t.Fatalf("state %v %q armed %v, want a disarmed ArduPilot in STABILIZE", st.Autopilot, st.Mode, st.Armed)
	}

	// A ground station on UDP sees the vehicle's heartbeats through the router.
	buf := make([]byte, 512)
	s.gcs.SetReadDeadline(time.Now().Add(5 * time.Second))
	sawVehicle := false
	for !sawVehicle {
		n, err := s.gcs.Read(buf)
		if err != nil {
			t.Fatalf("ground station heard no vehicle heartbeat: %v", err)
		}
		var f mavlink.Frame
		if _, err := mavlink.NewParser(mavlink.ParserOptions{}).Next(buf[:n], true, &f); err == nil && f.MsgID == 0 && f.SysID == 1 {
			sawVehicle = true
		}
	}

	ctx := t.Context()
	home := st.Home
	eLat, eLon := offset(home.Lat, home.Lon, 0, 80)
	items := []vehicle.Item{
		vehicle.TakeoffItem(15),
		vehicle.ChangeSpeedItem(8),
		vehicle.WaypointItem(eLat, eLon, 20, 2*time.Second),
		vehicle.ReturnToLaunchItem(),
	}
	s.sim.DropMissionRequests(2) // lost on the radio: the client resends
	if err := c.UploadMission(ctx, items); err != nil {
		t.Fatalf("UploadMission() with 2 requests lost = %v", err)
	}
	if err := c.SetMode(ctx, "GUIDED"); err != nil {
		t.Fatal(err)
	}
	if err := c.Arm(ctx); err != nil {
		t.Fatalf("Arm() = %v", err)
	}
	if err := c.StartMission(ctx); err != nil {
		t.Fatalf("StartMission() = %v", err)
	}
	waitState(t, c, "climbing in AUTO", func(st vehicle.State) bool { return st.Mode == "AUTO" && st.RelAltM > 5 })
	waitState(t, c, "waypoint reached", func(st vehicle.State) bool { return st.MissionReached >= 3 })
	end := waitSim(t, s.sim, "landed at home and disarmed", 60*time.Second, func(st drone.State) bool { return !st.Armed && st.OnGroundAtHome })
	t.Logf("patrol flown: %v of simulated time", end.Time.Sub(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)))
	waitState(t, c, "disarmed", func(st vehicle.State) bool { return !st.Armed })

	files, err := s.rec.Stop()
	if err != nil || len(files) != 1 {
		t.Fatalf("flight log Stop() = %v, %v", files, err)
	}
	frames, ours := decodeLog(t, files[0])
	if frames < 100 || ours == 0 {
		t.Fatalf("flight log holds %d frames (%d of ours), want the whole sortie both ways", frames, ours)
	}
	if rs := s.router.Stats()[0]; rs.FramesOut == 0 || rs.WriteErrors != 0 {
		t.Fatalf("router stats %+v", rs)
	}
}

func TestGuidedFlightAgainstSimulator(t *testing.T) {
	s := startSimStack(t)
	c := s.client
	st := waitState(t, c, "discovery and home", func(st vehicle.State) bool { return st.Alive && st.HomeKnown && st.GPS.Fix >= 3 })
	ctx := t.Context()
	// Home from the vehicle's own position on the pad.
	if err := c.SetHomeHere(ctx); err != nil {
		t.Fatalf("SetHomeHere() = %v", err)
	}
	waitState(t, c, "home here", func(s vehicle.State) bool { return math.Abs(s.Home.AltM-s.AltM) < 0.5 })
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"SetMode(GUIDED)", func() error { return c.SetMode(ctx, "GUIDED") }},
		{"Arm() with 2 ACKs lost", func() error { s.sim.DropCommandAcks(2); return c.Arm(ctx) }},
		{"Takeoff(12)", func() error { return c.Takeoff(ctx, 12) }},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s = %v", step.name, err)
		}
	}
	waitState(t, c, "at 11 m", func(s vehicle.State) bool { return s.RelAltM > 11 })
	nLat, nLon := offset(st.Home.Lat, st.Home.Lon, 40, 0)
	if err := c.GoTo(ctx, nLat, nLon, 12); err != nil {
		t.Fatalf("GoTo() = %v", err)
	}
	waitSim(t, s.sim, "at the go-to point", 30*time.Second, func(d drone.State) bool { return d.DistanceToHomeM > 38 })
	held := waitState(t, c, "position", func(s vehicle.State) bool { return s.PositionKnown })
	if err := c.Hold(ctx); err != nil {
		t.Fatalf("Hold() = %v", err)
	}
	waitState(t, c, "holding in GUIDED", func(s vehicle.State) bool { return s.Mode == "GUIDED" })
	if s := c.State(); math.Abs(s.RelAltM-held.RelAltM) > 2 {
		t.Fatalf("Hold(): rel alt %.1f m, was %.1f m", s.RelAltM, held.RelAltM)
	}
	if err := c.ReturnToLaunch(ctx); err != nil {
		t.Fatalf("ReturnToLaunch() = %v", err)
	}
	waitSim(t, s.sim, "home and disarmed", 60*time.Second, func(d drone.State) bool { return !d.Armed && d.OnGroundAtHome })
	if v, err := c.GetParam(ctx, "WPNAV_SPEED"); err != nil || v <= 0 {
		t.Fatalf("GetParam(WPNAV_SPEED) = %v, %v", v, err)
	}
}

// decodeLog reads a .tlog like dockctl dump and counts its frames and those
// the agent sent (sysid 255); any damaged record or frame fails the test.
func decodeLog(t *testing.T, path string) (frames, ours int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := tlog.NewReader(bytes.NewReader(b))
	p := mavlink.NewParser(mavlink.ParserOptions{})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", frames, err)
		}
		var f mavlink.Frame
		if _, err := p.Next(rec.Frame, true, &f); err != nil {
			t.Fatalf("record %d holds a bad frame: %v", frames, err)
		}
		frames++
		if f.SysID == 255 {
			ours++
		}
	}
	return frames, ours
}

func TestRadioUnplugAgainstSimulator(t *testing.T) {
	s := startSimStack(t)
	c := s.client
	waitState(t, c, "telemetry", func(st vehicle.State) bool { return st.Alive && st.PositionKnown })
	waitSetUps := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s.mu.Lock()
			got := s.intervals
			s.mu.Unlock()
			if got >= n*len(vehicle.DefaultStreams()) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d SET_MESSAGE_INTERVAL sent, want %d stream set-ups", got, n)
			}
			time.Sleep(10 * time.Millisecond) // polling a counter under a deadline
		}
	}
	waitSetUps(1)
	if err := s.pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "link lost", func(st vehicle.State) bool { return !st.Alive })
	if err := s.pair.Replug(); err != nil {
		t.Fatal(err)
	}
	before := c.State().LastHeartbeat
	waitState(t, c, "link back", func(st vehicle.State) bool { return st.Alive && st.LastHeartbeat.After(before) })
	waitSetUps(2)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Equal(s.links, []bool{true, false, true}) {
		t.Errorf("OnLink events %v, want alive, lost, alive", s.links)
	}
}
