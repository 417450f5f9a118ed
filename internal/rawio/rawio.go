// Package rawio reads and writes non-blocking descriptors (a serial
// device, a TCP socket) through syscall.RawConn with raw system calls.
//
// The Go runtime wraps an ordinary system call in scheduler bookkeeping
// (entersyscall/exitsyscall) so that a call that blocks does not hold its
// P. A read or write on a non-blocking descriptor never blocks: it returns
// EAGAIN and the runtime's netpoller waits instead. The bookkeeping then
// buys nothing and costs: a system call entered while the scheduler's
// monitor (sysmon) sleeps wakes it, and it polls every 20 µs until the
// process is idle again. For a daemon that does a few hundred small reads
// and writes a second and sleeps in between, that monitor was the largest
// single item of its CPU time (docs/performance.md).
package rawio

import (
	"io"
	"syscall"
	"unsafe"
)

// Read reads into b from rc's descriptor, waiting in the netpoller (and
// honouring the read deadline) until something arrives. It returns io.EOF
// when the other side hung up. op names the descriptor in errors.
func Read(rc syscall.RawConn, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := rc.Read(func(fd uintptr) bool {
		n, errno = raw(syscall.SYS_READ, fd, b)
		return errno != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of b to rc's descriptor, waiting in the netpoller (and
// honouring the write deadline) while its buffer is full.
func Write(rc syscall.RawConn, b []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := rc.Write(func(fd uintptr) bool {
		for done < len(b) {
			var n int
			n, errno = raw(syscall.SYS_WRITE, fd, b[done:])
			if errno != 0 {
				return errno != syscall.EAGAIN
			}
			done += n
		}
		return true
	})
	switch {
	case err != nil:
		return done, err
	case errno != 0:
		return done, errno
	}
	return done, nil
}

// raw is one read or write, retried on EINTR.
func raw(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}
