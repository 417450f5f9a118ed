package vehicle

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// Mission protocol message ids.
const (
	msgMissionItem        = 39
	msgMissionRequest     = 40
	msgMissionRequestList = 43
	msgMissionCount       = 44
	msgMissionAck         = 47
	msgMissionRequestInt  = 51
	msgMissionItemInt     = 73
)

// Item is one mission item. Lat and Lon are degrees, AltM metres in Frame
// (relative to home for the builders below).
type Item struct {
	Command                        mavlink.MAVCmd
	Frame                          mavlink.MAVFrame
	Param1, Param2, Param3, Param4 float32
	Lat, Lon                       float64
	AltM                           float32
}

// TakeoffItem climbs to relAltM above home where the vehicle is.
func TakeoffItem(relAltM float64) Item {
	return Item{Command: mavlink.MAV_CMD_NAV_TAKEOFF, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, AltM: float32(relAltM)}
}

// WaypointItem flies to lat/lon at relAltM above home and holds there for hold.
func WaypointItem(lat, lon, relAltM float64, hold time.Duration) Item {
	return Item{Command: mavlink.MAV_CMD_NAV_WAYPOINT, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Param1: float32(hold.Seconds()), Lat: lat, Lon: lon, AltM: float32(relAltM)}
}

// LoiterTimeItem flies to lat/lon at relAltM and circles (or, for a copter,
// hovers) there for d.
func LoiterTimeItem(lat, lon, relAltM float64, d time.Duration) Item {
	return Item{Command: mavlink.MAV_CMD_NAV_LOITER_TIME, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Param1: float32(d.Seconds()), Lat: lat, Lon: lon, AltM: float32(relAltM)}
}

// ChangeSpeedItem sets the ground speed in m/s for the following legs.
func ChangeSpeedItem(speedMPS float64) Item {
	return Item{Command: mavlink.MAV_CMD_DO_CHANGE_SPEED, Frame: mavlink.MAV_FRAME_MISSION,
		Param1: 1, Param2: float32(speedMPS), Param3: -1} // ground speed, throttle unchanged
}

// ReturnToLaunchItem flies home (and lands, on a copter).
func ReturnToLaunchItem() Item {
	return Item{Command: mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, Frame: mavlink.MAV_FRAME_MISSION}
}

// LandItem lands at lat/lon (0, 0 means where the vehicle is).
func LandItem(lat, lon float64) Item {
	return Item{Command: mavlink.MAV_CMD_NAV_LAND, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, Lat: lat, Lon: lon}
}

func (it Item) wire(sys, comp uint8, seq uint16) *mavlink.MissionItemInt {
	return &mavlink.MissionItemInt{TargetSystem: sys, TargetComponent: comp, Seq: seq, Frame: it.Frame,
		Command: it.Command, Autocontinue: 1, Param1: it.Param1, Param2: it.Param2, Param3: it.Param3,
		Param4: it.Param4, X: degE7(it.Lat), Y: degE7(it.Lon), Z: it.AltM}
}

func itemFromWire(m *mavlink.MissionItemInt) Item {
	return Item{Command: m.Command, Frame: m.Frame, Param1: m.Param1, Param2: m.Param2, Param3: m.Param3,
		Param4: m.Param4, Lat: float64(m.X) / 1e7, Lon: float64(m.Y) / 1e7, AltM: m.Z}
}

// MissionError is a mission transfer the vehicle refused with a
// MAV_MISSION_RESULT.
type MissionError struct {
	Op     string // "upload", "clear"
	Result mavlink.MAVMissionResult
}

func (e *MissionError) Error() string { return "mission " + e.Op + ": " + e.Result.String() }

// UploadMission replaces the vehicle's mission with items (MISSION_COUNT,
// then a MISSION_ITEM_INT for every MISSION_REQUEST_INT or MISSION_REQUEST,
// until MISSION_ACK). A request or ack that does not come within
// Options.MissionTimeout makes the client send its last message again, up to
// Options.MissionRetries times. On ArduPilot item 0 is home: the client
// prepends it (at the known home, else zeros; the autopilot keeps its
// own). With Options.VerifyUpload the mission is downloaded and compared.
func (c *Client) UploadMission(ctx context.Context, items []Item) error {
	if err := c.uploadMission(ctx, items); err != nil {
		return fmt.Errorf("upload mission of %d items: %w", len(items), err)
	}
	if !c.opts.VerifyUpload {
		return nil
	}
	got, err := c.DownloadMission(ctx)
	if err != nil {
		return fmt.Errorf("verify mission upload: %w", err)
	}
	if err := sameMission(items, got); err != nil {
		return fmt.Errorf("verify mission upload: %w", err)
	}
	return nil
}

