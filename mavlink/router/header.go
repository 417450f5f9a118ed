package router

import (
	"sync"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// dedupe remembers the frames of the last window to drop copies arriving
// over redundant links: same sysid, compid, seq, msgid and payload. It is a
// direct-mapped table indexed by the frame's hash: O(1) per frame; two
// frames whose hashes share a slot evict each other, which can only let a
// copy through, never drop a new frame (the whole 64-bit hash must match).
type dedupe struct {
	window time.Duration
	mu     sync.Mutex
	table  [1024]seenFrame
}

type seenFrame struct {
	key uint64
	at  time.Time
}

// seen reports whether the frame passed within the window, and remembers it.
func (d *dedupe) seen(h mavlink.RawHeader, now time.Time) bool {
	key := frameKey(h)
	d.mu.Lock()
	defer d.mu.Unlock()
	s := &d.table[key%uint64(len(d.table))]
	if s.key == key && !s.at.IsZero() && now.Sub(s.at) <= d.window {
		return true
	}
	*s = seenFrame{key: key, at: now}
	return false
}

// frameKey is FNV-1a over the identifying fields and the payload.
func frameKey(h mavlink.RawHeader) uint64 {
	const prime = 1099511628211
	k := uint64(14695981039346656037)
	mix := func(b byte) { k ^= uint64(b); k *= prime }
	mix(h.SysID)
	mix(h.CompID)
	mix(h.Seq)
	mix(byte(h.MsgID))
	mix(byte(h.MsgID >> 8))
	mix(byte(h.MsgID >> 16))
	for _, b := range h.Payload {
		mix(b)
	}
	return k
}
