package telemetry

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
)

// job is an accepted command waiting for the worker.
type job struct {
	id      string
	name    contract.Command
	run     run
	expires time.Time // zero: none
	topic   string    // reply topic
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
// never blocks: it only reads bbolt, does non-blocking channel sends and
// queues answers on the reply queue.
type intake struct {
	prefix  string
	specs   map[contract.Command]commandSpec
	dock    Dock
	counted func(name contract.Command, code contract.Code) // each executed command, once; nil: none
	events  *Outbox
	dd      *dedupe
	sign    *signer // nil: signing off
	clock   clockwork.Clock
	log     *slog.Logger
	timeout time.Duration
	pub     func(topic string, payload []byte) // QoS 1 reply publish, no wait

	queue   chan job
	replies *replyQueue

	mu      sync.Mutex
	running map[string]bool // ids queued or executing

	dropping atomic.Bool // answers are being dropped (logged once per episode)
	lostAt   atomic.Uint64

	received, accepted, rejected, busy, duplicate, lostReplies atomic.Uint64
}

func newIntake(o Options, d Dock, events *Outbox, dd *dedupe, pub func(string, []byte)) *intake {
	in := &intake{
		prefix: o.Prefix, specs: commandSpecs(), dock: d, counted: o.CommandDone, events: events, dd: dd,
		clock: o.Clock, log: o.Logger.With("component", "commands"), timeout: o.CommandTimeout, pub: pub,
		queue: make(chan job, o.QueueSize), replies: newReplyQueue(),
		running: make(map[string]bool),
	}
	if len(o.SigningKey) > 0 {
		in.sign = &signer{key: o.SigningKey, window: o.SigningWindow, clock: o.Clock}
	}
	return in
}

// commandTopic splits a topic under the prefix into the command name to
// answer. answer is false for topics that are not commands: outside
// `cmd/`, or a reply (any deeper topic whose last level is "reply",
// including ours: answering a reply would loop). A topic under `cmd/` that
// is neither one level nor a reply is malformed: name is then "" and the
// caller answers on `cmd/_error/reply`.
func (in *intake) commandTopic(topic string) (name, rest string, answer bool) {
	rest, ok := strings.CutPrefix(topic, in.prefix+"cmd/")
	if !ok {
		return "", "", false
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		if rest[i+1:] == "reply" {
			return "", rest, false
		}
		return "", rest, true
	}
	return rest, rest, true
}

// handle takes one message from `cmd/<name>` (or a malformed topic under
// `cmd/`). retained is the MQTT retain flag as delivered. It must not block
// (STYLE.md §3): the command runs on the worker. Every message on a command
// topic is answered, except repeats of an id still executing (answered once,
// when it is done).
func (in *intake) handle(topic string, payload []byte, retained bool) {
	name, rest, answer := in.commandTopic(topic)
	if !answer {
		return
	}
	in.received.Add(1)
	if name == "" {
		in.reject(in.prefix+"cmd/"+contract.ErrorTopicName+"/reply", rest, claimedID(payload), contract.Errorf(contract.CodeBadRequest,
			"topic %q is not a command topic: want %scmd/<name> (one level, a name from the command table)", topic, in.prefix), false)
		return
	}
	replyTopic := in.prefix + "cmd/" + name + "/reply"
	if retained {
		// A retained message is old by nature: the broker hands it to every
		// new subscription (an agent restart, a purged session, a broker
		// restart) for as long as it is retained. It is never executed, and
		// its id is not remembered: an earlier live delivery of the same id
		// keeps its record and reply.
		in.reject(replyTopic, name, claimedID(payload), contract.Errorf(contract.CodeStale,
			"delivered retained: retained commands are never executed (publish commands with retain off, and clear this one with an empty retained message)"), false)
		return
	}
	if len(payload) > MaxCommandBytes {
		in.reject(replyTopic, name, "", contract.Errorf(contract.CodeBadRequest, "payload of %d bytes exceeds %d", len(payload), MaxCommandBytes), false)
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
		in.reject(replyTopic, name, d.ID, contract.Errorf(contract.CodeInternal, "look up request id: %v", lerr), false)
		return
	case found && rec.Reply == nil:
		in.duplicate.Add(1)
		in.reject(replyTopic, name, d.ID, contract.Errorf(contract.CodeInternal,
			"command %s was interrupted by an agent restart; not executed again (check state)", d.ID), true)
		return
	case found:
		in.duplicate.Add(1)
		in.answer(outReply{topic: rec.Topic, id: d.ID, payload: rec.Reply})
		return
	case err != nil:
		in.reject(replyTopic, name, d.ID, err, true)
		return
	}
	if err := in.checkAge(d); err != nil {
		in.reject(replyTopic, name, d.ID, err, true)
		return
	}
	select {
	case in.queue <- job{id: d.ID, name: d.Name, run: d.Run, expires: d.Expires, topic: replyTopic}:
		in.running[d.ID] = true
	default:
		in.busy.Add(1)
		in.reject(replyTopic, name, d.ID, contract.Errorf(contract.CodeBusy, "command queue full (%d waiting); send again with the same id", cap(in.queue)), false)
	}
}

// checkAge refuses a command that may be older than its id's dedupe
// record: one whose expires has passed or lies beyond the dedupe window
// (its id could be forgotten before it expires), or one without expires
// whose ts is older than the dedupe window (a repeat of it might no longer
// be recognised) or further ahead than maxClockSkew (it would stay young
// too long).
func (in *intake) checkAge(d decoded) error {
	now := in.clock.Now()
	switch {
	case !d.Expires.IsZero() && !now.Before(d.Expires):
		return expiredErr(d.Expires)
	case !d.Expires.IsZero() && d.Expires.Sub(now) > in.dd.window:
		return contract.Errorf(contract.CodeOutOfRange, "expires: %s is %s ahead, more than the dedupe window %s (mqtt.dedupe_window)",
			timestamp(d.Expires), d.Expires.Sub(now).Round(time.Second), in.dd.window)
	case !d.Expires.IsZero() || d.TS.IsZero():
		return nil
	case now.Sub(d.TS) >= in.dd.window:
		return contract.Errorf(contract.CodeStale, "ts: %s is %s old, older than the dedupe window %s; not executed (send a new command with a fresh ts)",
			timestamp(d.TS), now.Sub(d.TS).Round(time.Second), in.dd.window)
	case d.TS.Sub(now) > maxClockSkew:
		return contract.Errorf(contract.CodeInvalidArgument, "ts: %s is %s ahead of the agent's clock, more than %s (check the sender's clock)",
			timestamp(d.TS), d.TS.Sub(now).Round(time.Second), maxClockSkew)
	}
	return nil
}

func expiredErr(at time.Time) error {
	return contract.Errorf(contract.CodeExpired, "expired at %s; not executed", timestamp(at))
}

// reject answers a refused command and emits command.rejected.
func (in *intake) reject(topic, name, id string, err error, remember bool) {
	in.rejected.Add(1)
	we := wireError(err)
	code, msg := we.Code, we.Message
	in.answer(outReply{
		topic: topic, id: id, payload: errorReply(id, err), remember: remember && id != "",
		event: &dock.Event{Type: dock.EventCommandRejected, Time: in.clock.Now(), Fields: map[string]any{
			"id": id, "command": name, "code": code, "message": msg,
		}},
	})
	in.log.Info("command rejected", "cmd_id", id, "command", name, "code", code, "err", msg)
}

// answer queues an immediate answer without blocking. Only a full answers
// lane (a broker that takes nothing while commands still arrive) drops it:
// counted, and logged at the first drop and when answers flow again.
func (in *intake) answer(r outReply) {
	if in.replies.answer(r) {
		if in.dropping.CompareAndSwap(true, false) {
			in.log.Warn("answers flow again after the reply queue was full", "lost", in.lostReplies.Load()-in.lostAt.Load())
		}
		return
	}
	n := in.lostReplies.Add(1)
	if in.dropping.CompareAndSwap(false, true) {
		in.lostAt.Store(n - 1)
		in.log.Error("reply queue full: answers dropped (is the broker taking our publishes?)", "queued", maxAnswers)
	}
}

func errorReply(id string, err error) []byte {
	we := *wireError(err) // a copy: details may be dropped below
	m := contract.Reply{Error: &we}
	if id != "" {
		m.ID = &id
	}
	b, merr := contract.Marshal(m)
	if merr != nil { // details that do not marshal: drop them, keep the answer
		m.Error.Details = nil
		b, _ = contract.Marshal(m)
	}
	return b
}

func okReply(id string, result any) ([]byte, error) {
	if result == nil {
		result = contract.Empty{}
	}
	return contract.Marshal(contract.Reply{ID: &id, OK: true, Result: result})
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
					in.finish(j, errorReply(j.id, contract.Errorf(contract.CodeBusy, "agent shutting down; not executed")), false)
				default:
					return
				}
			}
		case j := <-in.queue:
			in.execute(ctx, j)
		}
	}
}

