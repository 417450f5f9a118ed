package campaign

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/testbench/world"
)

// The inbound campaign (issue 21): frames that would arm the vehicle or
// send it off, from a ground station on the agent's UDP forward and from
// the raw MQTT bridge, against the real agent. With the dock closed none
// may arm the vehicle (the witness counts no violation) and each is
// answered COMMAND_ACK MAV_RESULT_DENIED; with the lid open and the arms
// released an allowed source arms it, a source on the read-only default
// still cannot.

// Sources of the inbound campaign: a ground station on the read-only
// default, a maintenance laptop allowed to arm and fly, the MQTT bridge
// allowed the same. Each uses its own system id, so its answers are told
// apart.
const (
	SourceGCS    = "gcs"
	SourceLaptop = "laptop"
	SourceBridge = "bridge"
)

var sourceSysID = map[string]uint8{SourceGCS: 255, SourceLaptop: 254, SourceBridge: 250}

// allowedInbound is what the laptop and the bridge may send.
var allowedInbound = config.Inbound{AllowMsgIDs: []int{11}, AllowCommands: []int{400, 300, 176}}

// Attack is one frame the campaign sends toward the vehicle.
type Attack struct {
	Name string
	// Msg builds the frame's message.
	Msg func() mavlink.Message
	// AckCommand is the command of the COMMAND_ACK that answers it.
	AckCommand mavlink.MAVCmd
}

// answers reports whether a COMMAND_ACK for cmd answers a. SET_MODE is a
// message, not a command: ArduPilot answers it with the message id (11)
// as the command, the bench's simulated drone with MAV_CMD_DO_SET_MODE.
func (a Attack) answers(cmd mavlink.MAVCmd) bool {
	return cmd == a.AckCommand || (a.AckCommand == 11 && cmd == mavlink.MAV_CMD_DO_SET_MODE)
}

// Attacks are the frames of issue 21 that armed the vehicle in the closed
// dock.
func Attacks() []Attack {
	return []Attack{
		{"COMMAND_LONG ARM (force)", func() mavlink.Message {
			return &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1, Param2: 21196}
		}, mavlink.MAV_CMD_COMPONENT_ARM_DISARM},
		{"COMMAND_INT ARM", func() mavlink.Message {
			return &mavlink.CommandInt{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}
		}, mavlink.MAV_CMD_COMPONENT_ARM_DISARM},
		{"SET_MODE GUIDED+armed", func() mavlink.Message {
			return &mavlink.SetMode{TargetSystem: 1, BaseMode: uint8(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | mavlink.MAV_MODE_FLAG_SAFETY_ARMED), CustomMode: 4}
		}, 11},
		{"COMMAND_LONG MISSION_START", func() mavlink.Message {
			return &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_MISSION_START}
		}, mavlink.MAV_CMD_MISSION_START},
	}
}

// InboundResult is what the inbound campaign measured.
type InboundResult struct {
	Repeat int // each attack sent this often per source
	// Denied counts, per source and attack, the COMMAND_ACK
	// MAV_RESULT_DENIED answers with the dock closed.
	Denied map[string]map[string]int
	// Sent counts the frames sent with the dock closed.
	Sent int
	// ArmedClosed is how often the vehicle was seen armed with the dock
	// closed (sampled after every answer).
	ArmedClosed int
	// OpenDefaultDenied: the read-only source's ARM with the dock open
	// was answered DENIED and did not arm.
	OpenDefaultDenied bool
	// OpenArmed: the allowed sources armed the vehicle with the dock open.
	OpenArmed map[string]bool
	// RefusedMetric is dock_agent_mavlink_inbound_refused_total at the end.
	RefusedMetric float64
	Violations    []world.Violation
	Wall          time.Duration
}

// Pass reports whether the result is what issue 21 asks.
func (r InboundResult) Pass() bool {
	if r.ArmedClosed > 0 || len(r.Violations) > 0 || !r.OpenDefaultDenied {
		return false
	}
	for _, src := range []string{SourceGCS, SourceLaptop, SourceBridge} {
		for _, a := range Attacks() {
			if r.Denied[src][a.Name] != r.Repeat {
				return false
			}
		}
	}
	return r.OpenArmed[SourceLaptop] && r.OpenArmed[SourceBridge]
}

func (r InboundResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inbound: %d frames sent with the dock closed (%d attacks x 3 sources x %d)\n", r.Sent, len(Attacks()), r.Repeat)
	for _, src := range []string{SourceGCS, SourceLaptop, SourceBridge} {
		for _, a := range Attacks() {
			fmt.Fprintf(&b, "  %-7s %-28s denied %d/%d\n", src, a.Name, r.Denied[src][a.Name], r.Repeat)
		}
	}
	fmt.Fprintf(&b, "  vehicle seen armed with the dock closed: %d times; witness violations: %d\n", r.ArmedClosed, len(r.Violations))
	fmt.Fprintf(&b, "  dock open: read-only gcs ARM denied %v; laptop armed %v; bridge armed %v\n", r.OpenDefaultDenied, r.OpenArmed[SourceLaptop], r.OpenArmed[SourceBridge])
	fmt.Fprintf(&b, "  dock_agent_mavlink_inbound_refused_total %g; wall %v\n", r.RefusedMetric, r.Wall.Round(100*time.Millisecond))
	return b.String()
}

