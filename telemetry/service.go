package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"
)

// prunePeriod is how often expired request ids are deleted.
const prunePeriod = time.Hour

// Service is the MQTT side of the agent: connection, state and telemetry
// publishing, publishing the durable event outbox, command intake and the
// optional MAVLink bridge. Open the Outbox first (the dock emits into it),
// build the dock, then the Service with NewService; call Run once, then
// Close the Outbox.
type Service struct {
	o       Options
	log     *slog.Logger
	db      *bolt.DB
	conn    *conn
	outbox  *Outbox
	dd      *dedupe
	intake  *intake
	pub     *publisher
	bridge  *bridge // nil: off
	state   StateSource
	vehicle VehicleSource

	running  atomic.Bool
	stopping atomic.Bool   // offline status on its way: do not re-announce
	announce chan struct{} // capacity 1: publish the online status again
	// subscribed is closed once the first connection's command
	// subscription is acknowledged: state goes out only then, so a client
	// that acts on the first retained state finds commands taken.
	subscribed     chan struct{}
	subscribedOnce sync.Once
}

// OpenOutbox checks o and opens (or creates) the bbolt file in o.StateDir
// that holds the event outbox and the command dedupe records. The Outbox
// takes events at once, before the Service runs; Close it last.
func OpenOutbox(o Options) (*Outbox, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(o.DBPath), 0o750); err != nil {
		return nil, fmt.Errorf("create state dir for %s: %w", o.DBPath, err)
	}
	db, err := bolt.Open(o.DBPath, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open outbox %s (is another agent running?): %w", o.DBPath, err)
	}
	ob, err := openOutbox(db, o.MaxEvents, o.Clock, o.Logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return ob, nil
}

// NewService checks o and builds the paho client without connecting, over
// the outbox from OpenOutbox (with the same o) and the dock that commands
// act on (both parts required); state and vehicle may be nil to publish no
// `state` or no `telemetry`.
func NewService(o Options, outbox *Outbox, d Dock, state StateSource, vehicle VehicleSource) (*Service, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if outbox == nil {
		return nil, errors.New("new telemetry service: nil outbox (open it with OpenOutbox)")
	}
	if d.Sorties == nil || d.Maintenance == nil {
		return nil, errors.New("new telemetry service: the dock's Sorties and Maintenance are both required")
	}
	if len(o.SigningKey) > 0 && o.DedupeWindow < 2*o.SigningWindow {
		return nil, fmt.Errorf("telemetry options: dedupe window %s must be at least twice the signing window %s (replay protection)", o.DedupeWindow, o.SigningWindow)
	}
	s := &Service{o: o, log: o.Logger.With("component", "telemetry"), db: outbox.db, outbox: outbox, state: state, vehicle: vehicle,
		announce: make(chan struct{}, 1), subscribed: make(chan struct{})}
	s.dd = &dedupe{db: outbox.db, clock: o.Clock, window: o.DedupeWindow}
	s.conn, err = newConn(o, s.route)
	if err != nil {
		return nil, err
	}
	s.pub = newPublisher(o, s.conn)
	s.intake = newIntake(o, d, s.outbox, s.dd, func(topic string, payload []byte) {
		s.conn.publish(topic, 1, false, payload)
	})
	if o.Bridge != nil {
		var sign *signer
		if len(o.SigningKey) > 0 {
			sign = &signer{key: o.SigningKey, window: o.SigningWindow, clock: o.Clock}
		}
		s.bridge = newBridge(o.Bridge, o.BridgeRefused, sign, o.Logger)
	}
	return s, nil
}

// PublishFrame queues one raw MAVLink frame, or a batch of whole frames
// back to back, for `mavlink/out` (QoS 0). It never blocks: with the
// bridge off, the broker away or the queue full the frames are dropped
// (counted in Health, a batch by its frames like everywhere else, so that
// frames read = published + dropped). frame is copied.
func (s *Service) PublishFrame(frame []byte) {
	if s.bridge != nil && s.conn.isConnected() {
		s.bridge.enqueue(s.bridge.out, frame)
	} else if s.bridge != nil {
		s.bridge.dropped.Add(outFrames(frame))
	}
}

// route dispatches one inbound message with its retain flag; called on
// paho goroutines, never blocks.
func (s *Service) route(topic string, payload []byte, retained bool) {
	if s.bridge != nil && topic == s.o.Prefix+"mavlink/in" {
		s.bridge.enqueue(s.bridge.in, payload)
		return
	}
	if topic == s.o.Prefix+"status" {
		// A will published after we reconnected (the broker noticed the old
		// connection late, or a session takeover) would leave us "offline":
		// seeing our own offline status while connected, announce again.
		if string(payload) == offlinePayload && !s.stopping.Load() {
			select {
			case s.announce <- struct{}{}:
			default:
			}
		}
		return
	}
	s.intake.handle(topic, payload, retained)
}

