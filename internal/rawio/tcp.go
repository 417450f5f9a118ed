package rawio

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// TCPConn is a TCP connection read and written with raw system calls (see
// the package doc); everything else is the net package's.
type TCPConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// NewTCPConn wraps nc, which must be a *net.TCPConn.
func NewTCPConn(nc net.Conn) (*TCPConn, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("connection is a %T, not TCP", nc)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &TCPConn{TCPConn: tc, rc: rc}, nil
}

// DialTCP connects to addr (host:port) with TCP keep-alive every 30 s and
// returns the connection as a TCPConn. The app hands it to telemetry as
// its broker dialer (telemetry imports nothing of internal/).
func DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := NewTCPConn(nc)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c, nil
}

// Read implements net.Conn.
func (c *TCPConn) Read(b []byte) (int, error) {
	n, err := Read(c.rc, b)
	return n, c.opError("read", err)
}

// Write implements net.Conn.
func (c *TCPConn) Write(b []byte) (int, error) {
	n, err := Write(c.rc, b)
	return n, c.opError("write", err)
}

// opError wraps err as the net package does, so a deadline reads as a
// timeout and a reset names the connection.
func (c *TCPConn) opError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
