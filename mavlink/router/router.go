package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// maxReadFailures is how many read errors in a row an endpoint survives.
const maxReadFailures = 100

// Defaults of Options.
const (
	DefaultClientTimeout = 10 * time.Second
	DefaultDedupeWindow  = 200 * time.Millisecond
)

// Sender takes raw frames toward the vehicle; a transport.Link fits.
type Sender interface {
	Write(raw []byte) error
}

// ErrRefused is what a GateSender returns (wrapped) for a frame that must
// not reach the vehicle: the router then passes it nowhere else either.
var ErrRefused = errors.New("refused")

// GateSender is a Sender that judges each endpoint frame: the router calls
// WriteFrom instead of Write, naming the endpoint the frame came from. A
// refused frame comes back as an error wrapping ErrRefused and goes no
// further; reply, when not nil, is sent to the frame's sender alone (a
// COMMAND_ACK saying no). raw and reply are not kept past the call.
type GateSender interface {
	Sender
	WriteFrom(endpoint string, raw []byte) (reply []byte, err error)
}

// Options configures a Router. Endpoints may be empty (the router then
// only counts).
type Options struct {
	Endpoints []Endpoint
	// ClientTimeout is how long a server endpoint keeps sending to a client
	// it no longer hears; 0 means 10 s.
	ClientTimeout time.Duration
	// DedupeWindow is how long a frame is remembered to drop its copy from
	// a redundant link; 0 means 200 ms, negative turns deduplication off.
	DedupeWindow time.Duration
	Clock        clockwork.Clock // nil means the real clock
	Log          *slog.Logger    // nil discards
}

// Endpoint is one ground-station side of the router.
type Endpoint struct {
	// Name labels the endpoint in logs and Stats; empty means the
	// endpoint in URL form (udp://Addr or udpin://Addr).
	Name string
	// Listen makes a server endpoint: listen on Addr ([host]:port) and
	// answer every client heard within ClientTimeout (udpin:// in
	// vehicle.forward). Otherwise send to a ground station at Addr
	// (host:port) and hear its replies (udp://). The forward URLs are
	// parsed in one place, config.ParseLink; the app passes their parts.
	Listen bool
	Addr   string
	// Filter selects the frames the endpoint exchanges (both directions).
	Filter Filter
}

// Filter selects frames by message id and source system. Empty allow lists
// allow everything; a block list wins over an allow list.
type Filter struct {
	AllowMsgIDs, BlockMsgIDs []uint32
	AllowSysIDs, BlockSysIDs []uint8
}

func (f *Filter) pass(h mavlink.RawHeader) bool {
	if len(f.AllowMsgIDs) > 0 && !slices.Contains(f.AllowMsgIDs, h.MsgID) {
		return false
	}
	if slices.Contains(f.BlockMsgIDs, h.MsgID) {
		return false
	}
	if len(f.AllowSysIDs) > 0 && !slices.Contains(f.AllowSysIDs, h.SysID) {
		return false
	}
	return !slices.Contains(f.BlockSysIDs, h.SysID)
}

// Stats counts one endpoint's traffic. Counters only grow, except Clients.
type Stats struct {
	Name                string
	FramesOut, BytesOut uint64 // frames sent to the endpoint (to each client)
	FramesIn, BytesIn   uint64 // frames from the endpoint passed on
	Filtered            uint64 // frames the filter held back, both directions
	Refused             uint64 // frames from the endpoint a GateSender refused
	Replies             uint64 // answers to refused frames sent back
	WriteErrors         uint64
	Clients             int // server: clients heard within ClientTimeout
}

// Router forwards MAVLink frames between the vehicle and ground-station
// endpoints, bytes untouched: Forward sends a frame (the vehicle's or the
// agent's own) to every endpoint; Run passes the endpoints' frames to the
// vehicle and to the other endpoints. Safe for concurrent use.
type Router struct {
	opts      Options
	log       *slog.Logger
	clk       clockwork.Clock
	toVehicle Sender
	eps       []*endpoint

	out, in    dedupe // vehicle side and endpoint side
	duplicates atomic.Uint64
	closeOnce  sync.Once

	qmu sync.Mutex // guards q (Queue, Flush)
	q   batch
}

