package drone

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The tests run the simulator on a fake clock behind a real pty pair and
// talk to it like an agent: a serial port on the slave side and the
// project's codec. Frames arrive in wall-clock time, so waits on them have
// a wall-clock deadline (ioWait); the simulated time only moves when a
// test advances the fake clock.

const ioWait = 30 * time.Second

var epoch = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)

// rx is one frame the client received.
type rx struct {
	id        uint32
	seq       uint8
	sys, comp uint8
	version   uint8
	payload   []byte
}

func (r rx) decode(t *testing.T, m mavlink.Message) {
	t.Helper()
	f := mavlink.Frame{MsgID: r.id, Payload: r.payload}
	if err := mavlink.DecodeMessage(&f, m); err != nil {
		t.Fatalf("decode message %d: %v", r.id, err)
	}
}

// rig is a simulator on a fake clock, served on a pty, with a client on
// the slave side.
type rig struct {
	t     *testing.T
	sim   *Sim
	clk   *clockwork.FakeClock
	pair  *pty.Pair
	ctx   context.Context
	cl    *client
	cmdSq uint8
}

type client struct {
	port serial.Port
	done chan struct{}
	seq  uint8

	mu       sync.Mutex
	got      []rx
	consumed []bool // matched by a wait
	notify   chan struct{}
	floor    int // waits look at frames from here on
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	clk := clockwork.NewFakeClockAt(epoch)
	sim, err := New(opts, clk)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pty.Open(pty.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := sim.Run(ctx); err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- sim.Serve(ctx, pair) })
	r := &rig{t: t, sim: sim, clk: clk, pair: pair, ctx: ctx}
	r.cl = r.open()
	r.waitLinks(1)
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := <-serveErr; err != nil {
			t.Errorf("Serve() = %v, want nil after cancel", err)
		}
		r.cl.close()
		pair.Close()
	})
	return r
}

// waitLinks waits until n links are being served.
func (r *rig) waitLinks(n int) {
	r.t.Helper()
	deadline := time.Now().Add(ioWait)
	for len(r.sim.Links()) != n {
		if time.Now().After(deadline) {
			r.t.Fatalf("%d links served, want %d", len(r.sim.Links()), n)
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline, not synchronising
	}
}

// received waits until the simulator has received n frames on its link.
func (r *rig) received(n uint64) {
	r.t.Helper()
	deadline := time.Now().Add(ioWait)
	for r.sim.Links()[0].Frames < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("simulator received %d frames, want %d", r.sim.Links()[0].Frames, n)
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline, not synchronising
	}
}

func (r *rig) open() *client {
	r.t.Helper()
	port, err := serial.Open(r.pair.Path(), &serial.Mode{BaudRate: 115200})
	if err != nil {
		r.t.Fatalf("open %s: %v", r.pair.Path(), err)
	}
	if err := port.SetReadTimeout(50 * time.Millisecond); err != nil {
		r.t.Fatal(err)
	}
	c := &client{port: port, done: make(chan struct{}), notify: make(chan struct{}, 1), seq: 0}
	go c.read()
	return c
}

func (c *client) read() {
	defer close(c.done)
	rd := mavlink.NewReader(c.port, nil)
	var f mavlink.Frame
	for {
		err := rd.ReadFrame(&f)
		var fe *mavlink.FrameError
		switch {
		case errors.As(err, &fe):
			continue
		case err != nil:
			return
		}
		c.mu.Lock()
		c.consumed = append(c.consumed, false)
		c.got = append(c.got, rx{id: f.MsgID, seq: f.Seq, sys: f.SysID, comp: f.CompID, version: f.Version, payload: append([]byte(nil), f.Payload...)})
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

func (c *client) close() {
	c.port.Close()
	<-c.done
}

// send encodes m as the agent (255/190) would.
func (r *rig) send(m mavlink.Message) {
	r.t.Helper()
	r.sendFrom(r.cl, m)
}

func (r *rig) sendFrom(c *client, m mavlink.Message) {
	r.t.Helper()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Seq: c.seq, SysID: 255, CompID: 190}, m, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	c.seq++
	if _, err := c.port.Write(b); err != nil {
		r.t.Fatalf("write %T: %v", m, err)
	}
}

// wait returns the first frame not yet matched by a wait (after the floor,
// see skip) that matches, or fails the test after ioWait. Frames that do
// not match stay for later waits: a STATUSTEXT sent before an ACK is still
// found after waiting for the ACK.
func (r *rig) wait(what string, match func(rx) bool) rx {
	r.t.Helper()
	if got, ok := r.cl.waitFor(match, ioWait); ok {
		return got
	}
	r.t.Fatalf("no %s within %v", what, ioWait)
	return rx{}
}

func (c *client) waitFor(match func(rx) bool, within time.Duration) (rx, bool) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i := c.floor; i < len(c.got); i++ {
			if g := c.got[i]; !c.consumed[i] && match(g) {
				c.consumed[i] = true
				c.mu.Unlock()
				return g, true
			}
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-deadline.C:
			return rx{}, false
		}
	}
}

