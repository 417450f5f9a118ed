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
)

// bridge relays raw MAVLink frames over MQTT (off by default): frames the
// app hands to PublishFrame go to `mavlink/out` (QoS 0, one frame per
// message), frames from `mavlink/in` go to the sink. Both directions are
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

// enqueue copies frame into q without blocking.
func (br *bridge) enqueue(q chan []byte, frame []byte) {
	if q == br.in && br.opener != nil {
		// A signed envelope: checked on the bridge's goroutine.
		if len(frame) > maxEnvelopeBytes || len(frame) == 0 || frame[0] != '{' {
			br.unsigned.Add(1)
			br.refused("unsigned", "signing is on: not a signed envelope")
			return
		}
	} else if !validFrame(frame) {
		br.dropped.Add(1)
		return
	}
	select {
	case q <- bytes.Clone(frame):
	default:
		br.dropped.Add(1)
	}
}

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
				br.dropped.Add(1)
				continue
			}
			c.publish(topic, 0, false, f)
			br.framesOut.Add(1)
		}
	}
}
