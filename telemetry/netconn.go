package telemetry

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/internal/rawio"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The broker connection's reads and writes use raw system calls
// (internal/rawio): the agent writes a few hundred small MQTT packets a
// second (telemetry, the raw MAVLink bridge), and the Go runtime's
// bookkeeping around each ordinary system call woke its scheduler monitor
// every time, which cost more CPU than the writes themselves
// (docs/performance.md). Only plain TCP and TLS over TCP are dialled here;
// websockets and proxies (ALL_PROXY) keep paho's own dialling.

// useFastDial reports whether openBroker can dial every one of urls: TCP
// or TLS brokers (not websockets), no proxy.
func useFastDial(urls []string) bool {
	if os.Getenv("all_proxy") != "" || os.Getenv("ALL_PROXY") != "" {
		return false
	}
	for _, raw := range urls {
		if u, err := config.ParseBrokerURL(raw); err != nil || u.WebSocket {
			return false
		}
	}
	return true
}

// openBroker is paho's OpenConnectionFunc for tcp and tls URLs: a TCP
// connection (TLS on top for the secure schemes) whose reads and writes go
// through rawConn.
func openBroker(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	b, err := config.ParseBrokerURL(u.String())
	if err != nil || b.WebSocket {
		return nil, fmt.Errorf("broker url %s: scheme %q is not dialled here", u.Redacted(), u.Scheme)
	}
	ctx := context.Background()
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
	}
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	c, err := newRawConn(nc)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	if !b.TLS {
		return c, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tc = o.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	tlsConn := tls.Client(c, tc)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return tlsConn, nil
}

// rawConn is a TCP connection read and written with raw system calls.
type rawConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

func newRawConn(nc net.Conn) (*rawConn, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("broker connection is a %T, not TCP", nc)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &rawConn{TCPConn: tc, rc: rc}, nil
}

// Read implements net.Conn.
func (c *rawConn) Read(b []byte) (int, error) {
	n, err := rawio.Read(c.rc, b)
	return n, c.opError("read", err)
}

// Write implements net.Conn.
func (c *rawConn) Write(b []byte) (int, error) {
	n, err := rawio.Write(c.rc, b)
	return n, c.opError("write", err)
}

// opError wraps err as the net package does, so a deadline reads as a
// timeout and a reset names the connection.
func (c *rawConn) opError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