func (c *Client) uploadMission(ctx context.Context, items []Item) error {
	sys, comp, ap, err := c.target()
	if err != nil {
		return err
	}
	c.missionMu.Lock()
	defer c.missionMu.Unlock()
	wire := items
	if ap == ArduPilot {
		st := c.State()
		home := Item{Command: mavlink.MAV_CMD_NAV_WAYPOINT, Frame: mavlink.MAV_FRAME_GLOBAL,
			Lat: st.Home.Lat, Lon: st.Home.Lon, AltM: float32(st.Home.AltM)}
		wire = append([]Item{home}, items...)
	}
	if len(wire) > math.MaxUint16 {
		return fmt.Errorf("%d items are more than MAVLink can count", len(wire))
	}
	w, stop := c.subscribe(msgMissionRequest, msgMissionRequestInt, msgMissionAck)
	defer stop()

	var last mavlink.Message = &mavlink.MissionCount{TargetSystem: sys, TargetComponent: comp, Count: uint16(len(wire))}
	if err := c.send(last); err != nil {
		return err
	}
	timer := c.clk.NewTimer(c.opts.MissionTimeout)
	defer timer.Stop()
	retries := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.Chan():
			retries++
			if retries > c.opts.MissionRetries {
				return fmt.Errorf("no request or ack after %d retries of %v: %w", c.opts.MissionRetries, c.opts.MissionTimeout, ErrTimeout)
			}
			c.log.Debug("mission upload resend", "retry", retries)
			if err := c.send(last); err != nil {
				return err
			}
			timer.Reset(c.opts.MissionTimeout)
		case m := <-w.ch:
			switch m.id {
			case msgMissionRequest, msgMissionRequestInt:
				var r mavlink.MissionRequestInt // same layout as MISSION_REQUEST
				m.decode(&r)
				if r.MissionType != mavlink.MAV_MISSION_TYPE_MISSION || (r.TargetSystem != 0 && r.TargetSystem != c.opts.SysID) {
					continue
				}
				if int(r.Seq) >= len(wire) {
					return fmt.Errorf("vehicle asked for item %d of %d", r.Seq, len(wire))
				}
				last = wire[r.Seq].wire(sys, comp, r.Seq)
				if err := c.send(last); err != nil {
					return err
				}
				retries = 0
				timer.Reset(c.opts.MissionTimeout)
			case msgMissionAck:
				var a mavlink.MissionAck
				m.decode(&a)
				if a.MissionType != mavlink.MAV_MISSION_TYPE_MISSION || (a.TargetSystem != 0 && a.TargetSystem != c.opts.SysID) {
					continue
				}
				switch a.Type {
				case mavlink.MAV_MISSION_ACCEPTED:
					// Progress of the mission replaced no longer counts: a
					// MISSION_ITEM_REACHED of the last flight must not read
					// as progress of this one.
					c.mu.Lock()
					c.st.MissionReached = -1
					c.mu.Unlock()
					return nil
				case mavlink.MAV_MISSION_INVALID_SEQUENCE:
					continue // ArduPilot: a resent item arrived twice; the upload goes on
				}
				return &MissionError{Op: "upload", Result: a.Type}
			}
		}
	}
}

