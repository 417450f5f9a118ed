package telemetry

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/dockagent/dock-agent/config"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The app injects a broker dialer (Options.DialTCP) whose reads and writes
// use raw system calls: the agent writes a few hundred small MQTT packets a
// second (telemetry, the raw MAVLink bridge), and the Go runtime's
// bookkeeping around each ordinary system call woke its scheduler monitor
// every time, which cost more CPU than the writes themselves
// (docs/performance.md). Only plain TCP and TLS over TCP are dialled so;
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

// openBroker returns paho's OpenConnectionFunc for tcp and tls URLs: a TCP
// connection from dial (TLS on top for the secure schemes).
func openBroker(dial func(ctx context.Context, addr string) (net.Conn, error)) mqtt.OpenConnectionFunc {
	return func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
		return dialBroker(dial, u, o)
	}
}

func dialBroker(dial func(ctx context.Context, addr string) (net.Conn, error), u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
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
	c, err := dial(ctx, u.Host)
	if err != nil {
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