// execute runs one command: expiry checked again (it may have expired
// while queued), the id marked started on disk (so it is never executed
// twice, even across a kill -9), the dock's method, then the reply stored
// and sent.
func (in *intake) execute(ctx context.Context, j job) {
	id := j.id
	if !j.expires.IsZero() && !in.clock.Now().Before(j.expires) {
		in.rejected.Add(1)
		in.finish(j, errorReply(id, expiredErr(j.expires)), true)
		return
	}
	if err := in.dd.store(id, dedupeRecord{At: in.clock.Now()}); err != nil {
		in.finish(j, errorReply(id, contract.Errorf(contract.CodeInternal, "record request id: %v", err)), false)
		return
	}
	in.accepted.Add(1)
	in.log.Info("command accepted", "cmd_id", id, "command", string(j.name))
	dctx, cancel := clockwork.WithTimeout(ctx, in.clock, in.timeout)
	res, err := j.run(dctx, in.dock, id)
	cancel()
	var payload []byte
	if err == nil {
		payload, err = okReply(id, res)
		if err != nil {
			err = contract.Errorf(contract.CodeInternal, "encode result of %s: %v", j.name, err)
		}
	}
	code := codeOf(err)
	if err != nil {
		payload = errorReply(id, err)
		in.log.Info("command failed", "cmd_id", id, "command", string(j.name), "code", code, "err", err)
	}
	if in.counted != nil {
		in.counted(j.name, code)
	}
	in.finish(j, payload, true)
}

