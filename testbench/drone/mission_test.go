package drone

import (
	"math"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// item is a mission item in relative-altitude frame.
func item(seq int, cmd mavlink.MAVCmd, lat, lon float64, alt float32, p1, p2 float32) mavlink.MissionItemInt {
	return mavlink.MissionItemInt{
		TargetSystem: 1, TargetComponent: 1, Seq: uint16(seq), Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Command: cmd, Autocontinue: 1, Param1: p1, Param2: p2, X: e7(lat), Y: e7(lon), Z: alt,
	}
}

// patrol is home, take-off to 20 m, speed 8 m/s, a waypoint 150 m east
// with a 3 s hold, a 5 s loiter 150 m north-east, return to launch.
func patrol(home Position) []mavlink.MissionItemInt {
	eLat, eLon := offsetPos(home, 0, 150)
	neLat, neLon := offsetPos(home, 150, 150)
	return []mavlink.MissionItemInt{
		item(0, mavlink.MAV_CMD_NAV_WAYPOINT, home.Lat, home.Lon, 0, 0, 0),
		item(1, mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 20, 0, 0),
		item(2, mavlink.MAV_CMD_DO_CHANGE_SPEED, 0, 0, 0, 1, 8),
		item(3, mavlink.MAV_CMD_NAV_WAYPOINT, eLat, eLon, 25, 3, 0),
		item(4, mavlink.MAV_CMD_NAV_LOITER_TIME, neLat, neLon, 25, 5, 0),
		item(5, mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, 0, 0, 0, 0, 0),
	}
}

// upload runs the upload protocol as a GCS: answer each request, with no
// retries of its own, and returns the MISSION_ACK result.
func (r *rig) upload(items []mavlink.MissionItemInt) mavlink.MAVMissionResult {
	r.t.Helper()
	r.send(&mavlink.MissionCount{TargetSystem: 1, TargetComponent: 1, Count: uint16(len(items))})
	for {
		g := r.wait("MISSION_REQUEST_INT or MISSION_ACK", func(g rx) bool { return g.id == 51 || g.id == 47 })
		if g.id == 47 {
			var a mavlink.MissionAck
			g.decode(r.t, &a)
			return a.Type
		}
		var req mavlink.MissionRequestInt
		g.decode(r.t, &req)
		if req.TargetSystem != 255 || req.TargetComponent != 190 {
			r.t.Errorf("MISSION_REQUEST_INT to %d/%d, want 255/190", req.TargetSystem, req.TargetComponent)
		}
		it := items[req.Seq]
		r.send(&it)
	}
}

// requests returns the sequence numbers of the MISSION_REQUEST_INTs received.
func requests(frames []rx, t *testing.T) []int {
	var seqs []int
	for _, g := range frames {
		if g.id == 51 {
			var req mavlink.MissionRequestInt
			g.decode(t, &req)
			seqs = append(seqs, int(req.Seq))
		}
	}
	return seqs
}

func TestMissionUploadWithLostRequestAndItem(t *testing.T) {
	r := newRig(t, Options{})
	items := patrol(r.sim.State().Home)
	mark := r.cl.mark()

	// The first request (seq 0) is lost: the vehicle asks again after 1 s.
	r.sim.DropMissionRequests(1)
	r.send(&mavlink.MissionCount{TargetSystem: 1, TargetComponent: 1, Count: uint16(len(items))})
	r.barrier()
	if seqs := requests(r.cl.since(mark), t); len(seqs) != 0 {
		t.Fatalf("requests %v arrived, want the first one lost", seqs)
	}
	r.advance(900*time.Millisecond, 100*time.Millisecond)
	r.barrier()
	if seqs := requests(r.cl.since(mark), t); len(seqs) != 0 {
		t.Fatalf("re-requested %v before 1 s", seqs)
	}
	r.advance(200*time.Millisecond, 100*time.Millisecond)
	g := r.wait("re-sent MISSION_REQUEST_INT", isMsg(51))
	var req mavlink.MissionRequestInt
	g.decode(t, &req)
	if req.Seq != 0 {
		t.Fatalf("re-request for seq %d, want 0", req.Seq)
	}

	// Item 0 is lost on its way: the vehicle re-requests it.
	r.sim.DropMissionItems(1)
	var acked bool
	next := 0
	for !acked {
		it := items[next]
		r.send(&it)
		g, ok := r.cl.waitFor(func(g rx) bool { return g.id == 51 || g.id == 47 }, 300*time.Millisecond)
		if !ok { // lost: only the clock brings the re-request
			r.advance(1100*time.Millisecond, 100*time.Millisecond)
			g = r.wait("MISSION_REQUEST_INT after a lost item", isMsg(51))
		}
		switch g.id {
		case 47:
			var a mavlink.MissionAck
			g.decode(t, &a)
			if a.Type != mavlink.MAV_MISSION_ACCEPTED {
				t.Fatalf("MISSION_ACK %v, want ACCEPTED", a.Type)
			}
			acked = true
		case 51:
			g.decode(t, &req)
			next = int(req.Seq)
		}
	}
	if got, want := requests(r.cl.since(mark), t), []int{0, 0, 1, 2, 3, 4, 5}; !equalInts(got, want) {
		t.Errorf("requests %v, want %v (the first lost, item 0 lost once)", got, want)
	}
	if st := r.sim.State(); st.MissionCount != len(items) {
		t.Errorf("mission of %d items, want %d", st.MissionCount, len(items))
	}

	// Download: item 0 is home, the others as sent.
	r.send(&mavlink.MissionRequestList{TargetSystem: 1, TargetComponent: 1})
	var mc mavlink.MissionCount
	r.wait("MISSION_COUNT", isMsg(44)).decode(t, &mc)
	if int(mc.Count) != len(items) {
		t.Fatalf("download count %d, want %d", mc.Count, len(items))
	}
	for seq := range items {
		r.send(&mavlink.MissionRequestInt{TargetSystem: 1, TargetComponent: 1, Seq: uint16(seq)})
		var it mavlink.MissionItemInt
		r.wait("MISSION_ITEM_INT", isMsg(73)).decode(t, &it)
		want := items[seq]
		if seq == 0 {
			if it.Frame != mavlink.MAV_FRAME_GLOBAL_INT || it.X != want.X || it.Y != want.Y {
				t.Errorf("item 0 = %+v, want home", it)
			}
			continue
		}
		it.TargetSystem, it.TargetComponent, want.TargetSystem, want.TargetComponent = 0, 0, 0, 0
		if it != want {
			t.Errorf("downloaded item %d = %+v, want %+v", seq, it, want)
		}
	}
	r.send(&mavlink.MissionAck{TargetSystem: 1, TargetComponent: 1})

	// Clear: only home is left.
	r.send(&mavlink.MissionClearAll{TargetSystem: 1, TargetComponent: 1})
	var a mavlink.MissionAck
	r.wait("MISSION_ACK of clear", isMsg(47)).decode(t, &a)
	if a.Type != mavlink.MAV_MISSION_ACCEPTED || r.sim.State().MissionCount != 0 {
		t.Errorf("clear: ack %v, %d items left; want ACCEPTED and none", a.Type, r.sim.State().MissionCount)
	}
}

func equalInts(a, b []int) bool {
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

func TestMissionUploadCancelledAfterSilence(t *testing.T) {
	r := newRig(t, Options{})
	r.send(&mavlink.MissionCount{TargetSystem: 1, TargetComponent: 1, Count: 3})
	r.wait("MISSION_REQUEST_INT", isMsg(51))
	r.advance(8*time.Second, 100*time.Millisecond)
	var a mavlink.MissionAck
	r.wait("MISSION_ACK", isMsg(47)).decode(t, &a)
	if a.Type != mavlink.MAV_MISSION_OPERATION_CANCELLED {
		t.Errorf("after 8 s of silence: MISSION_ACK %v, want OPERATION_CANCELLED", a.Type)
	}
}

func TestAutoMissionFlownToCompletion(t *testing.T) {
	r := newRig(t, Options{Seed: 7})
	home := r.sim.State().Home
	items := patrol(home)
	if got := r.upload(items); got != mavlink.MAV_MISSION_ACCEPTED {
		t.Fatalf("upload = %v, want ACCEPTED", got)
	}
	if got := r.setMode(ModeAuto); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Fatalf("set AUTO on the ground = %v, want ACCEPTED", got)
	}
	if got := r.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1); got != mavlink.MAV_RESULT_FAILED {
		t.Fatalf("arm in AUTO = %v, want FAILED (not armable)", got)
	}
	if got := r.setMode(ModeGuided); got != mavlink.MAV_RESULT_ACCEPTED {
		t.Fatalf("set GUIDED = %v", got)
	}
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.mustCommand(mavlink.MAV_CMD_MISSION_START)
	r.cl.skip()
	mark := r.cl.mark()

	// Out at DO_CHANGE_SPEED's 8 m/s; the RTL item starts RTL's own
	// navigation, at RTL_SPEED 0: WPNAV_SPEED, 10 m/s.
	var maxSpeed, maxReturn float64
	var atWaypoint bool
	eLat, eLon := offsetPos(home, 0, 150)
	st := r.advanceUntil("mission flown and disarmed", 6*time.Minute, 200*time.Millisecond, func(st State) bool {
		if st.MissionSeq < 5 {
			maxSpeed = math.Max(maxSpeed, st.GroundSpeedMPS)
		} else {
			maxReturn = math.Max(maxReturn, st.GroundSpeedMPS)
		}
		atWaypoint = atWaypoint || distM(st.Lat, st.Lon, eLat, eLon) < 2
		return !st.Armed && st.OnGroundAtHome
	})
	t.Logf("mission flown in %v of simulated time, top speed %.1f m/s, battery %.0f %%", st.Time.Sub(epoch), maxSpeed, st.BatteryPct)
	if st.Mode != ModeAuto {
		t.Errorf("mode %v after the mission, want AUTO", st.Mode)
	}
	if maxSpeed < 7.7 || maxSpeed > 8.3 {
		t.Errorf("top speed out %.1f m/s, want DO_CHANGE_SPEED's 8", maxSpeed)
	}
	if maxReturn < 9.7 || maxReturn > 10.3 {
		t.Errorf("top speed of the RTL item %.1f m/s, want WPNAV_SPEED 10", maxReturn)
	}
	if !atWaypoint {
		t.Error("never within 2 m of the waypoint")
	}
	r.barrier()
	var reached []int
	for _, g := range r.cl.since(mark) {
		if g.id == 46 {
			var m mavlink.MissionItemReached
			g.decode(t, &m)
			reached = append(reached, int(m.Seq))
		}
	}
	if want := []int{1, 3, 4, 5}; !equalInts(reached, want) {
		t.Errorf("MISSION_ITEM_REACHED %v, want %v", reached, want)
	}
	for _, want := range []string{"Reached command #1", "Reached command #3", "Reached command #4", "Reached command #5"} {
		r.text(want)
	}
	var cur mavlink.MissionCurrent
	r.cl.skip()
	r.sendFrom(r.cl, &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_REQUEST_MESSAGE, Param1: 42})
	r.wait("MISSION_CURRENT", isMsg(42)).decode(t, &cur)
	if cur.MissionState != missionStateComplete || cur.Total != 5 {
		t.Errorf("MISSION_CURRENT state %d total %d, want complete (5) of 5", cur.MissionState, cur.Total)
	}
}

