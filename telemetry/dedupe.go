package telemetry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"
)

// dedupeRecord is what the dedupe bucket remembers about one request id.
// A record without Reply is a command that started executing and never
// finished (the agent died meanwhile): it is never executed again.
type dedupeRecord struct {
	At    time.Time       `json:"at"`
	Topic string          `json:"topic,omitempty"` // reply topic
	Reply json.RawMessage `json:"reply,omitempty"`
}

// maxClockSkew is how far ahead of the agent's clock a command's ts may
// be. Request ids are kept for the dedupe window plus this much, so that a
// command accepted with a ts up to maxClockSkew ahead is still remembered
// when its ts has become older than the dedupe window (and it is refused
// as stale from then on).
const maxClockSkew = 5 * time.Minute

// dedupe remembers request ids with their replies in bbolt for a window
// (plus maxClockSkew), so a re-delivered QoS 1 command (same id) is
// answered again and never executed twice, also across restarts. Commands
// older than that are refused by their ts or expires (intake), so an id is
// remembered for as long as its command could be accepted.
type dedupe struct {
	db     *bolt.DB
	clock  clockwork.Clock
	window time.Duration
}

// keep is how long a record is kept: the window plus maxClockSkew.
func (d *dedupe) keep() time.Duration { return d.window + maxClockSkew }

// lookup returns the record of id when one younger than the window exists.
func (d *dedupe) lookup(id string) (dedupeRecord, bool, error) {
	var rec dedupeRecord
	found := false
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketDedupe)).Get([]byte(id))
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		found = d.clock.Since(rec.At) < d.keep()
		return nil
	})
	if err != nil {
		return rec, false, fmt.Errorf("look up request id %q: %w", id, err)
	}
	return rec, found, nil
}

// store writes the record of id; a record without Reply marks it started.
func (d *dedupe) store(id string, rec dedupeRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode record of request id %q: %w", id, err)
	}
	err = d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketDedupe)).Put([]byte(id), v)
	})
	if err != nil {
		return fmt.Errorf("store request id %q: %w", id, err)
	}
	return nil
}

// storeAll writes the records of several ids in one transaction (one disk
// sync).
func (d *dedupe) storeAll(recs map[string]dedupeRecord) error {
	if len(recs) == 0 {
		return nil
	}
	vals := make(map[string][]byte, len(recs))
	for id, rec := range recs {
		v, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode record of request id %q: %w", id, err)
		}
		vals[id] = v
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketDedupe))
		for id, v := range vals {
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %d request ids: %w", len(recs), err)
	}
	return nil
}

// prune deletes records older than the window plus maxClockSkew and returns how many.
func (d *dedupe) prune() (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketDedupe))
		var old [][]byte // deleting under a moving cursor skips keys: collect first
		err := b.ForEach(func(k, v []byte) error {
			var rec dedupeRecord
			if json.Unmarshal(v, &rec) != nil || d.clock.Since(rec.At) >= d.keep() {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("prune request ids: %w", err)
	}
	return n, nil
}
