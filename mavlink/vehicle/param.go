package vehicle

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/dockagent/dock-agent/mavlink"
)

// MAV_PARAM_TYPE values the client needs.
const (
	paramUint8  = 1
	paramInt8   = 2
	paramUint16 = 3
	paramInt16  = 4
	paramUint32 = 5
	paramInt32  = 6
	paramReal32 = 9
)

const (
	msgParamValue = 22
	maxParamID    = 16
)

// GetParam reads a parameter by name (PARAM_REQUEST_READ, answered by
// PARAM_VALUE), trying Options.CommandTries times Options.CommandTimeout.
func (c *Client) GetParam(ctx context.Context, name string) (float64, error) {
	id, err := paramID(name)
	if err != nil {
		return 0, err
	}
	sys, comp, _, err := c.target()
	if err != nil {
		return 0, fmt.Errorf("read parameter %s: %w", name, err)
	}
	v, err := c.paramExchange(ctx, name, &mavlink.ParamRequestRead{TargetSystem: sys, TargetComponent: comp, ParamID: id, ParamIndex: -1})
	if err != nil {
		return 0, fmt.Errorf("read parameter %s: %w", name, err)
	}
	return v, nil
}

// SetParam writes a parameter (PARAM_SET, confirmed by the PARAM_VALUE the
// autopilot echoes) and returns the value the autopilot now holds. The
// parameter's type is read first if it is not known yet.
func (c *Client) SetParam(ctx context.Context, name string, v float64) (float64, error) {
	id, err := paramID(name)
	if err != nil {
		return 0, err
	}
	sys, comp, ap, err := c.target()
	if err != nil {
		return 0, fmt.Errorf("set parameter %s: %w", name, err)
	}
	c.mu.Lock()
	typ, ok := c.params[name]
	c.mu.Unlock()
	if !ok {
		if _, err := c.GetParam(ctx, name); err != nil {
			return 0, fmt.Errorf("set parameter %s: %w", name, err)
		}
		c.mu.Lock()
		typ = c.params[name]
		c.mu.Unlock()
	}
	got, err := c.paramExchange(ctx, name, &mavlink.ParamSet{TargetSystem: sys, TargetComponent: comp, ParamID: id,
		ParamValue: encodeParam(ap, typ, v), ParamType: typ})
	if err != nil {
		return 0, fmt.Errorf("set parameter %s to %v: %w", name, v, err)
	}
	return got, nil
}

// paramExchange sends req until a PARAM_VALUE of name arrives.
func (c *Client) paramExchange(ctx context.Context, name string, req mavlink.Message) (float64, error) {
	c.paramMu.Lock()
	defer c.paramMu.Unlock()
	w, stop := c.subscribe(msgParamValue)
	defer stop()
	timer := c.clk.NewTimer(c.opts.CommandTimeout)
	defer timer.Stop()
	for try := 1; ; try++ {
		if err := c.send(req); err != nil {
			return 0, err
		}
		timer.Reset(c.opts.CommandTimeout)
	wait:
		for {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-timer.Chan():
				break wait
			case m := <-w.ch:
				var pv mavlink.ParamValue
				m.decode(&pv)
				if cString(pv.ParamID[:]) != name {
					continue
				}
				_, _, ap, _ := c.target()
				c.mu.Lock()
				c.params[name] = pv.ParamType
				c.mu.Unlock()
				return decodeParam(ap, pv.ParamType, pv.ParamValue), nil
			}
		}
		if try >= c.opts.CommandTries {
			return 0, fmt.Errorf("no PARAM_VALUE after %d tries of %v: %w", try, c.opts.CommandTimeout, ErrTimeout)
		}
	}
}

func paramID(name string) ([maxParamID]byte, error) {
	var id [maxParamID]byte
	if name == "" || len(name) > maxParamID {
		return id, fmt.Errorf("parameter name %q: want 1..16 characters", name)
	}
	copy(id[:], name)
	return id, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// encodeParam puts v in PARAM_SET's float field: ArduPilot casts every
// type to float; PX4 copies integer bytes into the float (bytewise
// encoding).
func encodeParam(ap Autopilot, typ uint8, v float64) float32 {
	if ap != PX4 || typ == paramReal32 || typ == 0 {
		return float32(v)
	}
	return math.Float32frombits(uint32(int32(math.Round(v))))
}

func decodeParam(ap Autopilot, typ uint8, f float32) float64 {
	if ap != PX4 || typ == paramReal32 || typ == 0 {
		return float64(f)
	}
	bits := math.Float32bits(f)
	switch typ {
	case paramUint8:
		return float64(uint8(bits))
	case paramInt8:
		return float64(int8(bits))
	case paramUint16:
		return float64(uint16(bits))
	case paramInt16:
		return float64(int16(bits))
	case paramUint32:
		return float64(bits)
	}
	return float64(int32(bits))
}
