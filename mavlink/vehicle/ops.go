package vehicle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// SetMode switches the flight mode by name (ArduCopter names such as
// "GUIDED", PX4 names such as "AUTO.MISSION"; see ModeNames) with
// MAV_CMD_DO_SET_MODE and returns once the vehicle acknowledged it. A
// pilot mode (PilotMode) is refused with ErrPilotMode before anything is
// sent: the client flies unattended vehicles only.
func (c *Client) SetMode(ctx context.Context, name string) error {
	_, _, ap, err := c.target()
	if err != nil {
		return fmt.Errorf("set mode %s: %w", name, err)
	}
	if PilotMode(ap, name) {
		return fmt.Errorf("set mode %s: %w", name, ErrPilotMode)
	}
	p1, p2, p3, err := setModeParams(ap, name)
	if err != nil {
		return fmt.Errorf("set mode: %w", err)
	}
	_, err = c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_DO_SET_MODE, Param1: p1, Param2: p2, Param3: p3})
	if err != nil {
		return fmt.Errorf("set mode %s: %w", name, err)
	}
	return nil
}

// Arm arms the motors (MAV_CMD_COMPONENT_ARM_DISARM). It never forces:
// the autopilot's pre-arm checks decide, and a refusal comes back as a
// *CommandError.
func (c *Client) Arm(ctx context.Context) error {
	start := c.clk.Now()
	if _, err := c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}); err != nil {
		// The ACK has no reason; ArduPilot says why in a STATUSTEXT.
		if why := c.recentText(start.Add(-time.Second)); why != "" {
			return fmt.Errorf("arm (autopilot: %q): %w", why, err)
		}
		return fmt.Errorf("arm: %w", err)
	}
	return nil
}

// Disarm disarms the motors, without force: an autopilot refuses it in the
// air.
func (c *Client) Disarm(ctx context.Context) error {
	if _, err := c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 0}); err != nil {
		return fmt.Errorf("disarm: %w", err)
	}
	return nil
}

// Takeoff climbs to relAltM metres above home (MAV_CMD_NAV_TAKEOFF). The
// vehicle must be armed, and on ArduPilot in GUIDED mode. PX4 takes the
// altitude above mean sea level, computed from the home position.
func (c *Client) Takeoff(ctx context.Context, relAltM float64) error {
	_, _, ap, err := c.target()
	if err != nil {
		return fmt.Errorf("take off: %w", err)
	}
	cmd := mavlink.CommandLong{Command: mavlink.MAV_CMD_NAV_TAKEOFF, Param7: float32(relAltM)}
	if ap == PX4 {
		nan := float32(math.NaN())
		cmd.Param4, cmd.Param5, cmd.Param6 = nan, nan, nan
		st := c.State()
		if !st.HomeKnown {
			return errors.New("take off: PX4 needs the home altitude and no HOME_POSITION arrived")
		}
		cmd.Param7 = float32(st.Home.AltM + relAltM)
	}
	if _, err := c.CommandLong(ctx, cmd); err != nil {
		return fmt.Errorf("take off to %.1f m: %w", relAltM, err)
	}
	return nil
}

// StartMission starts the uploaded mission from its first item
// (MAV_CMD_MISSION_START; ArduCopter switches to AUTO, PX4 to
// AUTO.MISSION).
func (c *Client) StartMission(ctx context.Context) error {
	if _, err := c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_MISSION_START}); err != nil {
		return fmt.Errorf("start mission: %w", err)
	}
	return nil
}

