//go:build linux

package router

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr: one message of sendmmsg(2). Go pads it to
// Msghdr's alignment as C does: 64 bytes on 64-bit Linux, 32 on arm and
// 386 (an explicit 4-byte pad would give 36 there, and the kernel would
// read the second message from the wrong place).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// sendScratch is an endpoint's memory for sendmmsg, reused per batch so a
// send does not allocate (the state of one call lives here, not in a
// closure, which would escape to the heap through syscall.RawConn).
type sendScratch struct {
	hdrs []mmsghdr
	iovs []unix.Iovec
	sa4  unix.RawSockaddrInet4
	sa6  unix.RawSockaddrInet6

	fn          func(fd uintptr) bool // do, made once
	sent, bytes int
	errno       syscall.Errno
}

// writeBatch sends each frame as one datagram to to, all in one
// sendmmsg(2) system call (more when the socket buffer fills), made with
// RawSyscall: the socket is non-blocking, so the runtime's bookkeeping for
// a blocking call buys nothing and would wake its monitor thread
// (internal/rawio says why that costs). It returns the frames and bytes
// sent and the error that stopped it.
func (ep *endpoint) writeBatch(frames [][]byte, to netip.AddrPort) (sent, bytes int, err error) {
	ep.wmu.Lock()
	defer ep.wmu.Unlock()
	s := &ep.scratch
	name, namelen, err := s.sockaddr(ep.family, to)
	if err != nil {
		return 0, 0, fmt.Errorf("endpoint %s: %w", ep.name, err)
	}
	if cap(s.hdrs) < len(frames) {
		s.hdrs = make([]mmsghdr, len(frames))
		s.iovs = make([]unix.Iovec, len(frames))
	}
	if s.fn == nil {
		s.fn = s.do
	}
	s.hdrs, s.iovs = s.hdrs[:len(frames)], s.iovs[:len(frames)]
	for i, f := range frames {
		s.iovs[i] = unix.Iovec{Base: unsafe.SliceData(f)}
		s.iovs[i].SetLen(len(f)) // Len is 32 bits wide on arm and 386
		s.hdrs[i] = mmsghdr{hdr: unix.Msghdr{Name: name, Namelen: namelen, Iov: &s.iovs[i], Iovlen: 1}}
	}
	s.sent, s.bytes, s.errno = 0, 0, 0
	werr := ep.rc.Write(s.fn)
	clear(s.iovs) // keep no frame reachable past the call
	switch {
	case werr != nil:
		err = werr
	case s.errno != 0:
		err = s.errno
	}
	return s.sent, s.bytes, err
}

// do is the body of one writeBatch inside RawConn.Write: false asks the
// netpoller to wait for room in the socket buffer.
func (s *sendScratch) do(fd uintptr) bool {
	for s.sent < len(s.hdrs) {
		n, _, e := syscall.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[s.sent])), uintptr(len(s.hdrs)-s.sent), 0, 0, 0)
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return false
		case e != 0:
			s.errno = e
			return true
		}
		for _, h := range s.hdrs[s.sent : s.sent+int(n)] {
			s.bytes += int(h.len)
		}
		s.sent += int(n)
	}
	return true
}

// sockaddr spells to as a sockaddr of the socket's family: an IPv4
// address on an IPv6 (dual-stack) socket is v4-mapped.
func (s *sendScratch) sockaddr(family int, to netip.AddrPort) (*byte, uint32, error) {
	a := to.Addr()
	switch {
	case family == unix.AF_INET6:
		s.sa6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		putPort(&s.sa6.Port, to.Port())
		return (*byte)(unsafe.Pointer(&s.sa6)), unix.SizeofSockaddrInet6, nil
	case family == unix.AF_INET && a.Unmap().Is4():
		s.sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		putPort(&s.sa4.Port, to.Port())
		return (*byte)(unsafe.Pointer(&s.sa4)), unix.SizeofSockaddrInet4, nil
	}
	return nil, 0, errors.New("address " + to.String() + " does not fit the socket's family")
}

// putPort stores port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// socketFamily is the address family of rc's socket (AF_INET6 for Go's
// dual-stack "udp" sockets).
func socketFamily(rc syscall.RawConn) (int, error) {
	var family int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		sa, err := unix.Getsockname(int(fd))
		switch sa.(type) {
		case *unix.SockaddrInet4:
			family = unix.AF_INET
		case *unix.SockaddrInet6:
			family = unix.AF_INET6
		default:
			serr = fmt.Errorf("socket family %T: %v", sa, err)
		}
	}); err != nil {
		return 0, err
	}
	return family, serr
}