func TestMissionUploadOutOfSequenceAndLegacyRequests(t *testing.T) {
	r := newRig(t, Options{MissionRequestLegacy: true})
	items := patrol(r.sim.State().Home)
	r.send(&mavlink.MissionCount{TargetSystem: 1, TargetComponent: 1, Count: uint16(len(items))})
	var req mavlink.MissionRequest
	r.wait("MISSION_REQUEST", isMsg(40)).decode(t, &req)
	if req.Seq != 0 {
		t.Fatalf("first request for %d, want 0", req.Seq)
	}
	// An item out of sequence is refused, and the upload goes on.
	it := items[2]
	r.send(&it)
	var a mavlink.MissionAck
	r.wait("MISSION_ACK", isMsg(47)).decode(t, &a)
	if a.Type != mavlink.MAV_MISSION_INVALID_SEQUENCE {
		t.Fatalf("out-of-sequence item: MISSION_ACK %v, want INVALID_SEQUENCE", a.Type)
	}
	// A download now is denied: an upload is in progress.
	r.send(&mavlink.MissionRequestList{TargetSystem: 1, TargetComponent: 1})
	r.wait("MISSION_ACK", isMsg(47)).decode(t, &a)
	if a.Type != mavlink.MAV_MISSION_DENIED {
		t.Fatalf("download during upload: MISSION_ACK %v, want DENIED", a.Type)
	}
	for seq := range items {
		it := items[seq]
		r.send(&it)
		if seq < len(items)-1 {
			r.wait("MISSION_REQUEST", isMsg(40)).decode(t, &req)
			if int(req.Seq) != seq+1 {
				t.Fatalf("request for %d after item %d", req.Seq, seq)
			}
		}
	}
	r.wait("MISSION_ACK", isMsg(47)).decode(t, &a)
	if a.Type != mavlink.MAV_MISSION_ACCEPTED {
		t.Fatalf("upload: MISSION_ACK %v, want ACCEPTED", a.Type)
	}
}

