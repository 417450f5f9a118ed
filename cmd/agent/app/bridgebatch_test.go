package app

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFrameBatcher: frames leave back to back at flush, a full batch
// leaves at the next add, and an empty flush publishes nothing.
func TestFrameBatcher(t *testing.T) {
	var got [][]byte
	b := newFrameBatcher(3, func(p []byte) { got = append(got, bytes.Clone(p)) })
	f := func(c byte) []byte { return []byte{0xFD, 0, 0, 0, 1, 1, c, 0, 0, 0, 0xAA, 0xBB} }
	b.flush()
	b.add(f(1))
	b.add(f(2))
	if len(got) != 0 {
		t.Fatalf("published %d payloads before flush, want 0", len(got))
	}
	b.flush()
	for i := byte(3); i <= 7; i++ {
		b.add(f(i))
	}
	b.flush()
	b.flush()
	want := [][]byte{
		bytes.Join([][]byte{f(1), f(2)}, nil),
		bytes.Join([][]byte{f(3), f(4), f(5)}, nil), // full at 3: sent by the 4th add
		bytes.Join([][]byte{f(6), f(7)}, nil),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
}

// With batching off every frame is its own payload, and frames the agent
// sent or passed on are not published.
func TestBridgeTapOff(t *testing.T) {
	v := &vehicleLink{}
	var got [][]byte
	addBridgeTap(v, func(p []byte) { got = append(got, bytes.Clone(p)) }, 0)
	v.tap([]byte{1}, fromVehicle)
	v.tap([]byte{2}, fromAgent)
	v.tap([]byte{3}, fromOthers)
	v.tap([]byte{4}, fromVehicle)
	v.readDone()
	if diff := cmp.Diff([][]byte{{1}, {4}}, got); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
}

// With batching on the vehicle's frames of one read go as one payload at
// the link's read-done.
func TestBridgeTapBatch(t *testing.T) {
	v := &vehicleLink{}
	var got [][]byte
	addBridgeTap(v, func(p []byte) { got = append(got, bytes.Clone(p)) }, 16)
	v.tap([]byte{1}, fromVehicle)
	v.tap([]byte{2}, fromAgent)
	v.tap([]byte{3}, fromVehicle)
	if len(got) != 0 {
		t.Fatalf("published %v before the read was done", got)
	}
	v.readDone()
	if diff := cmp.Diff([][]byte{{1, 3}}, got); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
}
