package router

import (
	"sync"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// header is what routing needs of a frame.
type header struct {
	seq, sysID, compID uint8
	msgID              uint32
	payload            []byte
}

// parseHeader reads the header of a whole raw frame (as the parser returns
// it) without checking its checksum: the parser did.
func parseHeader(raw []byte) (header, bool) {
	if len(raw) < 8 {
		return header{}, false
	}
	n := int(raw[1])
	switch raw[0] {
	case mavlink.MagicV2:
		if len(raw) < 12+n {
			return header{}, false
		}
		return header{seq: raw[4], sysID: raw[5], compID: raw[6],
			msgID: uint32(raw[7]) | uint32(raw[8])<<8 | uint32(raw[9])<<16, payload: raw[10 : 10+n]}, true
	case mavlink.MagicV1:
		if len(raw) < 8+n {
			return header{}, false
		}
		return header{seq: raw[2], sysID: raw[3], compID: raw[4], msgID: uint32(raw[5]), payload: raw[6 : 6+n]}, true
	}
	return header{}, false
}

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
func (d *dedupe) seen(h header, now time.Time) bool {
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
func frameKey(h header) uint64 {
	const prime = 1099511628211
	k := uint64(14695981039346656037)
	mix := func(b byte) { k ^= uint64(b); k *= prime }
	mix(h.sysID)
	mix(h.compID)
	mix(h.seq)
	mix(byte(h.msgID))
	mix(byte(h.msgID >> 8))
	mix(byte(h.msgID >> 16))
	for _, b := range h.payload {
		mix(b)
	}
	return k
}
