package router

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestMmsghdrLayout: sendmmsg(2) walks an array of struct mmsghdr, so the
// Go type must have C's size: the msghdr, the 4-byte msg_len, padded to the
// msghdr's alignment (64 bytes on amd64 and arm64, 32 on arm and 386).
func TestMmsghdrLayout(t *testing.T) {
	var m mmsghdr
	hdr, align := unsafe.Sizeof(m.hdr), unsafe.Alignof(m.hdr)
	want := (hdr + 4 + align - 1) / align * align
	if got := unsafe.Sizeof(m); got != want {
		t.Fatalf("sizeof(mmsghdr) = %d, want %d (msghdr %d, align %d)", got, want, hdr, align)
	}
	if off := unsafe.Offsetof(m.len); off != hdr {
		t.Fatalf("msg_len at offset %d, want %d", off, hdr)
	}
	if unsafe.Sizeof(unix.Msghdr{}) == 56 && unsafe.Sizeof(m) != 64 {
		t.Fatalf("64-bit: sizeof(mmsghdr) = %d, want 64", unsafe.Sizeof(m))
	}
}
