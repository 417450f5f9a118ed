// Package serialport opens the agent's serial devices (the vehicle's radio
// or UART, the RS-485 buses): go.bug.st/serial sets the line mode and takes
// exclusive access, while reads and writes go through an *os.File of the
// same device, which the Go runtime waits on in its netpoller (epoll), with
// raw system calls (internal/rawio).
//
// go.bug.st/serial's own Read blocks its thread in select(2). A reader that
// waits for its device most of the time then holds a thread in a system
// call, and the scheduler's monitor (sysmon) retakes its P and keeps
// waking up instead of sleeping until the next timer (docs/performance.md).
// A device that cannot be polled falls back to go.bug.st/serial's own
// reads and writes.
package serialport

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/internal/rawio"
	"go.bug.st/serial"
)

// NoTimeout makes Read wait until a byte arrives or the port is closed
// (go.bug.st/serial's value).
var NoTimeout = serial.NoTimeout

// minTimeout is the shortest read timeout: a deadline already past when
// the read starts would return without looking at the device.
const minTimeout = time.Millisecond

// Port is an open serial device. Read, Write and SetReadTimeout may be
// called concurrently with each other and with Close.
type Port struct {
	port    serial.Port
	rd      *os.File        // nil: reads and writes go through port
	rc      syscall.RawConn // rd's
	timeout atomic.Int64    // time.Duration; NoTimeout for none
}

// Open opens device in mode. Its error is go.bug.st/serial's (a
// *serial.PortError names the cause: permission, missing, busy).
func Open(device string, mode *serial.Mode) (*Port, error) {
	// The reading side is opened first: go.bug.st/serial takes exclusive
	// access (TIOCEXCL), which refuses later opens but not earlier ones.
	// If it fails, serial.Open fails too and says why; if the device
	// cannot be polled, reads fall back to the serial port's own.
	rd, rdErr := os.OpenFile(device, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	port, err := serial.Open(device, mode)
	if err != nil {
		if rdErr == nil {
			_ = rd.Close()
		}
		return nil, err
	}
	p := &Port{port: port}
	p.timeout.Store(int64(NoTimeout))
	if rdErr == nil {
		rc, err := rd.SyscallConn()
		if err == nil && rd.SetReadDeadline(time.Time{}) == nil {
			p.rd, p.rc = rd, rc
		} else {
			_ = rd.Close() // not pollable (os.ErrNoDeadline)
		}
	}
	return p, nil
}

// Polled reports whether reads wait in the runtime's netpoller.
func (p *Port) Polled() bool { return p.rd != nil }

// SetReadTimeout sets how long a Read waits for the first byte; NoTimeout
// waits for ever. Timeouts under a millisecond count as one millisecond.
func (p *Port) SetReadTimeout(d time.Duration) error {
	if d != NoTimeout && d < 0 {
		return errors.New("serial read timeout: negative")
	}
	p.timeout.Store(int64(d))
	if p.rd == nil {
		return p.port.SetReadTimeout(d)
	}
	return nil
}

// Read reads what has arrived, waiting up to the read timeout for the
// first byte. When the timeout passes it returns 0, nil, as
// go.bug.st/serial does; after Close it returns an error. Reads and writes
// use raw system calls (see internal/rawio).
func (p *Port) Read(b []byte) (int, error) {
	if p.rd == nil {
		return p.port.Read(b)
	}
	var deadline time.Time
	if d := time.Duration(p.timeout.Load()); d != NoTimeout {
		deadline = time.Now().Add(max(d, minTimeout))
	}
	if err := p.rd.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := rawio.Read(p.rc, b)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case isErrno(err):
		return n, &os.PathError{Op: "read", Path: p.rd.Name(), Err: err}
	}
	return n, err // nil, io.EOF (hung up) or the closed file's error
}

// Write writes all of b to the device, waiting in the netpoller while the
// device's buffer is full.
func (p *Port) Write(b []byte) (int, error) {
	if p.rd == nil {
		return p.port.Write(b)
	}
	n, err := rawio.Write(p.rc, b)
	if isErrno(err) {
		return n, &os.PathError{Op: "write", Path: p.rd.Name(), Err: err}
	}
	return n, err
}

// isErrno reports whether err is a bare system error, which gets the
// device's name.
func isErrno(err error) bool {
	_, ok := err.(syscall.Errno)
	return ok
}

// Close closes the device; a Read blocked in another goroutine returns.
func (p *Port) Close() error {
	var err error
	if p.rd != nil {
		err = p.rd.Close()
	}
	return errors.Join(err, p.port.Close())
}
