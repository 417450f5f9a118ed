package router

import (
	"net/netip"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// maxBatch bounds the frames Queue holds before it sends them itself; a
// read of the vehicle link rarely returns more (a 4 KiB read of 30-byte
// frames is ~130).
const maxBatch = 64

// batchBytes is the size of the copy area of queued frames: maxBatch
// frames of the largest size.
const batchBytes = maxBatch * mavlink.MaxFrameLen

// batch is the frames Queue took since the last Flush, copied (the
// caller's buffer is reused by its next read).
type batch struct {
	buf    []byte   // cap batchBytes; the frames back to back
	frames [][]byte // views into buf
	heads  []mavlink.RawHeader
}

// Queue takes one raw frame for the endpoints, like Forward, but sends it
// only at the next Flush (or when maxBatch frames wait), so that the
// frames of one read of the vehicle link leave in one system call per
// destination (sendmmsg on Linux) instead of one each. Dedupe and filters
// apply at Queue, in order. raw is copied. It does not allocate.
//
// Queue and Flush are for one reader (the vehicle link's goroutine); the
// router's other methods stay safe to call concurrently with them.
func (r *Router) Queue(raw []byte) {
	h, ok := mavlink.PeekHeader(raw)
	if !ok {
		return
	}
	r.qmu.Lock()
	defer r.qmu.Unlock()
	if r.opts.DedupeWindow > 0 && r.out.seen(h, r.clk.Now()) {
		r.duplicates.Add(1)
		return
	}
	b := &r.q
	if len(b.frames) == maxBatch || len(b.buf)+len(raw) > cap(b.buf) {
		r.flushLocked()
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, batchBytes)
		b.frames = make([][]byte, 0, maxBatch)
		b.heads = make([]mavlink.RawHeader, 0, maxBatch)
	}
	if len(raw) > cap(b.buf) {
		r.fanOut(raw, h, nil) // not a frame the parser passes; sent alone
		return
	}
	start := len(b.buf)
	b.buf = append(b.buf, raw...)
	b.frames = append(b.frames, b.buf[start:len(b.buf):len(b.buf)])
	b.heads = append(b.heads, h)
}

// Flush sends the frames queued since the last Flush, one system call per
// destination where the platform allows. It does not allocate once the
// endpoints' scratch space has grown to the largest batch.
func (r *Router) Flush() {
	r.qmu.Lock()
	r.flushLocked()
	r.qmu.Unlock()
}

func (r *Router) flushLocked() {
	b := &r.q
	if len(b.frames) == 0 {
		return
	}
	var now time.Time
	for _, ep := range r.eps {
		sel := ep.sel[:0]
		for i, raw := range b.frames {
			if !ep.filter.pass(b.heads[i]) {
				ep.filtered.Add(1)
				continue
			}
			sel = append(sel, raw)
		}
		ep.sel = sel
		if len(sel) == 0 {
			continue
		}
		r.toEach(ep, &now, func(to netip.AddrPort) { ep.sendBatch(sel, to) })
	}
	clear(b.frames) // drop the views, not the storage
	b.buf, b.frames, b.heads = b.buf[:0], b.frames[:0], b.heads[:0]
}

// sendBatch sends frames to one destination, counting each.
func (ep *endpoint) sendBatch(frames [][]byte, to netip.AddrPort) {
	sent, bytes, err := ep.writeBatch(frames, to)
	ep.framesOut.Add(uint64(sent))
	ep.bytesOut.Add(uint64(bytes))
	if err != nil {
		ep.writeErrors.Add(uint64(len(frames) - sent))
	}
}
