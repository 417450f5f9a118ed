package vehicle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// Sender takes raw MAVLink frames toward the vehicle; a transport.Link fits.
type Sender interface {
	Write(raw []byte) error
}

// Defaults of Options (QGroundControl's command timing, the mission
// protocol's recommended timing, MAVSDK's heartbeat timeout).
const (
	DefaultSysID              = 255
	DefaultCompID             = 190 // MAV_COMP_ID_MISSIONPLANNER
	DefaultHeartbeatInterval  = time.Second
	DefaultLinkTimeout        = 3 * time.Second
	DefaultCommandTimeout     = 3 * time.Second
	DefaultCommandTries       = 3
	DefaultInProgressTimeout  = 30 * time.Second
	DefaultMissionTimeout     = 1500 * time.Millisecond
	DefaultMissionItemTimeout = 250 * time.Millisecond
	DefaultMissionRetries     = 5
)

// ErrNoVehicle is returned by operations before an autopilot was discovered.
var ErrNoVehicle = errors.New("no vehicle discovered")

// ErrTimeout is wrapped by errors of requests the vehicle never answered.
var ErrTimeout = errors.New("no answer from the vehicle")

// Options configures a Client. The zero value is usable: ids 255/190, a GCS
// heartbeat at 1 Hz, link lost after 3 s, QGroundControl command timing,
// DefaultStreams, the real clock, no logging.
type Options struct {
	// SysID and CompID are our ids; 0 means 255 and 190.
	SysID, CompID uint8
	// Type is the MAV_TYPE of our heartbeat; 0 (GENERIC) means MAV_TYPE_GCS.
	Type mavlink.MAVType
	// TargetSysID, if not 0, is the only autopilot system we talk to; 0
	// means the first autopilot heard.
	TargetSysID uint8
	// Signer signs every frame we send when set.
	Signer *mavlink.Signer

	Clock clockwork.Clock
	Log   *slog.Logger

	HeartbeatInterval time.Duration // 0 means 1 s
	LinkTimeout       time.Duration // 0 means 3 s
	// CommandTimeout is how long to wait for a COMMAND_ACK before sending
	// again, CommandTries how often to send; InProgressTimeout how long to
	// wait after MAV_RESULT_IN_PROGRESS. Zero means the defaults.
	CommandTimeout    time.Duration
	CommandTries      int
	InProgressTimeout time.Duration
	// MissionTimeout (per request or ack), MissionItemTimeout (per item on
	// download) and MissionRetries; zero means 1500 ms, 250 ms, 5.
	MissionTimeout     time.Duration
	MissionItemTimeout time.Duration
	MissionRetries     int
	// VerifyUpload downloads a mission after uploading it and compares:
	// ArduPilot uploads are not atomic.
	VerifyUpload bool

	// Streams are the messages and rates set up after every discovery and
	// reboot, until SetStreams replaces them; nil means DefaultStreams. An
	// empty non-nil slice asks for nothing.
	Streams []Stream

	// OnSend, if set, sees every frame the client sent (raw bytes, valid
	// during the call) for the router, flight log and metrics. It runs on
	// the sending goroutine and must not block for long.
	OnSend func(raw []byte)
	// OnLink, if set, is called when the vehicle link becomes alive (first
	// heartbeat or back after loss) or lost. It must not block for long.
	OnLink func(alive bool)
}

// Client is the agent's client of one autopilot. Its methods are safe for
// concurrent use; operations block until the vehicle answered or ctx ends.
type Client struct {
	opts Options
	out  Sender
	log  *slog.Logger
	clk  clockwork.Clock

	sendMu sync.Mutex // guards seq and buf
	seq    uint8
	buf    []byte

	mu       sync.Mutex // guards everything below
	st       State
	lastSeq  map[uint16]uint8 // per sender sys<<8|comp
	rx, lost float64          // decayed counters for LossPct
	lastBoot uint32
	lastText string // the last status text logged
	waiters  map[*waiter]struct{}
	cmdLocks map[mavlink.MAVCmd]*sync.Mutex
	params   map[string]uint8 // param types seen
	setup    chan struct{}    // a stream set-up is wanted
	streams  []Stream         // the set SetupStreams asks for (SetStreams)

	missionMu sync.Mutex // one mission transfer at a time
	streamsMu sync.Mutex // one stream set-up at a time: two would mix their sets
	paramMu   sync.Mutex // one parameter transfer at a time
}