// groundStation is a UDP socket the agent forwards to; it collects the
// COMMAND_ACKs addressed to its system id.
type groundStation struct {
	sysID uint8
	c     *net.UDPConn
	seq   uint8

	mu    sync.Mutex
	agent netip.AddrPort
	acks  []mavlink.CommandAck
	heard chan struct{} // closed once the agent was heard
	once  sync.Once
}

func newGroundStation(sysID uint8) (*groundStation, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("ground station socket: %w", err)
	}
	return &groundStation{sysID: sysID, c: c, heard: make(chan struct{})}, nil
}

// read collects until the socket is closed.
func (g *groundStation) read() {
	buf := make([]byte, 65536)
	p := mavlink.NewParser(mavlink.ParserOptions{})
	for {
		n, from, err := g.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		g.mu.Lock()
		g.agent = from
		g.mu.Unlock()
		g.once.Do(func() { close(g.heard) })
		for b := buf[:n]; len(b) > 0; {
			var f mavlink.Frame
			k, err := p.Next(b, true, &f)
			b = b[k:]
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || f.MsgID != 77 {
				continue
			}
			var ack mavlink.CommandAck
			if mavlink.DecodeMessage(&f, &ack) == nil && ack.TargetSystem == g.sysID {
				g.mu.Lock()
				g.acks = append(g.acks, ack)
				g.mu.Unlock()
			}
		}
	}
}

func (g *groundStation) url() string { return "udp://" + g.c.LocalAddr().String() }

func (g *groundStation) ackCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.acks)
}

func (g *groundStation) ack(i int) mavlink.CommandAck {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.acks[i]
}

func (g *groundStation) send(m mavlink.Message) error {
	g.mu.Lock()
	to := g.agent
	g.seq++
	seq := g.seq
	g.mu.Unlock()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Seq: seq, SysID: g.sysID, CompID: 190}, m, nil)
	if err != nil {
		return err
	}
	_, err = g.c.WriteToUDPAddrPort(b, to)
	return err
}

// bridgeAcks returns the COMMAND_ACKs to sysID seen on mavlink/out.
func bridgeAcks(obs *world.Observer, sysID uint8) []mavlink.CommandAck {
	var out []mavlink.CommandAck
	p := mavlink.NewParser(mavlink.ParserOptions{})
	for _, m := range obs.Messages("mavlink/out") {
		var f mavlink.Frame
		if _, err := p.Next(m.Payload, true, &f); err != nil || f.MsgID != 77 {
			continue
		}
		var ack mavlink.CommandAck
		if mavlink.DecodeMessage(&f, &ack) == nil && ack.TargetSystem == sysID {
			out = append(out, ack)
		}
	}
	return out
}

