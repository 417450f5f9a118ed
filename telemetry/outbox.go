package telemetry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"
)

// bbolt buckets and keys of telemetry.db.
const (
	bucketOutbox = "outbox" // big-endian seq -> event JSON
	bucketMeta   = "meta"   // keyLastSeq -> big-endian last assigned seq
	bucketDedupe = "dedupe" // request id -> dedupeRecord JSON
	keyLastSeq   = "last_seq"
)

// outboxBatch is how many events are in flight at once; they are
// acknowledged and deleted in seq order.
const outboxBatch = 64

// Outbox is the durable event queue behind the `events` topic. It
// implements dock.EventSink: Emit assigns the next seq, strictly increasing
// per dock across restarts, and writes the event and the counter to bbolt in
// one transaction (bbolt's default: fsync on every commit) before it returns;
// the publisher sends events in seq order with QoS 1 and deletes each one only
// after the broker acknowledged it, so after an outage, a restart or a kill -9
// everything not acknowledged is sent again (at least once: a consumer may
// see a seq twice and drops the repeat).
//
// Overflow policy: the outbox holds at most max events. When an Emit finds it
// full, the oldest tenth (whatever their type) is dropped in one go and an
// outbox.overflow event {"dropped","first_seq","last_seq"} is stored right
// before the new event, so the gap in seq is explained in the stream itself.
//
// Emit is safe for concurrent use and works before Service.Run starts
// (events are kept until a broker takes them); after Service.Close it
// returns an error.
type Outbox struct {
	db    *bolt.DB
	clock clockwork.Clock
	log   *slog.Logger
	max   int

	notify chan struct{} // capacity 1: an event was stored

	depth     atomic.Int64
	lastSeq   atomic.Uint64
	published atomic.Uint64
	dropped   atomic.Uint64
}

var _ dock.EventSink = (*Outbox)(nil)

