package telemetry

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/jonboulle/clockwork"
)

// replyMsg is the body of `cmd/<name>/reply` (DESIGN.md §5). ID is null when
// the request carried no usable id.
type replyMsg struct {
	ID     *string   `json:"id"`
	OK     bool      `json:"ok"`
	Result any       `json:"result,omitempty"`
	Error  *replyErr `json:"error,omitempty"`
}

// replyErr is the error object of a failed command.
type replyErr struct {
	Code    dock.Code `json:"code"`
	Message string    `json:"message"`
	Details any       `json:"details,omitempty"`
}

// job is an accepted command waiting for the worker.
type job struct {
	req   dock.Request
	topic string // reply topic
}

// outReply is a reply (and maybe a command.rejected event) for the replier.
type outReply struct {
	topic    string
	id       string
	payload  []byte
	remember bool // store in dedupe before publishing
	event    *dock.Event
}

// intake receives commands from paho, validates them, hands them to one
// worker goroutine and answers them. handle runs on paho's goroutines and
// never blocks: it only reads bbolt and does non-blocking channel sends.
type intake struct {
	prefix  string
	specs   map[dock.CommandName]commandSpec
	cmdr    dock.Commander
	events  dock.EventSink
	dd      *dedupe
	sign    *signer // nil: signing off
	clock   clockwork.Clock
	log     *slog.Logger
	timeout time.Duration
	pub     func(topic string, payload []byte) // QoS 1 reply publish, no wait

	queue   chan job
	replies chan outReply

	mu      sync.Mutex
	running map[string]bool // ids queued or executing

	received, accepted, rejected, busy, duplicate, lostReplies atomic.Uint64
}

func newIntake(o Options, cmdr dock.Commander, events dock.EventSink, dd *dedupe, pub func(string, []byte)) *intake {
	in := &intake{
		prefix: o.Prefix, specs: commandSpecs(), cmdr: cmdr, events: events, dd: dd,
		clock: o.Clock, log: o.Logger.With("component", "commands"), timeout: o.CommandTimeout, pub: pub,
		queue: make(chan job, o.QueueSize), replies: make(chan outReply, 4*o.QueueSize+16),
		running: make(map[string]bool),
	}
	if len(o.SigningKey) > 0 {
		in.sign = &signer{key: o.SigningKey, window: o.SigningWindow, clock: o.Clock}
	}
	return in
}

// handle takes one message from `cmd/<name>`. It must not block (STYLE.md
// §3): the command runs on the worker.
func (in *intake) handle(topic string, payload []byte) {
	name, ok := strings.CutPrefix(topic, in.prefix+"cmd/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return // not a command topic (our own replies are never subscribed)
	}
	in.received.Add(1)
	replyTopic := in.prefix + "cmd/" + name + "/reply"
	if len(payload) > MaxCommandBytes {
		in.reject(replyTopic, name, "", dock.Errorf(dock.CodeBadRequest, "payload of %d bytes exceeds %d", len(payload), MaxCommandBytes), false)
		return
	}
	if in.sign != nil {
		inner, err := in.sign.open(payload)
		if err != nil {
			// Echo the claimed id so the sender can match the refusal; it is
			// not remembered, so it cannot block a genuine command.
			in.reject(replyTopic, name, claimedID(payload), err, false)
			return
		}
		payload = inner
	}
	d, err := decodeCommand(in.specs, name, payload)
	if d.ID == "" {
		in.reject(replyTopic, name, "", err, false)
		return
	}
	if in.sign != nil {
		if err := in.sign.checkTS(d.TS); err != nil {
			in.reject(replyTopic, name, d.ID, err, false)
			return
		}
	}

	in.mu.Lock()
	defer in.mu.Unlock()
	if in.running[d.ID] {
		in.duplicate.Add(1) // answered once, when it is done
		in.log.Debug("repeated command id still executing", "cmd_id", d.ID)
		return
	}
	rec, found, lerr := in.dd.lookup(d.ID)
	switch {
	case lerr != nil:
		in.reject(replyTopic, name, d.ID, dock.Errorf(dock.CodeInternal, "look up request id: %w", lerr), false)
		return
	case found && rec.Reply == nil:
		in.duplicate.Add(1)
		in.reject(replyTopic, name, d.ID, dock.Errorf(dock.CodeInternal,
			"command %s was interrupted by an agent restart; not executed again (check state)", d.ID), true)
		return
	case found:
		in.duplicate.Add(1)
		in.send(outReply{topic: rec.Topic, id: d.ID, payload: rec.Reply})
		return
	case err != nil:
		in.reject(replyTopic, name, d.ID, err, true)
		return
	case !d.Expires.IsZero() && !in.clock.Now().Before(d.Expires):
		in.reject(replyTopic, name, d.ID, expiredErr(d.Expires), true)
		return
	}
	select {
	case in.queue <- job{req: d.Req, topic: replyTopic}:
		in.running[d.ID] = true
	default:
		in.busy.Add(1)
		in.reject(replyTopic, name, d.ID, dock.Errorf(dock.CodeBusy, "command queue full (%d waiting); send again with the same id", cap(in.queue)), false)
	}
}