// New returns a Client that sends through out. Feed it the vehicle's
// frames with Handle and start it with Run.
func New(opts Options, out Sender) *Client {
	if opts.SysID == 0 {
		opts.SysID = DefaultSysID
	}
	if opts.CompID == 0 {
		opts.CompID = DefaultCompID
	}
	if opts.Type == 0 {
		opts.Type = mavlink.MAV_TYPE_GCS
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	setDefault(&opts.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&opts.LinkTimeout, DefaultLinkTimeout)
	setDefault(&opts.CommandTimeout, DefaultCommandTimeout)
	setDefault(&opts.InProgressTimeout, DefaultInProgressTimeout)
	setDefault(&opts.MissionTimeout, DefaultMissionTimeout)
	setDefault(&opts.MissionItemTimeout, DefaultMissionItemTimeout)
	if opts.CommandTries <= 0 {
		opts.CommandTries = DefaultCommandTries
	}
	if opts.MissionRetries <= 0 {
		opts.MissionRetries = DefaultMissionRetries
	}
	if opts.Streams == nil {
		opts.Streams = DefaultStreams()
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		opts: opts, out: out, log: log.With("component", "vehicle"), clk: opts.Clock,
		buf:      make([]byte, 0, mavlink.MaxFrameLen),
		st:       newState(),
		lastSeq:  map[uint16]uint8{},
		waiters:  map[*waiter]struct{}{},
		cmdLocks: map[mavlink.MAVCmd]*sync.Mutex{},
		params:   map[string]uint8{},
		setup:    make(chan struct{}, 1),
		streams:  slices.Clone(opts.Streams),
	}
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// State returns a snapshot of the vehicle's state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st
	s.StatusTexts = append([]StatusText(nil), c.st.StatusTexts...)
	if c.rx+c.lost > 0 {
		s.LossPct = 100 * c.lost / (c.rx + c.lost)
	}
	return s
}

// Run sends our heartbeat, watches the link and sets up the streams after
// every discovery and reboot, until ctx ends. It returns nil then, after
// its goroutines returned.
func (c *Client) Run(ctx context.Context) error {
	hb := c.clk.NewTicker(c.opts.HeartbeatInterval)
	defer hb.Stop()
	check := c.clk.NewTicker(c.opts.LinkTimeout / 4)
	defer check.Stop()
	decay := c.clk.NewTicker(5 * time.Second)
	defer decay.Stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	var cancelSetup context.CancelFunc = func() {}
	defer func() { cancelSetup() }()

	c.sendHeartbeat()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hb.Chan():
			c.sendHeartbeat()
		case <-decay.Chan():
			c.mu.Lock()
			c.rx, c.lost = c.rx/2, c.lost/2
			c.mu.Unlock()
		case <-check.Chan():
			c.mu.Lock()
			lost := c.st.Alive && c.clk.Since(c.st.LastHeartbeat) > c.opts.LinkTimeout
			if lost {
				c.st.Alive = false
			}
			c.mu.Unlock()
			if lost {
				cancelSetup()
				c.log.Warn("vehicle link lost", "timeout", c.opts.LinkTimeout)
				if c.opts.OnLink != nil {
					c.opts.OnLink(false)
				}
			}
		case <-c.setup:
			cancelSetup()
			wg.Wait()
			sctx, cancel := context.WithCancel(ctx)
			cancelSetup = cancel
			wg.Go(func() { c.setupStreams(sctx) })
		}
	}
}