// openOutbox prepares the buckets in db and reads the depth and last seq.
func openOutbox(db *bolt.DB, maxEvents int, clock clockwork.Clock, log *slog.Logger) (*Outbox, error) {
	ob := &Outbox{db: db, clock: clock, log: log.With("component", "outbox"), max: maxEvents, notify: make(chan struct{}, 1)}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{bucketOutbox, bucketMeta, bucketDedupe} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		last := lastSeq(tx)
		ob.lastSeq.Store(last)
		ob.depth.Store(int64(depthOf(tx, last)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open outbox in %s: %w", db.Path(), err)
	}
	return ob, nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func lastSeq(tx *bolt.Tx) uint64 {
	v := tx.Bucket([]byte(bucketMeta)).Get([]byte(keyLastSeq))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// depthOf counts stored events. Keys are contiguous from the oldest stored
// seq to last (events leave only from the head), so no scan is needed.
func depthOf(tx *bolt.Tx, last uint64) int {
	k, _ := tx.Bucket([]byte(bucketOutbox)).Cursor().First()
	if k == nil {
		return 0
	}
	return int(last - binary.BigEndian.Uint64(k) + 1)
}

// Emit stores e durably with the next seq and wakes the publisher. It
// returns once the event is on disk, or an error when it could not be stored
// (invalid fields, closed or failing database); it never drops silently.
func (ob *Outbox) Emit(e dock.Event) error { return ob.EmitAll(e) }

// EmitAll stores events in order, with consecutive seqs, in one
// transaction (one disk sync for all of them), and wakes the publisher. It
// stores all or, with an error, none.
func (ob *Outbox) EmitAll(events ...dock.Event) error {
	if len(events) == 0 {
		return nil
	}
	encoded := make([][]byte, len(events))
	for i := range events {
		e := &events[i]
		if e.Type == "" {
			return errors.New("emit event: empty type")
		}
		for _, k := range [...]string{"seq", "ts", "type"} { // added by the outbox
			if _, ok := e.Fields[k]; ok {
				return fmt.Errorf("emit %s event: field %q is reserved", e.Type, k)
			}
		}
		if e.Time.IsZero() {
			e.Time = ob.clock.Now()
		}
		fields, err := contract.Marshal(wireFields(e.Fields))
		if err != nil {
			return fmt.Errorf("emit %s event: marshal fields: %w", e.Type, err)
		}
		if len(fields) == 0 || fields[0] != '{' { // nil map marshals as null
			fields = []byte("{}")
		}
		encoded[i] = fields
	}
	var overflows []*dock.Event
	err := ob.db.Update(func(tx *bolt.Tx) error {
		overflows = overflows[:0]
		b := tx.Bucket([]byte(bucketOutbox))
		seq := lastSeq(tx)
		for i, e := range events {
			if depthOf(tx, seq) >= ob.max {
				ev, err := ob.dropOldest(b)
				if err != nil {
					return err
				}
				overflows = append(overflows, ev)
				seq++
				of, err := contract.Marshal(ev.Fields)
				if err != nil {
					return fmt.Errorf("marshal overflow fields: %w", err)
				}
				if err := b.Put(seqKey(seq), encodeEvent(seq, *ev, of)); err != nil {
					return fmt.Errorf("store overflow event: %w", err)
				}
			}
			seq++
			if err := b.Put(seqKey(seq), encodeEvent(seq, e, encoded[i])); err != nil {
				return fmt.Errorf("store %s event: %w", e.Type, err)
			}
		}
		if err := tx.Bucket([]byte(bucketMeta)).Put([]byte(keyLastSeq), seqKey(seq)); err != nil {
			return fmt.Errorf("store last seq: %w", err)
		}
		ob.lastSeq.Store(seq)
		ob.depth.Store(int64(depthOf(tx, seq)))
		return nil
	})
	if err != nil {
		if len(events) == 1 {
			return fmt.Errorf("emit %s event to outbox %s: %w", events[0].Type, ob.db.Path(), err)
		}
		return fmt.Errorf("emit %d events to outbox %s: %w", len(events), ob.db.Path(), err)
	}
	for _, overflow := range overflows {
		ob.log.Error("outbox full: oldest events dropped", "dropped", overflow.Fields["dropped"],
			"first_seq", overflow.Fields["first_seq"], "last_seq", overflow.Fields["last_seq"])
	}
	select {
	case ob.notify <- struct{}{}:
	default:
	}
	return nil
}

// dropOldest deletes the oldest tenth of the outbox and returns the
// outbox.overflow event describing it.
func (ob *Outbox) dropOldest(b *bolt.Bucket) (*dock.Event, error) {
	n := max(ob.max/10, 1)
	c := b.Cursor()
	var first, last uint64
	dropped := 0
	for k, _ := c.First(); k != nil && dropped < n; k, _ = c.First() {
		seq := binary.BigEndian.Uint64(k)
		if dropped == 0 {
			first = seq
		}
		last = seq
		if err := c.Delete(); err != nil {
			return nil, fmt.Errorf("drop event %d: %w", seq, err)
		}
		dropped++
	}
	ob.dropped.Add(uint64(dropped))
	return &dock.Event{
		Type:   dock.EventOutboxOverflow,
		Time:   ob.clock.Now(),
		Fields: map[string]any{"dropped": dropped, "first_seq": first, "last_seq": last},
	}, nil
}

// wireFields returns f with every error value written as its message and,
// for an "error" field, the contract's "code" beside it (dock.Event: dock
// says what went wrong, telemetry how it is spelled). f itself is not
// changed; without error values it is returned as is.
func wireFields(f map[string]any) map[string]any {
	var out map[string]any
	for k, v := range f {
		err, ok := v.(error)
		if !ok {
			continue
		}
		if out == nil {
			out = maps.Clone(f)
		}
		out[k] = err.Error()
		if _, has := f["code"]; k == "error" && !has {
			out["code"] = string(codeOf(err))
		}
	}
	if out == nil {
		return f
	}
	return out
}

// encodeEvent writes {"seq":N,"ts":...,"type":...,<fields>} with the three
// contract keys first. fields is a JSON object.
func encodeEvent(seq uint64, e dock.Event, fields []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(64 + len(fields))
	buf.WriteString(`{"seq":`)
	buf.WriteString(strconv.FormatUint(seq, 10))
	buf.WriteString(`,"ts":"`)
	buf.WriteString(timestamp(e.Time))
	buf.WriteString(`","type":`)
	t, _ := json.Marshal(string(e.Type)) // a string always marshals
	buf.Write(t)
	inner := bytes.TrimSpace(fields[1:]) // drop '{'
	if len(inner) > 1 {                  // more than the closing '}'
		buf.WriteByte(',')
	}
	buf.Write(inner)
	return buf.Bytes()
}

// Close closes the bbolt file. Call it after the Service's Run returned
// (or when it never ran); Emit fails afterwards.
func (ob *Outbox) Close() error {
	if err := ob.db.Close(); err != nil {
		return fmt.Errorf("close outbox %s: %w", ob.db.Path(), err)
	}
	return nil
}

// Depth is the number of events stored and not yet acknowledged.
func (ob *Outbox) Depth() int { return int(ob.depth.Load()) }

// LastSeq is the seq of the newest stored event (0 before the first).
func (ob *Outbox) LastSeq() uint64 { return ob.lastSeq.Load() }

type storedEvent struct {
	seq     uint64
	payload []byte
}

// head returns up to n of the oldest stored events, in seq order.
func (ob *Outbox) head(n int) ([]storedEvent, error) {
	var out []storedEvent
	err := ob.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketOutbox)).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			out = append(out, storedEvent{seq: binary.BigEndian.Uint64(k), payload: bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox head: %w", err)
	}
	return out, nil
}

// ack deletes the acknowledged events up to and including seq.
func (ob *Outbox) ack(upTo uint64) error {
	err := ob.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketOutbox)).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upTo; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		ob.depth.Store(int64(depthOf(tx, lastSeq(tx))))
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete acknowledged events up to %d: %w", upTo, err)
	}
	return nil
}

