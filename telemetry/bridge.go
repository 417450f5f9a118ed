package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
)

// MAVLink frame limits the bridge checks without decoding (it must not
// import mavlink): a v1 frame starts with 0xFE, a v2 frame with 0xFD, and no
// frame is longer than 280 bytes (v2 with a 255-byte payload and signature).
const (
	mavlinkV1Magic  = 0xFE
	mavlinkV2Magic  = 0xFD
	maxFrameBytes   = 280
	minFrameBytes   = 8
	bridgeQueueSize = 256
	// maxBatchFrames bounds the frames of one `mavlink/out` message
	// (config.MaxBridgeBatch; telemetry does not import config).
	maxBatchFrames = 64
)

// bridge relays raw MAVLink frames over MQTT (off by default): frames the
// app hands to PublishFrame go to `mavlink/out` (QoS 0, one frame per
// message, or several whole frames back to back when the app batches
// them: mqtt.mavlink_bridge_batch), frames from `mavlink/in` go to the
// sink. Both directions are
// lossy under pressure, like the radio link they extend: a full queue drops
// the frame and counts it.
//
// With signing on (opener not nil), `mavlink/in` takes signed envelopes
// only (bridgesign.go); what fails the check goes to refused, never to the
// sink.
type bridge struct {
	sink    func([]byte) error
	refused func(reason, detail string)
	opener  *frameOpener // nil: signing off
	log     *slog.Logger
	in      chan []byte
	out     chan []byte

	framesIn, framesOut, dropped, sinkErrors, unsigned atomic.Uint64
}

func newBridge(sink func([]byte) error, refused func(reason, detail string), sign *signer, log *slog.Logger) *bridge {
	br := &bridge{sink: sink, refused: refused, log: log.With("component", "mavlink_bridge"),
		in: make(chan []byte, bridgeQueueSize), out: make(chan []byte, bridgeQueueSize)}
	if sign != nil {
		br.opener = newFrameOpener(sign)
	}
	if br.refused == nil {
		br.refused = func(string, string) {}
	}
	return br
}

// validFrame reports whether b looks like one MAVLink frame.
func validFrame(b []byte) bool {
	return len(b) >= minFrameBytes && len(b) <= maxFrameBytes && (b[0] == mavlinkV1Magic || b[0] == mavlinkV2Magic)
}

// frameLen is the length of the MAVLink frame b starts with, from its
// header alone (v1: 6 header bytes, v2: 10, a 2-byte checksum, a v2
// signature of 13 when incompat flag 0x01 is set); 0 if b does not start
// with a whole frame.
func frameLen(b []byte) int {
	n := 0
	switch {
	case len(b) >= 6 && b[0] == mavlinkV1Magic:
		n = 6 + int(b[1]) + 2
	case len(b) >= 10 && b[0] == mavlinkV2Magic:
		n = 10 + int(b[1]) + 2
		if b[2]&0x01 != 0 {
			n += 13
		}
	default:
		return 0
	}
	if n > len(b) {
		return 0
	}
	return n
}

// countFrames returns how many whole frames b holds back to back, 0 if
// anything in b is not one (a truncated or stray byte, too many frames).
func countFrames(b []byte) int {
	count := 0
	for len(b) > 0 {
		n := frameLen(b)
		if n < minFrameBytes || count == maxBatchFrames {
			return 0
		}
		b = b[n:]
		count++
	}
	return count
}

// enqueue copies frame into q without blocking. On `mavlink/out` frame may
// be a batch: whole frames back to back.
func (br *bridge) enqueue(q chan []byte, frame []byte) {
	if q == br.in && br.opener != nil {
		// A signed envelope: checked on the bridge's goroutine.
		if len(frame) > maxEnvelopeBytes || len(frame) == 0 || frame[0] != '{' {
			br.unsigned.Add(1)
			br.refused("unsigned", "signing is on: not a signed envelope")
			return
		}
	} else if !validFrame(frame) && (q != br.out || countFrames(frame) == 0) {
		// One frame, checked as before batches existed; on the way out a
		// longer payload must be a clean batch.
		br.dropped.Add(1)
		return
	}
	select {
	case q <- bytes.Clone(frame):
	default:
		br.dropped.Add(outFrames(frame))
	}
}

// outFrames is how many frames a `mavlink/out` payload counts for: those
// of a batch, else 1.
func outFrames(b []byte) uint64 { return uint64(max(1, countFrames(b))) }

// run moves frames in both directions until ctx ends.
func (br *bridge) run(ctx context.Context, c broker, topic string) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-br.in:
			if br.opener != nil {
				raw, err := br.opener.open(f)
				if err != nil {
					br.unsigned.Add(1)
					br.refused("unsigned", err.Error())
					continue
				}
				f = raw
			}
			err := br.sink(f)
			switch {
			case err != nil:
				br.sinkErrors.Add(1)
				if !failing {
					br.log.Warn("frame from mqtt not delivered to the vehicle", "err", err)
				}
				failing = true
			case failing:
				br.log.Info("frames from mqtt reach the vehicle again")
				failing = false
			}
			br.framesIn.Add(1)
		case f := <-br.out:
			if !c.isConnected() {
				br.dropped.Add(outFrames(f))
				continue
			}
			c.publish(topic, 0, false, f)
			br.framesOut.Add(outFrames(f))
		}
	}
}