// Run connects (retrying with backoff while the broker is away) and runs
// every part until ctx ends, then shuts down in order: stop command intake,
// answer what is still queued, flush the outbox within FlushTimeout, publish
// the offline status and disconnect. It returns nil after a cancellation,
// once every goroutine it started has returned, or an error when the outbox
// storage fails. Run may be called once.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run telemetry service: already run")
	}
	started := s.o.Clock.Now()
	s.conn.start()

	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	wg.Go(func() { s.watchConnection(workCtx, started) })
	if s.state != nil {
		wg.Go(func() {
			select {
			case <-s.subscribed:
				s.pub.runState(workCtx, s.state)
			case <-workCtx.Done():
			}
		})
	}
	if s.vehicle != nil {
		var docked func() bool
		if s.state != nil {
			docked = func() bool {
				v := s.state.Snapshot().Vehicle
				return v.Docked && !v.Armed
			}
		}
		wg.Go(func() { s.pub.runTelemetry(workCtx, s.vehicle, docked) })
	}
	if s.bridge != nil {
		wg.Go(func() { s.bridge.run(workCtx, s.conn, s.o.Prefix+"mavlink/out") })
	}
	wg.Go(func() { s.pruneLoop(workCtx) })
	replyCtx, stopReplies := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReplies()
	var replies sync.WaitGroup
	replies.Go(func() { s.intake.runReplier(replyCtx) })
	var worker sync.WaitGroup
	worker.Go(func() { s.intake.runWorker(workCtx) })

	obCtx, stopOutbox := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOutbox()
	obErr := make(chan error, 1)
	var ob sync.WaitGroup
	ob.Go(func() { obErr <- s.outbox.run(obCtx, s.conn, s.o.Prefix+"events", false) })

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-obErr:
	}

	// Shutdown (STYLE.md §3): intake first, then the outbox flush, then offline.
	flushCtx, cancelFlush := clockwork.WithTimeout(context.WithoutCancel(ctx), s.o.Clock, s.o.FlushTimeout)
	defer cancelFlush()
	if s.conn.isConnected() {
		t := s.conn.client.Unsubscribe(s.o.Prefix+"cmd/+", s.o.Prefix+"cmd/+/+", s.o.Prefix+"cmd/+/+/+", s.o.Prefix+"status")
		_ = waitToken(flushCtx, s.o.Clock, t, s.o.FlushTimeout) // best effort: the session may keep it
	}
	stopWork()
	worker.Wait()
	stopReplies()
	replies.Wait()
	wg.Wait()
	stopOutbox()
	ob.Wait()
	if runErr == nil {
		select {
		case runErr = <-obErr:
		default:
		}
	}
	if runErr == nil {
		if err := s.outbox.run(flushCtx, s.conn, s.o.Prefix+"events", true); err != nil {
			runErr = err
		}
	}
	if d := s.outbox.Depth(); d > 0 {
		s.log.Warn("outbox not empty at shutdown; kept for the next start", "depth", d)
	}
	s.stopping.Store(true)
	if s.conn.isConnected() {
		wait := s.conn.publish(s.o.Prefix+"status", 1, true, []byte(offlinePayload))
		if err := wait(flushCtx, s.o.FlushTimeout); err != nil {
			s.log.Warn("offline status not acknowledged; the broker's will covers it", "err", err)
		}
	}
	s.conn.stop(250 * time.Millisecond)
	s.log.Info("telemetry stopped")
	return runErr
}

// watchConnection announces the agent and (re)subscribes on every connect,
// and announces again when a late will marked it offline.
func (s *Service) watchConnection(ctx context.Context, started time.Time) {
	var handled uint64
	for {
		changed := s.conn.watch()
		if n := s.conn.connects.Load(); n != handled && s.conn.isConnected() {
			handled = n
			s.onConnect(ctx, started)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-s.announce:
			if s.conn.isConnected() {
				s.log.Info("status overwritten by a will; announcing online again")
				if err := s.conn.publish(s.o.Prefix+"status", 1, true, statusPayload(s.o, started))(ctx, ackTimeout); err != nil && ctx.Err() == nil {
					s.log.Warn("publish online status", "err", err)
				}
			}
		}
	}
}