// DownloadMission reads the vehicle's mission (MISSION_REQUEST_LIST,
// MISSION_COUNT, then MISSION_REQUEST_INT for every item, ending with our
// MISSION_ACK). On ArduPilot the home item 0 is left out.
func (c *Client) DownloadMission(ctx context.Context) ([]Item, error) {
	sys, comp, ap, err := c.target()
	if err != nil {
		return nil, fmt.Errorf("download mission: %w", err)
	}
	c.missionMu.Lock()
	defer c.missionMu.Unlock()
	w, stop := c.subscribe(msgMissionCount, msgMissionItemInt)
	defer stop()

	var count mavlink.MissionCount
	err = c.missionExchange(ctx, w, &mavlink.MissionRequestList{TargetSystem: sys, TargetComponent: comp}, c.opts.MissionTimeout,
		func(m message) bool {
			if m.id != msgMissionCount {
				return false
			}
			m.decode(&count)
			return count.MissionType == mavlink.MAV_MISSION_TYPE_MISSION
		})
	if err != nil {
		return nil, fmt.Errorf("download mission: count: %w", err)
	}
	items := make([]Item, 0, count.Count)
	for seq := range count.Count {
		var it mavlink.MissionItemInt
		err := c.missionExchange(ctx, w, &mavlink.MissionRequestInt{TargetSystem: sys, TargetComponent: comp, Seq: seq}, c.opts.MissionItemTimeout,
			func(m message) bool {
				if m.id != msgMissionItemInt {
					return false
				}
				m.decode(&it)
				return it.Seq == seq && it.MissionType == mavlink.MAV_MISSION_TYPE_MISSION
			})
		if err != nil {
			return nil, fmt.Errorf("download mission: item %d of %d: %w", seq, count.Count, err)
		}
		items = append(items, itemFromWire(&it))
	}
	c.send(&mavlink.MissionAck{TargetSystem: sys, TargetComponent: comp, Type: mavlink.MAV_MISSION_ACCEPTED})
	if ap == ArduPilot && len(items) > 0 {
		items = items[1:]
	}
	return items, nil
}

// ClearMission deletes the vehicle's mission (MISSION_CLEAR_ALL, answered
// by MISSION_ACK).
func (c *Client) ClearMission(ctx context.Context) error {
	sys, comp, _, err := c.target()
	if err != nil {
		return fmt.Errorf("clear mission: %w", err)
	}
	c.missionMu.Lock()
	defer c.missionMu.Unlock()
	w, stop := c.subscribe(msgMissionAck)
	defer stop()
	var ack mavlink.MissionAck
	err = c.missionExchange(ctx, w, &mavlink.MissionClearAll{TargetSystem: sys, TargetComponent: comp}, c.opts.MissionTimeout,
		func(m message) bool {
			m.decode(&ack)
			return ack.MissionType == mavlink.MAV_MISSION_TYPE_MISSION
		})
	if err != nil {
		return fmt.Errorf("clear mission: %w", err)
	}
	if ack.Type != mavlink.MAV_MISSION_ACCEPTED {
		return &MissionError{Op: "clear", Result: ack.Type}
	}
	return nil
}

// missionExchange sends req until done accepts an answer, waiting timeout
// per try, 1 + Options.MissionRetries tries.
func (c *Client) missionExchange(ctx context.Context, w *waiter, req mavlink.Message, timeout time.Duration, done func(message) bool) error {
	timer := c.clk.NewTimer(timeout)
	defer timer.Stop()
	for try := 0; ; try++ {
		if err := c.send(req); err != nil {
			return err
		}
		timer.Reset(timeout)
	wait:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.Chan():
				break wait
			case m := <-w.ch:
				if done(m) {
					return nil
				}
			}
		}
		if try >= c.opts.MissionRetries {
			return fmt.Errorf("no answer after %d tries of %v: %w", try+1, timeout, ErrTimeout)
		}
	}
}

// sameMission compares an uploaded mission with its download, allowing the
// rounding an autopilot applies to floats.
func sameMission(want, got []Item) error {
	if len(want) != len(got) {
		return fmt.Errorf("vehicle holds %d items, want %d", len(got), len(want))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-3*math.Max(1, math.Abs(a)) }
	for i, w := range want {
		g := got[i]
		if w.Command != g.Command || degE7(w.Lat) != degE7(g.Lat) || degE7(w.Lon) != degE7(g.Lon) ||
			!near(float64(w.AltM), float64(g.AltM)) || !near(float64(w.Param1), float64(g.Param1)) ||
			!near(float64(w.Param2), float64(g.Param2)) {
			return fmt.Errorf("item %d is %v at %.7f,%.7f %.1f m, want %v at %.7f,%.7f %.1f m",
				i+1, g.Command, g.Lat, g.Lon, g.AltM, w.Command, w.Lat, w.Lon, w.AltM)
		}
	}
	return nil
}
