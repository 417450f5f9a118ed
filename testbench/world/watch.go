package world

import (
	"context"
	"fmt"
	"math"
	"net"
	"sync"

	"github.com/dockagent/dock-agent/dock/route"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
)

// vehicleWatch follows a real autopilot (the bench's -vehicle, e.g.
// ArduCopter SITL) through the agent's ground-station forward, so that the
// witness checks the vehicle invariants (2, 3, 8) on a real vehicle too,
// and the physics knows when it stands on the pad. It only listens: the
// agent sends it the vehicle's frames as to any ground station.
type vehicleWatch struct {
	conn *net.UDPConn
	pad  route.Point // the dock's surveyed position
	padM float64

	mu    sync.Mutex
	st    DroneState
	home  route.Point
	pos   route.Point
	modes []string // every mode flown (armed), in order, without repeats
}

func newVehicleWatch(pad route.Point, padM float64) (*vehicleWatch, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("world: vehicle watch: %w", err)
	}
	return &vehicleWatch{conn: c, pad: pad, padM: padM}, nil
}

// URL is the forward endpoint the agent's config names.
func (v *vehicleWatch) URL() string { return "udp://" + v.conn.LocalAddr().String() }

// run reads frames until ctx ends.
func (v *vehicleWatch) run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { _ = v.conn.Close() })
	defer stop()
	p := mavlink.NewParser(mavlink.ParserOptions{})
	buf := make([]byte, 65536)
	for {
		n, err := v.conn.Read(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		for len(b) > 0 {
			var f mavlink.Frame
			used, err := p.Next(b, true, &f)
			if used == 0 {
				break
			}
			b = b[used:]
			if err == nil && f.SysID == 1 && f.CompID == 1 {
				v.apply(&f)
			}
		}
	}
}

func (v *vehicleWatch) apply(f *mavlink.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch f.MsgID {
	case 0:
		var m mavlink.Heartbeat
		if mavlink.DecodeMessage(f, &m) != nil {
			return
		}
		v.st.Known = true
		v.st.Armed = m.BaseMode&mavlink.MAV_MODE_FLAG_SAFETY_ARMED != 0
		ap := vehicle.ArduPilot
		if m.Autopilot == mavlink.MAV_AUTOPILOT_PX4 {
			ap = vehicle.PX4
		}
		v.st.Mode = vehicle.ModeName(ap, m.CustomMode)
		// Modes flown: a vehicle boots in STABILIZE and sits there
		// disarmed; what matters is the mode it flies in.
		if n := len(v.modes); v.st.Armed && (n == 0 || v.modes[n-1] != v.st.Mode) {
			v.modes = append(v.modes, v.st.Mode)
		}
	case 33:
		var m mavlink.GlobalPositionInt
		if mavlink.DecodeMessage(f, &m) != nil {
			return
		}
		v.pos = route.Point{Lat: float64(m.Lat) / 1e7, Lon: float64(m.Lon) / 1e7}
		v.st.RelAltM = float64(m.RelativeAlt) / 1000
		v.st.ClimbMPS = -float64(m.Vz) / 100
		if v.home.Valid() && (v.home.Lat != 0 || v.home.Lon != 0) {
			v.st.DistHomeM = route.Distance(v.pos, v.home)
		}
	case 242:
		var m mavlink.HomePosition
		if mavlink.DecodeMessage(f, &m) != nil {
			return
		}
		v.home = route.Point{Lat: float64(m.Latitude) / 1e7, Lon: float64(m.Longitude) / 1e7}
	case 245:
		var m mavlink.ExtendedSysState
		if mavlink.DecodeMessage(f, &m) != nil {
			return
		}
		v.st.OnGround = m.LandedState == mavlink.MAV_LANDED_STATE_ON_GROUND
	}
}

// state is the vehicle as last heard.
func (v *vehicleWatch) state() DroneState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.st
}

// onPad reports whether the vehicle stands on the ground within the pad.
func (v *vehicleWatch) onPad() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.st.Known || !v.st.OnGround || (v.pos.Lat == 0 && v.pos.Lon == 0) {
		return false
	}
	return route.Distance(v.pos, v.pad) <= math.Max(v.padM, 1)
}

// Modes returns every flight mode the vehicle reported while armed, in order.
func (v *vehicleWatch) Modes() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.modes...)
}