// mark returns the number of frames received so far.
func (c *client) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// skip makes later waits ignore the frames received so far.
func (c *client) skip() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.floor = len(c.got)
}

// since returns the frames received after mark.
func (c *client) since(mark int) []rx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]rx(nil), c.got[mark:]...)
}

func isMsg(id uint32) func(rx) bool { return func(r rx) bool { return r.id == id } }

// barrier makes sure every frame the simulator queued so far has arrived:
// it asks for a parameter and waits for the answer, which queues behind.
func (r *rig) barrier() {
	r.t.Helper()
	m := &mavlink.ParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamIndex: -1}
	copy(m.ParamID[:], "SYSID_THISMAV")
	r.send(m)
	r.wait("PARAM_VALUE (barrier)", isMsg(22))
}

// advance moves the fake clock by d in steps of step, letting the
// simulator finish each step before the next.
func (r *rig) advance(d, step time.Duration) {
	r.t.Helper()
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		r.block()
		r.clk.Advance(step)
	}
	r.block()
}

func (r *rig) block() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, ioWait)
	defer cancel()
	if err := r.clk.BlockUntilContext(ctx, 1); err != nil {
		r.t.Fatalf("simulator did not park on its timer: %v", err)
	}
}

// advanceUntil advances in steps until cond holds for the state, failing
// after limit of simulated time.
func (r *rig) advanceUntil(what string, limit, step time.Duration, cond func(State) bool) State {
	r.t.Helper()
	for elapsed := time.Duration(0); elapsed <= limit; elapsed += step {
		if st := r.sim.State(); cond(st) {
			return st
		}
		r.advance(step, step)
	}
	st := r.sim.State()
	r.t.Fatalf("%s: not reached within %v of simulated time; state %+v", what, limit, st)
	return st
}

// command sends COMMAND_LONG and returns the result of its ACK.
func (r *rig) command(cmd mavlink.MAVCmd, p ...float32) mavlink.MAVResult {
	r.t.Helper()
	return r.commandConf(0, cmd, p...)
}

func (r *rig) commandConf(conf uint8, cmd mavlink.MAVCmd, p ...float32) mavlink.MAVResult {
	r.t.Helper()
	var ps [7]float32
	copy(ps[:], p)
	r.send(&mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: cmd, Confirmation: conf,
		Param1: ps[0], Param2: ps[1], Param3: ps[2], Param4: ps[3], Param5: ps[4], Param6: ps[5], Param7: ps[6]})
	return r.ackOf(cmd)
}

func (r *rig) ackOf(cmd mavlink.MAVCmd) mavlink.MAVResult {
	r.t.Helper()
	g := r.wait("COMMAND_ACK of "+cmd.String(), func(g rx) bool {
		if g.id != 77 {
			return false
		}
		var a mavlink.CommandAck
		f := mavlink.Frame{MsgID: 77, Payload: g.payload}
		_ = mavlink.DecodeMessage(&f, &a)
		return a.Command == cmd
	})
	var a mavlink.CommandAck
	g.decode(r.t, &a)
	return a.Result
}

func (r *rig) setMode(m Mode) mavlink.MAVResult {
	r.t.Helper()
	return r.command(mavlink.MAV_CMD_DO_SET_MODE, float32(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), float32(m))
}

func (r *rig) mustCommand(cmd mavlink.MAVCmd, p ...float32) {
	r.t.Helper()
	if got := r.command(cmd, p...); got != mavlink.MAV_RESULT_ACCEPTED {
		r.t.Fatalf("%v(%v) = %v, want MAV_RESULT_ACCEPTED", cmd, p, got)
	}
}

// text waits for a STATUSTEXT containing want.
func (r *rig) text(want string) {
	r.t.Helper()
	r.wait("STATUSTEXT "+want, func(g rx) bool {
		if g.id != 253 {
			return false
		}
		var st mavlink.Statustext
		f := mavlink.Frame{MsgID: 253, Payload: g.payload}
		_ = mavlink.DecodeMessage(&f, &st)
		return strings.Contains(textOf(st), want)
	})
}

func textOf(st mavlink.Statustext) string {
	s := string(st.Text[:])
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

// offsetPos returns the point n metres north and e metres east of p.
func offsetPos(p Position, n, e float64) (lat, lon float64) {
	return p.Lat + deg(n/earthRadius), p.Lon + deg(e/(earthRadius*math.Cos(rad(p.Lat))))
}

func distM(lat1, lon1, lat2, lon2 float64) float64 {
	n := rad(lat2-lat1) * earthRadius
	e := rad(lon2-lon1) * earthRadius * math.Cos(rad(lat1))
	return math.Hypot(n, e)
}