func (c *Client) sendHeartbeat() {
	hb := mavlink.Heartbeat{Type: c.opts.Type, Autopilot: mavlink.MAV_AUTOPILOT_INVALID,
		SystemStatus: mavlink.MAV_STATE_ACTIVE, MavlinkVersion: 3}
	if err := c.send(&hb); err != nil {
		c.log.Debug("heartbeat not sent", "err", err)
	}
}

// wantSetup asks Run for a stream set-up (non-blocking: one pending is enough).
func (c *Client) wantSetup() {
	select {
	case c.setup <- struct{}{}:
	default:
	}
}

// Handle takes one frame heard on the vehicle link: it updates the state and
// answers waiting operations. f is only read during the call. Handle does
// not block; call it from the transport's frame callback.
func (c *Client) Handle(f *mavlink.Frame) {
	now := c.clk.Now()
	c.mu.Lock()
	alive := false
	if f.MsgID == 0 {
		alive = c.handleHeartbeat(now, f)
	}
	c.handleLocked(now, f)
	c.mu.Unlock()
	if alive && c.opts.OnLink != nil {
		c.opts.OnLink(true)
	}
}

// handleLocked updates the state and feeds the waiters. c.mu is held.
func (c *Client) handleLocked(now time.Time, f *mavlink.Frame) {
	if !c.st.Discovered || f.SysID != c.st.SysID {
		return
	}
	c.countSeq(f)
	if bt, ok := bootTimeMS(f); ok {
		if c.lastBoot > bt+5000 {
			c.log.Info("vehicle rebooted", "time_boot_ms", bt, "was", c.lastBoot)
			c.wantSetup()
		}
		c.lastBoot = bt
	}
	// The state is the autopilot's: a gimbal's or companion's position or
	// battery must not overwrite it; their status texts are worth keeping.
	if f.CompID == c.st.CompID || f.MsgID == 253 {
		c.st.apply(now, f)
		if f.MsgID == 253 {
			c.logText()
		}
	}
	if len(c.waiters) == 0 {
		return
	}
	var m *message
	for w := range c.waiters {
		if !w.wants(f.MsgID) {
			continue
		}
		if m == nil {
			m = &message{id: f.MsgID, sys: f.SysID, comp: f.CompID, payload: bytes.Clone(f.Payload)}
		}
		select {
		case w.ch <- *m:
		default: // a slow waiter loses the frame, as the radio might have
		}
	}
}

// logText logs the status text just received, once per distinct text in a
// row (ArduPilot repeats its PreArm reasons every 30 s): warnings and
// worse at warn, the rest at debug. c.mu is held.
func (c *Client) logText() {
	n := len(c.st.StatusTexts)
	if n == 0 {
		return
	}
	t := c.st.StatusTexts[n-1]
	if t.Text == c.lastText {
		return
	}
	c.lastText = t.Text
	if t.Severity <= mavlink.MAV_SEVERITY_WARNING {
		c.log.Warn("autopilot says", "text", t.Text, "severity", int(t.Severity))
		return
	}
	c.log.Debug("autopilot says", "text", t.Text, "severity", int(t.Severity))
}

// recentText returns the autopilot's last warning (or worse) status text
// received at or after since, or "": why a command just failed.
func (c *Client) recentText(since time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.st.StatusTexts) - 1; i >= 0; i-- {
		t := c.st.StatusTexts[i]
		if t.Time.Before(since) {
			break
		}
		if t.Severity <= mavlink.MAV_SEVERITY_WARNING {
			return t.Text
		}
	}
	return ""
}

