package mavlink

import (
	"bytes"
	"testing"
)

// TestPeekHeader: the header read in place agrees with what the parser
// decoded, for MAVLink 1 and 2, and truncated frames are refused.
func TestPeekHeader(t *testing.T) {
	for _, version := range []uint8{1, 2} {
		raw, err := AppendMessage(nil, Header{Version: version, Seq: 7, SysID: 42, CompID: 191}, &CommandLong{Command: 400, Param1: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := PeekHeader(raw)
		p := NewParser(ParserOptions{})
		var f Frame
		if _, err := p.Next(raw, true, &f); err != nil {
			t.Fatalf("v%d: parse: %v", version, err)
		}
		want := RawHeader{Header: Header{Version: version, Seq: 7, SysID: 42, CompID: 191}, MsgID: f.MsgID, Payload: f.Payload}
		if !ok || h.Header != want.Header || h.MsgID != want.MsgID || !bytes.Equal(h.Payload, want.Payload) {
			t.Errorf("v%d: PeekHeader() = %+v, %v, want %+v", version, h, ok, want)
		}
		if _, ok := PeekHeader(raw[:len(raw)-3]); ok {
			t.Errorf("v%d: PeekHeader(truncated) = ok, want false", version)
		}
	}
	if _, ok := PeekHeader([]byte{0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); ok {
		t.Error("PeekHeader(no magic) = ok, want false")
	}
	raw, _ := AppendMessage(nil, Header{SysID: 1, CompID: 1}, &Heartbeat{}, nil)
	if n := testing.AllocsPerRun(100, func() { _, _ = PeekHeader(raw) }); n != 0 {
		t.Errorf("PeekHeader allocates %v times, want 0", n)
	}
}

// FuzzPeekHeader: any input is read without panicking, and an accepted
// header's payload is as long as the length byte says.
func FuzzPeekHeader(f *testing.F) {
	addVectorSeeds(f)
	f.Add([]byte{0xFD, 255, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, ok := PeekHeader(raw)
		if !ok {
			return
		}
		if len(h.Payload) != int(raw[1]) || (h.Version != 1 && h.Version != 2) {
			t.Fatalf("PeekHeader(%x) = %+v: payload of %d bytes, length byte %d", raw, h, len(h.Payload), raw[1])
		}
	})
}
