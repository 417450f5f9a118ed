package vehicle

import (
	"context"
	"fmt"
	"sync"

	"github.com/dockagent/dock-agent/mavlink"
)

// CommandError is a command the vehicle answered with a MAV_RESULT other
// than MAV_RESULT_ACCEPTED.
type CommandError struct {
	Command mavlink.MAVCmd
	Result  mavlink.MAVResult
}

func (e *CommandError) Error() string {
	return e.Command.String() + ": " + e.Result.String()
}

// msgCommandAck is COMMAND_ACK's id.
const msgCommandAck = 77

// CommandLong sends a COMMAND_LONG to the autopilot (its target ids are
// filled in) and waits for its COMMAND_ACK: each of Options.CommandTries
// sends waits Options.CommandTimeout, the confirmation field counting the
// resends (MAVLink command protocol); after MAV_RESULT_IN_PROGRESS it waits
// Options.InProgressTimeout for the final result without resending. It
// returns the final ACK, a *CommandError for a result other than ACCEPTED,
// an error wrapping ErrTimeout when no ACK came, or ctx's error.
func (c *Client) CommandLong(ctx context.Context, cmd mavlink.CommandLong) (mavlink.CommandAck, error) {
	sys, comp, _, err := c.target()
	if err != nil {
		return mavlink.CommandAck{}, fmt.Errorf("send %s: %w", cmd.Command, err)
	}
	cmd.TargetSystem, cmd.TargetComponent = sys, comp
	return c.command(ctx, cmd.Command, func(try int) mavlink.Message {
		m := cmd
		m.Confirmation = uint8(try)
		return &m
	})
}

// CommandInt is CommandLong for COMMAND_INT, which has no confirmation
// field: resends are identical.
func (c *Client) CommandInt(ctx context.Context, cmd mavlink.CommandInt) (mavlink.CommandAck, error) {
	sys, comp, _, err := c.target()
	if err != nil {
		return mavlink.CommandAck{}, fmt.Errorf("send %s: %w", cmd.Command, err)
	}
	cmd.TargetSystem, cmd.TargetComponent = sys, comp
	return c.command(ctx, cmd.Command, func(int) mavlink.Message { return &cmd })
}

// cmdLock returns the lock that keeps two commands of one id from running
// at once: their ACKs could not be told apart.
func (c *Client) cmdLock(id mavlink.MAVCmd) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.cmdLocks[id]
	if l == nil {
		l = new(sync.Mutex)
		c.cmdLocks[id] = l
	}
	return l
}

func (c *Client) command(ctx context.Context, id mavlink.MAVCmd, build func(try int) mavlink.Message) (mavlink.CommandAck, error) {
	lock := c.cmdLock(id)
	lock.Lock()
	defer lock.Unlock()
	w, stop := c.subscribe(msgCommandAck)
	defer stop()

	timer := c.clk.NewTimer(c.opts.CommandTimeout)
	defer timer.Stop()
	inProgress := false
	tries := 0
	send := func() error {
		tries++
		if err := c.send(build(tries - 1)); err != nil {
			return fmt.Errorf("send %s: %w", id, err)
		}
		return nil
	}
	if err := send(); err != nil {
		return mavlink.CommandAck{}, err
	}
	for {
		select {
		case <-ctx.Done():
			return mavlink.CommandAck{}, fmt.Errorf("wait for %s ack: %w", id, ctx.Err())
		case <-timer.Chan():
			if inProgress {
				return mavlink.CommandAck{}, fmt.Errorf("%s: in progress but no result after %v: %w", id, c.opts.InProgressTimeout, ErrTimeout)
			}
			if tries >= c.opts.CommandTries {
				return mavlink.CommandAck{}, fmt.Errorf("%s: no COMMAND_ACK after %d tries of %v: %w", id, tries, c.opts.CommandTimeout, ErrTimeout)
			}
			c.log.Debug("command resent", "command", id.String(), "try", tries+1)
			if err := send(); err != nil {
				return mavlink.CommandAck{}, err
			}
			timer.Reset(c.opts.CommandTimeout)
		case m := <-w.ch:
			var ack mavlink.CommandAck
			m.decode(&ack)
			if ack.Command != id || (ack.TargetSystem != 0 && ack.TargetSystem != c.opts.SysID) {
				continue
			}
			switch ack.Result {
			case mavlink.MAV_RESULT_ACCEPTED:
				return ack, nil
			case mavlink.MAV_RESULT_IN_PROGRESS:
				inProgress = true
				timer.Reset(c.opts.InProgressTimeout)
			default:
				return ack, &CommandError{Command: id, Result: ack.Result}
			}
		}
	}
}