// handleHeartbeat runs discovery and liveness and reports whether the link
// just became alive. c.mu is held.
func (c *Client) handleHeartbeat(now time.Time, f *mavlink.Frame) bool {
	var hb mavlink.Heartbeat
	hb.DecodePayload(f.Payload)
	if hb.Autopilot == mavlink.MAV_AUTOPILOT_INVALID || hb.Type == mavlink.MAV_TYPE_GCS {
		return false // a ground station, gimbal, camera ...
	}
	if c.opts.TargetSysID != 0 && f.SysID != c.opts.TargetSysID {
		return false
	}
	if c.st.Discovered && (f.SysID != c.st.SysID || f.CompID != c.st.CompID) {
		return false
	}
	if !c.st.Discovered {
		c.st.Discovered = true
		c.st.SysID, c.st.CompID = f.SysID, f.CompID
		switch hb.Autopilot {
		case mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA:
			c.st.Autopilot = ArduPilot
		case mavlink.MAV_AUTOPILOT_PX4:
			c.st.Autopilot = PX4
		}
		c.log.Info("vehicle discovered", "sysid", f.SysID, "compid", f.CompID,
			"autopilot", c.st.Autopilot.String(), "type", hb.Type.String())
	}
	c.st.VehicleType = hb.Type
	c.st.SystemStatus = hb.SystemStatus
	c.st.Armed = hb.BaseMode&mavlink.MAV_MODE_FLAG_SAFETY_ARMED != 0
	c.st.CustomMode = hb.CustomMode
	c.st.Mode = ModeName(c.st.Autopilot, hb.CustomMode)
	c.st.LastHeartbeat = now
	c.st.Updated = now
	if !c.st.Alive {
		c.st.Alive = true
		c.log.Info("vehicle link alive", "sysid", f.SysID)
		c.wantSetup()
		return true
	}
	return false
}

// countSeq counts frames lost from sequence gaps per sender. c.mu is held.
func (c *Client) countSeq(f *mavlink.Frame) {
	key := uint16(f.SysID)<<8 | uint16(f.CompID)
	last, seen := c.lastSeq[key]
	c.lastSeq[key] = f.Seq
	c.rx++
	if !seen {
		return
	}
	gap := f.Seq - last - 1 // uint8 arithmetic wraps like the counter
	if gap < 128 {          // a larger "gap" is a reordering or a restart
		c.lost += float64(gap)
	}
}

// send encodes m and writes it to the vehicle.
func (c *Client) send(m mavlink.Message) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	var err error
	c.buf, err = mavlink.AppendMessage(c.buf[:0], mavlink.Header{Seq: c.seq, SysID: c.opts.SysID, CompID: c.opts.CompID}, m, c.opts.Signer)
	if err != nil {
		return fmt.Errorf("encode message %d: %w", m.MsgID(), err)
	}
	c.seq++
	if err := c.out.Write(c.buf); err != nil {
		return err
	}
	if c.opts.OnSend != nil {
		c.opts.OnSend(c.buf)
	}
	return nil
}

// target returns the autopilot's ids, or ErrNoVehicle.
func (c *Client) target() (sys, comp uint8, ap Autopilot, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.st.Discovered {
		return 0, 0, 0, ErrNoVehicle
	}
	return c.st.SysID, c.st.CompID, c.st.Autopilot, nil
}

// message is a copy of a frame for a waiter.
type message struct {
	id        uint32
	sys, comp uint8
	payload   []byte
}

func (m message) decode(into mavlink.Message) { into.DecodePayload(m.payload) }

// waiter receives copies of the vehicle's frames of some message ids.
type waiter struct {
	ids []uint32
	ch  chan message
}

func (w *waiter) wants(id uint32) bool {
	for _, x := range w.ids {
		if x == id {
			return true
		}
	}
	return false
}

// subscribe starts copying the vehicle's frames of ids to the returned
// waiter; call the returned func to stop.
func (c *Client) subscribe(ids ...uint32) (*waiter, func()) {
	w := &waiter{ids: ids, ch: make(chan message, 32)}
	c.mu.Lock()
	c.waiters[w] = struct{}{}
	c.mu.Unlock()
	return w, func() {
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
	}
}
