package vehicle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/dockagent/dock-agent/mavlink"
)

// Stream is one message the client asks the vehicle to send at a rate.
type Stream struct {
	MsgID  uint32
	RateHz float64
}

// DefaultStreams returns what State needs, at telemetry rates: position and
// attitude 4 Hz, VFR_HUD 2 Hz, status, GPS, battery, landed state, mission
// progress and EKF 1 Hz, home every 5 s.
func DefaultStreams() []Stream {
	return []Stream{
		{33, 4},    // GLOBAL_POSITION_INT
		{30, 4},    // ATTITUDE
		{74, 2},    // VFR_HUD
		{1, 1},     // SYS_STATUS
		{24, 1},    // GPS_RAW_INT
		{147, 1},   // BATTERY_STATUS
		{245, 1},   // EXTENDED_SYS_STATE
		{42, 1},    // MISSION_CURRENT
		{193, 1},   // EKF_STATUS_REPORT (ArduPilot)
		{242, 0.2}, // HOME_POSITION
	}
}

// dataStreamOf is the ArduPilot REQUEST_DATA_STREAM group that carries a
// message (PROTOCOL.md §9), 0 if none.
func dataStreamOf(msgID uint32) mavlink.MAVDataStream {
	switch msgID {
	case 1, 24, 42, 62, 160, 125: // SYS_STATUS, GPS_RAW_INT, MISSION_CURRENT, ...
		return mavlink.MAV_DATA_STREAM_EXTENDED_STATUS
	case 33, 32:
		return mavlink.MAV_DATA_STREAM_POSITION
	case 30, 178:
		return mavlink.MAV_DATA_STREAM_EXTRA1
	case 74:
		return mavlink.MAV_DATA_STREAM_EXTRA2
	case 147, 193, 2, 168, 241:
		return mavlink.MAV_DATA_STREAM_EXTRA3
	case 35, 36, 65:
		return mavlink.MAV_DATA_STREAM_RC_CHANNELS
	case 27, 29:
		return mavlink.MAV_DATA_STREAM_RAW_SENSORS
	}
	return 0
}

// SetStreams replaces the set of streams SetupStreams asks for (at first
// Options.Streams): the next set-up, and every one after a discovery or
// reboot, asks for these. A stream at 0 Hz is turned off (interval -1).
// It sends nothing itself.
func (c *Client) SetStreams(streams []Stream) {
	c.mu.Lock()
	c.streams = slices.Clone(streams)
	c.mu.Unlock()
}

// SetupStreams asks for every stream of the set (Options.Streams, or
// SetStreams') now, as Run does after every discovery and reboot: one
// set-up at a time, so two never mix their sets. SET_MESSAGE_INTERVAL per
// message, and on ArduPilot REQUEST_DATA_STREAM for the groups whose
// interval command was refused or unanswered. ArduPilot SITL streams
// nothing until asked (PROTOCOL.md §9). It returns an error joining the
// refusals that had no fallback (PX4, or a message outside ArduPilot's
// groups), ErrNoVehicle before discovery, or ctx's error.
func (c *Client) SetupStreams(ctx context.Context) error {
	_, _, ap, err := c.target()
	if err != nil {
		return fmt.Errorf("set up streams: %w", err)
	}
	c.streamsMu.Lock()
	defer c.streamsMu.Unlock()
	c.mu.Lock()
	streams := c.streams
	c.mu.Unlock()
	fallback := map[mavlink.MAVDataStream]float64{}
	var errs []error
	ok := 0
	for _, s := range streams {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("set up streams: %w", err)
		}
		interval := float32(-1) // disable
		if s.RateHz > 0 {
			interval = float32(1e6 / s.RateHz)
		}
		if s.MsgID == 242 {
			// Home is wanted at once, not in 5 s: ask for it now too.
			c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_REQUEST_MESSAGE, Param1: 242})
		}
		_, err := c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, Param1: float32(s.MsgID), Param2: interval})
		if err == nil {
			ok++
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("set up streams: %w", ctx.Err())
		}
		_, refused := errors.AsType[*CommandError](err)
		ds := dataStreamOf(s.MsgID)
		if ap == ArduPilot && ds != 0 && (refused || errors.Is(err, ErrTimeout)) {
			fallback[ds] = math.Max(fallback[ds], s.RateHz)
			c.log.Debug("message interval refused, falling back to a data stream", "msg_id", s.MsgID, "err", err)
			continue
		}
		errs = append(errs, fmt.Errorf("stream of message %d at %g Hz: %w", s.MsgID, s.RateHz, err))
	}
	sys, comp, _, _ := c.target()
	ids := make([]mavlink.MAVDataStream, 0, len(fallback))
	for ds := range fallback {
		ids = append(ids, ds)
	}
	slices.Sort(ids)
	for _, ds := range ids {
		// A group whose messages are all turned off (0 Hz) is stopped.
		rate, start := uint16(math.Ceil(fallback[ds])), uint8(1)
		if rate == 0 {
			start = 0
		}
		if err := c.send(&mavlink.RequestDataStream{TargetSystem: sys, TargetComponent: comp,
			ReqStreamID: uint8(ds), ReqMessageRate: max(rate, 1), StartStop: start}); err != nil {
			errs = append(errs, fmt.Errorf("request data stream %d: %w", ds, err))
		}
	}
	c.log.Info("streams set up", "intervals", ok, "data_streams", len(ids), "failed", len(errs))
	if len(errs) > 0 {
		return fmt.Errorf("set up streams: %w", errors.Join(errs...))
	}
	return nil
}

// setupStreams is Run's stream set-up after a discovery or reboot.
func (c *Client) setupStreams(ctx context.Context) {
	if err := c.SetupStreams(ctx); err != nil && ctx.Err() == nil {
		c.log.Warn("streams not all set up", "err", err)
	}
}