// GoTo flies to lat/lon (degrees) at relAltM above home and holds there:
// MAV_CMD_DO_REPOSITION as COMMAND_INT (switching to a guided mode). If an
// ArduPilot refuses it as unsupported, the client switches to GUIDED and
// sends SET_POSITION_TARGET_GLOBAL_INT, which has no acknowledgement.
func (c *Client) GoTo(ctx context.Context, lat, lon, relAltM float64) error {
	sys, comp, ap, err := c.target()
	if err != nil {
		return fmt.Errorf("go to: %w", err)
	}
	nan := float32(math.NaN())
	_, err = c.CommandInt(ctx, mavlink.CommandInt{
		Command: mavlink.MAV_CMD_DO_REPOSITION, Frame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		Param1: -1, Param2: 1, // default speed; MAV_DO_REPOSITION_FLAGS_CHANGE_MODE
		Param3: 0, Param4: nan, X: degE7(lat), Y: degE7(lon), Z: float32(relAltM),
	})
	ce, isCmdErr := errors.AsType[*CommandError](err)
	if err == nil || ap != ArduPilot || !isCmdErr ||
		(ce.Result != mavlink.MAV_RESULT_UNSUPPORTED && ce.Result != mavlink.MAV_RESULT_COMMAND_LONG_ONLY) {
		if err != nil {
			return fmt.Errorf("go to %.7f,%.7f at %.1f m: %w", lat, lon, relAltM, err)
		}
		return nil
	}
	if err := c.SetMode(ctx, "GUIDED"); err != nil {
		return fmt.Errorf("go to: %w", err)
	}
	const positionOnly = 0x0FF8 // ignore velocity, acceleration, yaw, yaw rate
	err = c.send(&mavlink.SetPositionTargetGlobalInt{
		TargetSystem: sys, TargetComponent: comp, CoordinateFrame: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
		TypeMask: positionOnly, LatInt: degE7(lat), LonInt: degE7(lon), Alt: float32(relAltM),
	})
	if err != nil {
		return fmt.Errorf("go to: send position target: %w", err)
	}
	return nil
}

// Hold makes the vehicle hold its current position and altitude without a
// pilot: on ArduPilot a GUIDED reposition to the point where it is now
// (MAV_CMD_DO_REPOSITION with the change-mode flag), on PX4 AUTO.LOITER.
// It never selects a pilot mode (see PilotMode): ArduCopter's LOITER with
// no stick input descends at the pilot descent rate and lands.
func (c *Client) Hold(ctx context.Context) error {
	_, _, ap, err := c.target()
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	if ap == PX4 {
		return c.SetMode(ctx, "AUTO.LOITER")
	}
	st := c.State()
	if !st.PositionKnown {
		return errors.New("hold: no position from the vehicle yet")
	}
	if err := c.GoTo(ctx, st.Lat, st.Lon, st.RelAltM); err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	return nil
}

// SetSpeed sets the horizontal speed of the current guided flight or
// mission to mps (MAV_CMD_DO_CHANGE_SPEED, ground speed, throttle
// unchanged). ArduCopter forgets it whenever GUIDED starts a new
// waypoint navigation (it goes back to WPNAV_SPEED), so it is sent after
// every go-to.
func (c *Client) SetSpeed(ctx context.Context, mps float64) error {
	if !(mps > 0) {
		return fmt.Errorf("set speed: %g m/s is not a speed", mps)
	}
	if _, err := c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_DO_CHANGE_SPEED,
		Param1: 1, Param2: float32(mps), Param3: -1}); err != nil {
		return fmt.Errorf("set speed %.1f m/s: %w", mps, err)
	}
	return nil
}

// ReturnToLaunch flies home and lands: RTL on ArduCopter, AUTO.RTL on PX4.
func (c *Client) ReturnToLaunch(ctx context.Context) error {
	return c.setModeFor(ctx, "RTL", "AUTO.RTL")
}

// Land lands where the vehicle is: LAND on ArduCopter, AUTO.LAND on PX4.
func (c *Client) Land(ctx context.Context) error { return c.setModeFor(ctx, "LAND", "AUTO.LAND") }

func (c *Client) setModeFor(ctx context.Context, ardupilot, px4 string) error {
	_, _, ap, err := c.target()
	if err != nil {
		return fmt.Errorf("set mode %s: %w", ardupilot, err)
	}
	if ap == PX4 {
		return c.SetMode(ctx, px4)
	}
	return c.SetMode(ctx, ardupilot)
}

// SetHomeHere sets the home position to where the vehicle is now, its own
// position and altitude (MAV_CMD_DO_SET_HOME with param1 1, use current),
// so relative altitudes read 0 on the pad whatever the surveyed altitude.
func (c *Client) SetHomeHere(ctx context.Context) error {
	if _, err := c.CommandLong(ctx, mavlink.CommandLong{Command: mavlink.MAV_CMD_DO_SET_HOME, Param1: 1}); err != nil {
		return fmt.Errorf("set home to the current position: %w", err)
	}
	return nil
}

func degE7(d float64) int32 { return int32(math.Round(d * 1e7)) }