func (s *Service) onConnect(ctx context.Context, started time.Time) {
	handler := func(_ mqtt.Client, m mqtt.Message) { s.route(m.Topic(), m.Payload(), m.Retained()) }
	// cmd/+ takes the commands (and a topic with an empty name); cmd/+/+
	// and deeper the malformed topics, answered on cmd/_error/reply. Exact
	// levels, not a trailing #: not every broker lets # match zero levels
	// (mochi does not), and overlapping filters would deliver twice. They
	// also bring back our own replies (MQTT 3.1.1 has no "not my own"
	// option), which the intake ignores: QoS 0 keeps that cheap. Topics
	// more than three levels below cmd/ are not answered.
	subs := map[string]byte{s.o.Prefix + "cmd/+": 1, s.o.Prefix + "cmd/+/+": 0, s.o.Prefix + "cmd/+/+/+": 0, s.o.Prefix + "status": 1}
	if s.bridge != nil {
		subs[s.o.Prefix+"mavlink/in"] = 0
	}
	sub := s.conn.client.SubscribeMultiple(subs, handler)
	status := s.conn.publish(s.o.Prefix+"status", 1, true, statusPayload(s.o, started))
	if err := waitToken(ctx, s.o.Clock, sub, ackTimeout); err != nil && ctx.Err() == nil {
		s.log.Warn("subscribe to commands", "err", err)
	}
	s.subscribedOnce.Do(func() { close(s.subscribed) })
	if err := status(ctx, ackTimeout); err != nil && ctx.Err() == nil {
		s.log.Warn("publish online status", "err", err)
	}
}

// pruneLoop deletes expired request ids at start and every prunePeriod.
func (s *Service) pruneLoop(ctx context.Context) {
	t := s.o.Clock.NewTicker(prunePeriod)
	defer t.Stop()
	for {
		if n, err := s.dd.prune(); err != nil {
			s.log.Warn("prune request ids", "err", err)
		} else if n > 0 {
			s.log.Debug("request ids pruned", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
	}
}

// Health is a snapshot of the service for metrics and health checks.
// Counters count since NewService.
type Health struct {
	Connected        bool
	Connects         uint64 // successful connections
	ConnectionLosses uint64
	OutboxDepth      int    // events stored, not yet acknowledged
	LastSeq          uint64 // seq of the newest event
	EventsPublished  uint64 // acknowledged by the broker
	EventsDropped    uint64 // dropped by the overflow policy
	// Commands.
	CommandsReceived  uint64
	CommandsAccepted  uint64 // handed to the dock
	CommandsRejected  uint64 // answered with an error before execution
	CommandsBusy      uint64
	CommandsDuplicate uint64 // repeated ids answered from the dedupe store
	RepliesLost       uint64 // answers dropped: reply queue full
	RepliesQueued     int    // replies waiting for the replier now
	// Publishing.
	StatePublished     uint64
	TelemetryPublished uint64
	TelemetrySkipped   uint64 // ticks while disconnected
	// MAVLink bridge. FramesUnsigned are payloads on mavlink/in refused
	// for their signature while signing is on.
	FramesOut, FramesIn, FramesDropped, FrameSinkErrors, FramesUnsigned uint64
}

// Health returns the current counters; safe for concurrent use.
func (s *Service) Health() Health {
	h := Health{
		Connected: s.conn.isConnected(), Connects: s.conn.connects.Load(), ConnectionLosses: s.conn.losses.Load(),
		OutboxDepth: s.outbox.Depth(), LastSeq: s.outbox.LastSeq(),
		EventsPublished: s.outbox.published.Load(), EventsDropped: s.outbox.dropped.Load(),
		CommandsReceived: s.intake.received.Load(), CommandsAccepted: s.intake.accepted.Load(),
		CommandsRejected: s.intake.rejected.Load(), CommandsBusy: s.intake.busy.Load(),
		CommandsDuplicate: s.intake.duplicate.Load(), RepliesLost: s.intake.lostReplies.Load(),
		RepliesQueued:  s.intake.replies.len(),
		StatePublished: s.pub.statePublished.Load(), TelemetryPublished: s.pub.telemetryPublished.Load(),
		TelemetrySkipped: s.pub.telemetrySkipped.Load(),
	}
	if s.bridge != nil {
		h.FramesOut, h.FramesIn = s.bridge.framesOut.Load(), s.bridge.framesIn.Load()
		h.FramesDropped, h.FrameSinkErrors = s.bridge.dropped.Load(), s.bridge.sinkErrors.Load()
		h.FramesUnsigned = s.bridge.unsigned.Load()
	}
	return h
}