// A mission without a take-off item leaves the ground for its first
// waypoint; NAV_LAND with a position flies there first.
func TestMissionWithoutTakeoffLandsAtPoint(t *testing.T) {
	r := newRig(t, Options{})
	home := r.sim.State().Home
	nLat, nLon := offsetPos(home, 50, 0)
	eLat, eLon := offsetPos(home, 50, 40)
	items := []mavlink.MissionItemInt{
		item(0, mavlink.MAV_CMD_NAV_WAYPOINT, home.Lat, home.Lon, 0, 0, 0),
		item(1, mavlink.MAV_CMD_NAV_WAYPOINT, nLat, nLon, 15, 0, 0),
		item(2, mavlink.MAV_CMD_NAV_LAND, eLat, eLon, 0, 0, 0),
	}
	if got := r.upload(items); got != mavlink.MAV_MISSION_ACCEPTED {
		t.Fatalf("upload = %v", got)
	}
	r.setMode(ModeGuided)
	r.mustCommand(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	if got := r.command(mavlink.MAV_CMD_MISSION_START, 1, 2); got != mavlink.MAV_RESULT_DENIED {
		t.Errorf("MISSION_START with first/last = %v, want DENIED", got)
	}
	r.mustCommand(mavlink.MAV_CMD_MISSION_START)
	st := r.advanceUntil("landed at the NAV_LAND point", 3*time.Minute, 200*time.Millisecond, func(st State) bool { return !st.Armed })
	if d := distM(st.Lat, st.Lon, eLat, eLon); d > 1 || st.Landed != mavlink.MAV_LANDED_STATE_ON_GROUND {
		t.Errorf("landed %.1f m from the NAV_LAND point (landed state %v), want on the ground there", d, st.Landed)
	}
}