// ackPatience is how many ackTimeouts the outbox waits for the PUBACK of
// an event while the connection stays up before it sends the event again.
const ackPatience = 3

// tokenWaiter waits for a publish to be acknowledged.
type tokenWaiter func(ctx context.Context, d time.Duration) error

// run publishes stored events in seq order to topic until ctx ends. With
// untilEmpty it returns nil as soon as the outbox is empty (the shutdown
// flush).
func (ob *Outbox) run(ctx context.Context, p broker, topic string, untilEmpty bool) error {
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		changed := p.watch()
		if !p.isConnected() {
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
			}
			continue
		}
		batch, err := ob.head(outboxBatch)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			if untilEmpty {
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-ob.notify:
			case <-changed:
			}
			continue
		}
		waits := make([]tokenWaiter, len(batch))
		for i, ev := range batch {
			waits[i] = p.publish(topic, 1, false, ev.payload)
		}
		acked := 0
		for i := range batch {
			err := waits[i](ctx, ackTimeout)
			// A PUBACK late on a connection that is still up is slow, not
			// lost (TCP does not drop it; paho resends in-flight messages
			// itself after a reconnect): wait longer before sending the
			// event again, which would deliver it twice.
			for n := 1; errors.Is(err, errAckTimeout) && n < ackPatience && p.isConnected() && ctx.Err() == nil; n++ {
				err = waits[i](ctx, ackTimeout)
			}
			if err != nil {
				if ctx.Err() == nil {
					failures++
					if failures == 1 {
						ob.log.Warn("event not acknowledged; will send again", "seq", batch[i].seq, "err", err)
					}
				}
				break
			}
			acked++
		}
		if acked > 0 {
			if err := ob.ack(batch[acked-1].seq); err != nil {
				return err
			}
			ob.published.Add(uint64(acked))
			if failures > 0 {
				ob.log.Info("events acknowledged again", "failures", failures)
				failures = 0
			}
		}
		if acked < len(batch) && p.isConnected() && ctx.Err() == nil {
			// Connected but unacknowledged: back off before sending again.
			t := ob.clock.NewTimer(connectRetry)
			select {
			case <-ctx.Done():
			case <-t.Chan():
			case <-p.watch():
			}
			t.Stop()
		}
	}
}