// finish stores (when remember) and queues the reply of a queued job, then
// forgets that it is running. The worker may wait here for room in the
// reply queue's results lane; the replier runs until the worker returned.
func (in *intake) finish(j job, payload []byte, remember bool) {
	id := j.id
	if remember {
		if err := in.dd.store(id, dedupeRecord{At: in.clock.Now(), Topic: j.topic, Reply: payload}); err != nil {
			in.log.Error("reply not remembered; a repeat of this id would find it interrupted", "cmd_id", id, "err", err)
		}
	}
	in.mu.Lock()
	delete(in.running, id)
	in.mu.Unlock()
	in.replies.result(context.Background(), outReply{topic: j.topic, id: id, payload: payload})
}

// runReplier publishes replies until ctx ends, then what is still queued.
// It takes them in batches (results first): the batch's dedupe records are
// stored in one transaction before its replies go out, and its
// command.rejected events in one transaction after, so a burst of refusals
// costs a few disk syncs, not two per command.
func (in *intake) runReplier(ctx context.Context) {
	buf := make([]outReply, 0, replyBatch)
	for {
		buf = in.replies.take(buf, replyBatch)
		if len(buf) > 0 {
			in.deliver(buf)
			continue
		}
		select {
		case <-in.replies.ready:
		case <-ctx.Done():
			for {
				if buf = in.replies.take(buf, replyBatch); len(buf) == 0 {
					return
				}
				in.deliver(buf)
			}
		}
	}
}

// deliver stores, publishes and reports one batch of replies.
func (in *intake) deliver(batch []outReply) {
	var recs map[string]dedupeRecord
	var events []dock.Event
	for _, r := range batch {
		if r.remember {
			if recs == nil {
				recs = make(map[string]dedupeRecord)
			}
			recs[r.id] = dedupeRecord{At: in.clock.Now(), Topic: r.topic, Reply: r.payload}
		}
		if r.event != nil {
			events = append(events, *r.event)
		}
	}
	if err := in.dd.storeAll(recs); err != nil {
		in.log.Warn("rejections not remembered", "count", len(recs), "err", err)
	}
	for _, r := range batch {
		in.pub(r.topic, r.payload)
	}
	if err := in.events.EmitAll(events...); err != nil {
		in.log.Error("command.rejected events not stored", "count", len(events), "err", err)
	}
}