func expiredErr(at time.Time) error {
	return dock.Errorf(dock.CodeExpired, "expired at %s; not executed", timestamp(at))
}

// reject answers a refused command and emits command.rejected.
func (in *intake) reject(topic, name, id string, err error, remember bool) {
	in.rejected.Add(1)
	code, msg := dock.CodeOf(err), err.Error()
	in.send(outReply{
		topic: topic, id: id, payload: errorReply(id, err), remember: remember && id != "",
		event: &dock.Event{Type: dock.EventCommandRejected, Time: in.clock.Now(), Fields: map[string]any{
			"id": id, "command": name, "code": code, "message": msg,
		}},
	})
	in.log.Info("command rejected", "cmd_id", id, "command", name, "code", code, "err", msg)
}

// send hands a reply to the replier without blocking; a full reply queue
// drops it (counted): the client's retry with the same id gets the stored
// reply.
func (in *intake) send(r outReply) {
	select {
	case in.replies <- r:
	default:
		in.lostReplies.Add(1)
	}
}

func errorReply(id string, err error) []byte {
	m := replyMsg{Error: &replyErr{Code: dock.CodeOf(err), Message: err.Error(), Details: dock.DetailsOf(err)}}
	if id != "" {
		m.ID = &id
	}
	b, merr := json.Marshal(m)
	if merr != nil { // details that do not marshal: drop them, keep the answer
		m.Error.Details = nil
		b, _ = json.Marshal(m)
	}
	return b
}

func okReply(id string, result any) ([]byte, error) {
	if result == nil {
		result = json.RawMessage("{}")
	}
	return json.Marshal(replyMsg{ID: &id, OK: true, Result: result})
}

// runWorker executes accepted commands one at a time until ctx ends; the
// commands still queued then are answered busy.
func (in *intake) runWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case j := <-in.queue:
					in.finish(j, errorReply(j.req.ID, dock.Errorf(dock.CodeBusy, "agent shutting down; not executed")), false)
				default:
					return
				}
			}
		case j := <-in.queue:
			in.execute(ctx, j)
		}
	}
}

// execute runs one command: expiry checked again, the id marked started on
// disk (so it is never executed twice, even across a kill -9), Do, then the
// reply stored and sent.
func (in *intake) execute(ctx context.Context, j job) {
	id := j.req.ID
	if !j.req.Expires.IsZero() && !in.clock.Now().Before(j.req.Expires) {
		in.rejected.Add(1)
		in.finish(j, errorReply(id, expiredErr(j.req.Expires)), true)
		return
	}
	if err := in.dd.store(id, dedupeRecord{At: in.clock.Now()}); err != nil {
		in.finish(j, errorReply(id, dock.Errorf(dock.CodeInternal, "record request id: %w", err)), false)
		return
	}
	in.accepted.Add(1)
	in.log.Info("command accepted", "cmd_id", id, "command", string(j.req.Name))
	dctx, cancel := clockwork.WithTimeout(ctx, in.clock, in.timeout)
	res, err := in.cmdr.Do(dctx, j.req)
	cancel()
	var payload []byte
	if err == nil {
		payload, err = okReply(id, res)
		if err != nil {
			err = dock.Errorf(dock.CodeInternal, "encode result of %s: %w", j.req.Name, err)
		}
	}
	if err != nil {
		payload = errorReply(id, err)
		in.log.Info("command failed", "cmd_id", id, "command", string(j.req.Name), "code", dock.CodeOf(err), "err", err)
	}
	in.finish(j, payload, true)
}

// finish stores (when remember) and sends the reply of a queued job, then
// forgets that it is running. The worker may block here on the reply queue.
func (in *intake) finish(j job, payload []byte, remember bool) {
	id := j.req.ID
	if remember {
		if err := in.dd.store(id, dedupeRecord{At: in.clock.Now(), Topic: j.topic, Reply: payload}); err != nil {
			in.log.Error("reply not remembered; a repeat of this id would find it interrupted", "cmd_id", id, "err", err)
		}
	}
	in.mu.Lock()
	delete(in.running, id)
	in.mu.Unlock()
	in.replies <- outReply{topic: j.topic, id: id, payload: payload}
}

// runReplier stores and publishes replies until ctx ends, then sends what is
// still queued.
func (in *intake) runReplier(ctx context.Context) {
	for {
		select {
		case r := <-in.replies:
			in.deliver(r)
		case <-ctx.Done():
			for {
				select {
				case r := <-in.replies:
					in.deliver(r)
				default:
					return
				}
			}
		}
	}
}

func (in *intake) deliver(r outReply) {
	if r.remember {
		if err := in.dd.store(r.id, dedupeRecord{At: in.clock.Now(), Topic: r.topic, Reply: r.payload}); err != nil {
			in.log.Warn("rejection not remembered", "cmd_id", r.id, "err", err)
		}
	}
	if r.event != nil {
		if err := in.events.Emit(*r.event); err != nil {
			in.log.Error("command.rejected event not stored", "cmd_id", r.id, "err", err)
		}
	}
	in.pub(r.topic, r.payload)
}
