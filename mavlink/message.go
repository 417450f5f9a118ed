package mavlink

import "fmt"

// Message is a typed MAVLink message generated from defs/ (Heartbeat,
// GlobalPositionInt, ...). Implementations are pointers to the generated
// structs; none of the methods allocates.
type Message interface {
	// MsgID returns the message id.
	MsgID() uint32
	// EncodePayload writes the message in wire order into p, which must
	// hold at least the message's MaxLen bytes (255 always suffices), and
	// returns MaxLen. It does not truncate.
	EncodePayload(p []byte) int
	// DecodePayload sets the message from a payload of at most MaxLen bytes;
	// missing trailing bytes read as zero.
	DecodePayload(p []byte)
}

// NewMessage returns a new zero message of the Go type generated for id, or
// nil if id has no typed struct (it may still be in the table, see
// LookupMessage). It allocates; hot paths keep their own structs.
func NewMessage(id uint32) Message {
	if m := newCommonMessage(id); m != nil {
		return m
	}
	return newArdupilotmegaMessage(id)
}

// DecodeMessage decodes the payload of frame f into m without allocating.
// It fails if f carries another message id or a payload longer than the
// message allows.
func DecodeMessage(f *Frame, m Message) error {
	if f.MsgID != m.MsgID() {
		return fmt.Errorf("decode message %d: frame carries message %d", m.MsgID(), f.MsgID)
	}
	mi := f.Info
	if mi == nil || mi.ID != f.MsgID {
		mi = LookupMessage(f.MsgID)
	}
	if mi == nil || len(f.Payload) > mi.MaxLen {
		return fmt.Errorf("decode message %d: payload of %d bytes is too long", f.MsgID, len(f.Payload))
	}
	m.DecodePayload(f.Payload)
	return nil
}
