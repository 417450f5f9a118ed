package router

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestMmsghdrLayout: sendmmsg(2) walks an array of struct mmsghdr, so the
// Go type must have C's size: 64 bytes on 64-bit Linux, 32 on arm and 386.
// C's struct is the msghdr and the 4-byte msg_len, with only trailing
// padding, which Go adds by itself: a field of our own after msg_len (the
// 4-byte pad this type once had) makes it 36 bytes on 32-bit boards, and on
// amd64 still 64, so the field count is checked on every architecture.
func TestMmsghdrLayout(t *testing.T) {
	var m mmsghdr
	if n := reflect.TypeOf(m).NumField(); n != 2 {
		t.Fatalf("mmsghdr has %d fields, want 2 (msg_hdr, msg_len): C pads it, Go does the same", n)
	}
	if off := unsafe.Offsetof(m.len); off != unsafe.Sizeof(m.hdr) {
		t.Fatalf("msg_len at offset %d, want %d", off, unsafe.Sizeof(m.hdr))
	}
	want := uintptr(32)
	if unsafe.Sizeof(uintptr(0)) == 8 {
		want = 64
	}
	if got := unsafe.Sizeof(m); got != want {
		t.Fatalf("sizeof(mmsghdr) = %d, want %d", got, want)
	}
}