// RunInbound runs the inbound campaign: each attack sent repeat times from
// each source with the dock closed, then ARM with the dock open.
func RunInbound(ctx context.Context, o Options, repeat int) (res InboundResult, err error) {
	start := time.Now()
	res = InboundResult{Repeat: repeat, Denied: map[string]map[string]int{}, OpenArmed: map[string]bool{}}
	defer func() { res.Wall = time.Since(start) }()
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	gcs, err := newGroundStation(sourceSysID[SourceGCS])
	if err != nil {
		return res, err
	}
	laptop, err := newGroundStation(sourceSysID[SourceLaptop])
	if err != nil {
		gcs.c.Close()
		return res, err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer gcs.c.Close()
	defer laptop.c.Close()
	wg.Go(gcs.read)
	wg.Go(laptop.read)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	wo := world.Options{Speed: o.speed(), BrokerAddr: "127.0.0.1:0", GCS: "none", Edit: func(c *config.Config) {
		c.Vehicle.Forward = []config.Forward{{URL: gcs.url()}, {URL: laptop.url(), Inbound: allowedInbound}}
		c.MQTT.MAVLinkBridge = true
		c.MQTT.MAVLinkBridgeInbound = allowedInbound
		c.Metrics.Listen = metricsAddr
	}}
	if o.Dir != "" {
		wo.Dir = o.Dir + "/inbound"
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	w, err := world.Start(sctx, wo)
	if err != nil {
		return res, fmt.Errorf("start world: %w", err)
	}
	defer w.Close()
	// On every way out: what the witness saw (before the world closes).
	defer func() {
		w.Witness().Check()
		res.Violations = w.Witness().Violations()
	}()
	obs, err := w.Observe(sctx)
	if err != nil {
		return res, fmt.Errorf("observe world: %w", err)
	}
	defer obs.Close()
	if err := obs.Wait(sctx, obs.ReadyToFly); err != nil {
		return res, fmt.Errorf("dock never ready: %w", err)
	}
	for _, g := range []*groundStation{gcs, laptop} {
		select {
		case <-g.heard:
		case <-sctx.Done():
			return res, fmt.Errorf("ground station %d never heard the agent's forward", g.sysID)
		}
	}

	// send sends one attack from src and returns its answer.
	send := func(src string, a Attack) (mavlink.CommandAck, error) {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var got mavlink.CommandAck
		match := func(acks func(int) mavlink.CommandAck, from, to int) bool {
			for i := from; i < to; i++ {
				if a.answers(acks(i).Command) {
					got = acks(i)
					return true
				}
			}
			return false
		}
		switch src {
		case SourceBridge:
			before := len(bridgeAcks(obs, sourceSysID[src]))
			b, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: sourceSysID[src], CompID: 190}, a.Msg(), nil)
			if err != nil {
				return got, err
			}
			if err := obs.PublishFrame(wctx, b); err != nil {
				return got, err
			}
			err = obs.Wait(wctx, func() bool {
				acks := bridgeAcks(obs, sourceSysID[src])
				return match(func(i int) mavlink.CommandAck { return acks[i] }, before, len(acks))
			})
			return got, err
		default:
			g := gcs
			if src == SourceLaptop {
				g = laptop
			}
			before := g.ackCount()
			if err := g.send(a.Msg()); err != nil {
				return got, err
			}
			t := time.NewTicker(2 * time.Millisecond) // real IO: poll the collected answers
			defer t.Stop()
			for {
				if match(g.ack, before, g.ackCount()) {
					return got, nil
				}
				select {
				case <-wctx.Done():
					return got, fmt.Errorf("no COMMAND_ACK for %s from %s: %w", a.Name, src, wctx.Err())
				case <-t.C:
				}
			}
		}
	}

	// The dock closed: every attack from every source is denied.
	for _, src := range []string{SourceGCS, SourceLaptop, SourceBridge} {
		res.Denied[src] = map[string]int{}
		for _, a := range Attacks() {
			for range repeat {
				ack, err := send(src, a)
				res.Sent++
				if err != nil {
					return res, fmt.Errorf("%s %s: %w", src, a.Name, err)
				}
				if ack.Result == mavlink.MAV_RESULT_DENIED {
					res.Denied[src][a.Name]++
				}
				if w.DroneState().Armed {
					res.ArmedClosed++
				}
			}
			logf("closed dock: %s %s denied %d/%d", src, a.Name, res.Denied[src][a.Name], repeat)
		}
	}

	// Open the dock (maintenance: lid open, arms released).
	for _, c := range []struct{ cmd, key, value string }{{"mode", "mode", "maintenance"}, {"lid", "action", "open"}, {"arms", "action", "release"}} {
		rep, err := obs.Send(ctx, c.cmd, map[string]any{c.key: c.value})
		switch {
		case err != nil:
			return res, fmt.Errorf("%s %s: %w", c.cmd, c.value, err)
		case !rep.OK && rep.Error != nil:
			return res, fmt.Errorf("%s %s refused: %s: %s", c.cmd, c.value, rep.Error.Code, rep.Error.Message)
		case !rep.OK:
			return res, fmt.Errorf("%s %s refused", c.cmd, c.value)
		}
	}
	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	if err := obs.Wait(octx, func() bool {
		st := obs.State()
		return st["lid"] == "open" && st["arms"] == "released"
	}); err != nil {
		return res, fmt.Errorf("dock never opened: %w", err)
	}
	logf("dock open: lid open, arms released")

	arm := Attacks()[0]
	arm.Name = "COMMAND_LONG ARM"
	arm.Msg = func() mavlink.Message {
		return &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM, Param1: 1}
	}
	disarm := arm
	disarm.Msg = func() mavlink.Message {
		return &mavlink.CommandLong{TargetSystem: 1, TargetComponent: 1, Command: mavlink.MAV_CMD_COMPONENT_ARM_DISARM}
	}
	ack, err := send(SourceGCS, arm)
	if err != nil {
		return res, err
	}
	res.OpenDefaultDenied = ack.Result == mavlink.MAV_RESULT_DENIED && !w.DroneState().Armed
	armInt := Attacks()[1]
	for _, c := range []struct {
		src string
		a   Attack
	}{{SourceLaptop, arm}, {SourceBridge, armInt}} {
		ack, err := send(c.src, c.a)
		if err != nil {
			return res, err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		armed := obs.Wait(wctx, func() bool { return w.DroneState().Armed }) == nil
		cancel()
		res.OpenArmed[c.src] = ack.Result == mavlink.MAV_RESULT_ACCEPTED && armed
		logf("dock open: %s %s -> %v, vehicle armed %v", c.src, c.a.Name, ack.Result, armed)
		if _, err := send(c.src, disarm); err != nil {
			return res, err
		}
		wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		err = obs.Wait(wctx, func() bool { return !w.DroneState().Armed })
		cancel()
		if err != nil {
			return res, fmt.Errorf("%s: vehicle not disarmed again: %w", c.src, err)
		}
	}

	res.RefusedMetric, err = scrape(ctx, metricsAddr, "dock_agent_mavlink_inbound_refused_total")
	return res, err
}

// scrape reads one counter of the agent's /metrics, summed over its
// labels; name may be one exact series (name{label="v",...}). A series
// not there yet reads 0.
func scrape(ctx context.Context, addr, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum += f
	}
	return sum, sc.Err()
}
