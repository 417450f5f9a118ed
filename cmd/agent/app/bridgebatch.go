package app

import "github.com/dockagent/dock-agent/mavlink"

// addBridgeTap publishes the vehicle's frames on `mavlink/out`. With
// batch above 1 (mqtt.mavlink_bridge_batch) the frames of one read of the
// vehicle link go in one message, up to batch frames back to back, so the
// bridge pays the queue hop, the copy and the MQTT publish once per read
// instead of once per frame; otherwise one frame a message.
func addBridgeTap(veh *vehicleLink, publish func(frame []byte), batch int) {
	if batch <= 1 {
		veh.addTap(func(raw []byte, src frameSource) {
			if src == fromVehicle {
				publish(raw)
			}
		})
		return
	}
	b := newFrameBatcher(batch, publish)
	veh.addTap(func(raw []byte, src frameSource) {
		if src == fromVehicle {
			b.add(raw)
		}
	})
	veh.addReadDone(b.flush)
}

// frameBatcher gathers frames back to back and hands them to publish as
// one payload at flush or when max frames wait. It is used from the
// vehicle link's reader goroutine alone (taps of fromVehicle frames and
// read-done calls come from there), so it takes no lock. publish must not
// keep the payload (the service copies it).
type frameBatcher struct {
	max     int
	n       int
	buf     []byte
	publish func([]byte)
}

func newFrameBatcher(max int, publish func([]byte)) *frameBatcher {
	return &frameBatcher{max: max, buf: make([]byte, 0, max*mavlink.MaxFrameLen), publish: publish}
}

func (b *frameBatcher) add(raw []byte) {
	if b.n == b.max || len(b.buf)+len(raw) > cap(b.buf) {
		b.flush()
	}
	b.buf = append(b.buf, raw...)
	b.n++
}

func (b *frameBatcher) flush() {
	if b.n == 0 {
		return
	}
	b.publish(b.buf)
	b.buf, b.n = b.buf[:0], 0
}