type endpoint struct {
	name   string
	filter Filter
	pc     *net.UDPConn
	server bool
	dst    netip.AddrPort // client endpoint's ground station

	mu      sync.Mutex
	clients map[netip.AddrPort]time.Time // server: last heard

	rc      syscall.RawConn // pc's descriptor, for sendmmsg
	family  int             // pc's address family (Linux)
	wmu     sync.Mutex      // guards scratch
	scratch sendScratch
	sel     [][]byte // Flush's frames passing this endpoint's filter

	framesOut, bytesOut, framesIn, bytesIn, filtered, refused, replies, writeErrors atomic.Uint64
}

// New opens the endpoints' sockets (so a busy port fails here) and returns
// the router; toVehicle gets the endpoints' frames. Run closes the sockets
// when it returns; call Close instead if Run is never called.
func New(opts Options, toVehicle Sender) (*Router, error) {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.ClientTimeout <= 0 {
		opts.ClientTimeout = DefaultClientTimeout
	}
	if opts.DedupeWindow == 0 {
		opts.DedupeWindow = DefaultDedupeWindow
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{opts: opts, log: log.With("component", "router"), clk: opts.Clock, toVehicle: toVehicle}
	r.out.window, r.in.window = opts.DedupeWindow, opts.DedupeWindow
	for _, e := range opts.Endpoints {
		ep, err := openEndpoint(e)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.eps = append(r.eps, ep)
		if ep.rc, err = ep.pc.SyscallConn(); err == nil {
			ep.family, err = socketFamily(ep.rc)
		}
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("endpoint %s: %w", ep.name, err)
		}
	}
	return r, nil
}

func openEndpoint(e Endpoint) (*endpoint, error) {
	url := "udp://" + e.Addr
	if e.Listen {
		url = "udpin://" + e.Addr
	}
	name := e.Name
	if name == "" {
		name = url
	}
	ep := &endpoint{name: name, filter: e.Filter}
	switch {
	case e.Addr == "":
		return nil, fmt.Errorf("endpoint %s: no address", name)
	case !e.Listen:
		ap, err := netip.ParseAddrPort(e.Addr)
		if err != nil {
			ua, rerr := net.ResolveUDPAddr("udp", e.Addr)
			if rerr != nil {
				return nil, fmt.Errorf("endpoint %s: resolve %s: %w", name, url, rerr)
			}
			ap = ua.AddrPort()
		}
		ep.dst = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		pc, err := net.ListenUDP("udp", nil)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: open udp socket: %w", name, err)
		}
		ep.pc = pc
	default:
		ua, err := net.ResolveUDPAddr("udp", e.Addr)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: resolve %s: %w", name, url, err)
		}
		pc, err := net.ListenUDP("udp", ua)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: listen on %s: %w", name, url, err)
		}
		ep.pc, ep.server = pc, true
		ep.clients = map[netip.AddrPort]time.Time{}
	}
	return ep, nil
}

// Close closes the endpoint sockets; Run does it on return. Safe to call
// twice.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		for _, ep := range r.eps {
			ep.pc.Close()
		}
	})
	return nil
}

// LocalAddr returns the bound address of the named endpoint's socket
// (useful with udpin://127.0.0.1:0), invalid if there is no such endpoint.
func (r *Router) LocalAddr(name string) netip.AddrPort {
	for _, ep := range r.eps {
		if ep.name == name {
			return ep.pc.LocalAddr().(*net.UDPAddr).AddrPort()
		}
	}
	return netip.AddrPort{}
}

// Stats returns each endpoint's counters, in Options order.
func (r *Router) Stats() []Stats {
	now := r.clk.Now()
	out := make([]Stats, len(r.eps))
	for i, ep := range r.eps {
		out[i] = Stats{Name: ep.name, FramesOut: ep.framesOut.Load(), BytesOut: ep.bytesOut.Load(),
			FramesIn: ep.framesIn.Load(), BytesIn: ep.bytesIn.Load(), Filtered: ep.filtered.Load(),
			Refused: ep.refused.Load(), Replies: ep.replies.Load(), WriteErrors: ep.writeErrors.Load()}
		if ep.server {
			ep.mu.Lock()
			for _, heard := range ep.clients {
				if now.Sub(heard) <= r.opts.ClientTimeout {
					out[i].Clients++
				}
			}
			ep.mu.Unlock()
		}
	}
	return out
}

// Duplicates returns how many frames were dropped as copies.
func (r *Router) Duplicates() uint64 { return r.duplicates.Load() }

// Forward sends one raw frame heard from the vehicle, or sent by the agent
// itself, to every endpoint whose filter passes it, unless the same frame
// passed within the dedupe window. raw is not kept. It does not allocate.
func (r *Router) Forward(raw []byte) {
	h, ok := mavlink.PeekHeader(raw)
	if !ok {
		return
	}
	if r.opts.DedupeWindow > 0 && r.out.seen(h, r.clk.Now()) {
		r.duplicates.Add(1)
		return
	}
	r.fanOut(raw, h, nil)
}

// fanOut sends raw to every endpoint but skip.
func (r *Router) fanOut(raw []byte, h mavlink.RawHeader, skip *endpoint) {
	var now time.Time
	for _, ep := range r.eps {
		if ep == skip {
			continue
		}
		if !ep.filter.pass(h) {
			ep.filtered.Add(1)
			continue
		}
		r.toEach(ep, &now, func(to netip.AddrPort) { ep.send(raw, to) })
	}
}

// toEach calls send for ep's ground station, or, on a server endpoint, for
// every client heard within ClientTimeout, forgetting the others. *now is
// read from the clock once per fan-out, on the first server endpoint.
func (r *Router) toEach(ep *endpoint, now *time.Time, send func(to netip.AddrPort)) {
	if !ep.server {
		send(ep.dst)
		return
	}
	if now.IsZero() {
		*now = r.clk.Now()
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for c, heard := range ep.clients {
		if now.Sub(heard) > r.opts.ClientTimeout {
			delete(ep.clients, c)
			continue
		}
		send(c)
	}
}

// send sends one frame: writeBatch's raw system call, which keeps the
// runtime's monitor asleep (see sendmmsg_linux.go), with a batch of one.
func (ep *endpoint) send(raw []byte, to netip.AddrPort) {
	ep.sendBatch([][]byte{raw}, to)
}

// Run reads every endpoint until ctx ends and passes their frames to the
// vehicle and the other endpoints. It closes the sockets and returns nil
// once ctx ended and its readers returned.
func (r *Router) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, ep := range r.eps {
		wg.Go(func() { r.read(ep) })
	}
	<-ctx.Done()
	r.Close()
	wg.Wait()
	return nil
}

func (r *Router) read(ep *endpoint) {
	buf := make([]byte, 65536)
	p := mavlink.NewParser(mavlink.ParserOptions{})
	var f mavlink.Frame
	failures := 0
	for {
		n, from, err := ep.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (an ICMP error queued on the socket) is
			// skipped; one that repeats would spin, so the endpoint stops
			// hearing and says so.
			if failures++; failures > maxReadFailures {
				r.log.Error("endpoint stopped reading", "endpoint", ep.name, "err", err)
				return
			}
			continue
		}
		failures = 0
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if ep.server {
			ep.mu.Lock()
			if _, known := ep.clients[from]; !known {
				r.log.Info("ground station heard", "endpoint", ep.name, "addr", from.String())
			}
			ep.clients[from] = r.clk.Now()
			ep.mu.Unlock()
		}
		b := buf[:n]
		for len(b) > 0 {
			k, err := p.Next(b, true, &f)
			b = b[k:]
			if err == io.EOF || k == 0 {
				break
			}
			if err != nil {
				continue // damaged frame: counted by the parser, skipped
			}
			r.fromEndpoint(ep, from, f.Raw)
		}
	}
}

// fromEndpoint passes a ground station's frame (heard from the address
// from) to the vehicle and the other endpoints.
func (r *Router) fromEndpoint(ep *endpoint, from netip.AddrPort, raw []byte) {
	h, ok := mavlink.PeekHeader(raw)
	if !ok {
		return
	}
	if !ep.filter.pass(h) {
		ep.filtered.Add(1)
		return
	}
	if r.opts.DedupeWindow > 0 && r.in.seen(h, r.clk.Now()) {
		r.duplicates.Add(1)
		return
	}
	if gs, ok := r.toVehicle.(GateSender); ok {
		reply, err := gs.WriteFrom(ep.name, raw)
		if reply != nil {
			if _, werr := ep.pc.WriteToUDPAddrPort(reply, from); werr != nil {
				ep.writeErrors.Add(1)
			} else {
				ep.replies.Add(1)
			}
		}
		if errors.Is(err, ErrRefused) {
			ep.refused.Add(1)
			return
		}
		// Any other error is a down link: the frame is lost, as a
		// radio would lose it.
	} else if r.toVehicle != nil {
		r.toVehicle.Write(raw) // a down link loses the frame, as a radio would
	}
	ep.framesIn.Add(1)
	ep.bytesIn.Add(uint64(len(raw)))
	r.fanOut(raw, h, ep)
}
