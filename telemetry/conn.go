package telemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
)

// Connection tuning. Reconnects back off from connectRetry up to
// maxReconnect (paho doubles the interval after each failed attempt).
const (
	connectRetry   = time.Second
	maxReconnect   = 30 * time.Second
	keepAlive      = 30 * time.Second
	connectTimeout = 10 * time.Second
	writeTimeout   = 5 * time.Second
	// ackTimeout bounds the wait for one QoS 1 acknowledgement; after it the
	// message is sent again (at least once).
	ackTimeout = 20 * time.Second
)

// offlinePayload is the retained will on `status` (DESIGN.md §5).
const offlinePayload = `{"online":false}`

// broker is what the outbox and the publisher need from the connection;
// *conn implements it, tests may fake it.
type broker interface {
	isConnected() bool
	connectCount() uint64 // successful connections so far
	watch() <-chan struct{}
	publish(topic string, qos byte, retained bool, payload []byte) tokenWaiter
}

var _ broker = (*conn)(nil)

// ContractVersion is the version of the MQTT contract the agent speaks,
// announced in `status` (docs/mqtt-api.md): 1.1 added readiness, the
// `circles` topic, quote, retarget and alert.
const ContractVersion = "1.1"

// statusMsg is the retained `status` payload once connected: what a
// command centre needs to know about a dock before it sends anything.
type statusMsg struct {
	Online       bool      `json:"online"`
	Version      string    `json:"version"`
	StartedAt    string    `json:"started_at"`
	Contract     string    `json:"contract"`
	Position     *Position `json:"position,omitempty"`
	Capabilities []string  `json:"capabilities"`
}

// Position is the dock's surveyed position, announced in `status`.
type Position struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	AltM float64 `json:"alt_m"`
}

// conn is the paho client and its observable connection state. paho calls
// its handlers on goroutines of its own; they only flip an atomic and wake
// watchers, so they never block the library (STYLE.md §3).
type conn struct {
	client mqtt.Client
	clock  clockwork.Clock
	log    *slog.Logger

	connected atomic.Bool
	connects  atomic.Uint64
	losses    atomic.Uint64

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	connect mqtt.Token    // of the first connection (with retries)
}

// newConn builds the paho client from o; onMessage receives every inbound
// message (subscribed or re-delivered from the persistent session) and must
// not block. The client is not connected yet: see start.
func newConn(o Options, onMessage func(topic string, payload []byte, retained bool)) (*conn, error) {
	c := &conn{clock: o.Clock, log: o.Logger.With("component", "mqtt"), changed: make(chan struct{})}
	po := mqtt.NewClientOptions()
	useTLS := o.CAFile != "" || o.CertFile != ""
	for _, raw := range o.BrokerURLs {
		u, err := config.ParseBrokerURL(raw)
		if err != nil {
			return nil, fmt.Errorf("mqtt broker: %w", err)
		}
		useTLS = useTLS || u.TLS
		po.AddBroker(raw)
	}
	if useTLS {
		tc, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		po.SetTLSConfig(tc)
	}
	if o.DialTCP != nil && useFastDial(o.BrokerURLs) {
		po.SetCustomOpenConnectionFn(openBroker(o.DialTCP))
	}
	po.SetClientID(o.ClientID)
	po.SetCleanSession(false)
	po.SetStore(newCopyingStore())
	po.SetResumeSubs(true)
	po.SetOrderMatters(false)
	po.SetAutoReconnect(true)
	po.SetConnectRetry(true)
	po.SetConnectRetryInterval(connectRetry)
	po.SetMaxReconnectInterval(maxReconnect)
	po.SetKeepAlive(keepAlive)
	po.SetConnectTimeout(connectTimeout)
	po.SetWriteTimeout(writeTimeout)
	po.SetWill(o.Prefix+"status", offlinePayload, 1, true)
	if o.Username != "" {
		po.SetUsername(o.Username)
		po.SetPassword(o.Password)
	}
	po.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
		onMessage(m.Topic(), m.Payload(), m.Retained())
	})
	po.SetOnConnectHandler(func(mqtt.Client) {
		c.connects.Add(1)
		c.update()
		c.log.Info("broker connected")
	})
	po.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		c.losses.Add(1)
		c.update()
		c.log.Warn("broker connection lost", "err", err)
	})
	c.client = mqtt.NewClient(po)
	return c, nil
}

// tlsConfig builds the client TLS configuration from the CA, client
// certificate and server name of o.
func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read broker ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read broker ca file %s: no PEM certificate found", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load mqtt client certificate %s: %w", o.CertFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// update re-reads the client's connection state and wakes watchers. paho
// runs its connect and lost handlers on separate goroutines, so they may
// arrive out of order or both after a fast reconnect; reading the real state
// and counting connects (watchers compare the count) covers both.
func (c *conn) update() {
	c.connected.Store(c.client.IsConnectionOpen())
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// watch returns a channel closed at the next connection state change.
func (c *conn) watch() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// connectCount is the number of successful connections so far; a change
// means a (re)connect even when the state read back is unchanged.
func (c *conn) connectCount() uint64 { return c.connects.Load() }

// isConnected reports whether the connection to the broker is up now.
func (c *conn) isConnected() bool { return c.connected.Load() }

// start begins connecting in the background; paho retries with backoff
// until stop.
func (c *conn) start() {
	c.connect = c.client.Connect() // with ConnectRetry it completes once connected or stopped
}

// stop disconnects, waiting at most quiesce for queued work; a clean
// DISCONNECT makes the broker discard the will. While the first connection
// is still being retried it also waits (bounded) for paho's connect goroutine
// to give up, so that nothing of ours outlives Run.
func (c *conn) stop(quiesce time.Duration) {
	c.client.Disconnect(uint(quiesce / time.Millisecond))
	if c.connect != nil {
		_ = waitToken(context.Background(), c.clock, c.connect, connectTimeout+2*connectRetry)
	}
	c.update()
}

// publish sends payload without waiting; the returned func waits for the
// acknowledgement (QoS 1) or the write (QoS 0).
func (c *conn) publish(topic string, qos byte, retained bool, payload []byte) tokenWaiter {
	t := c.client.Publish(topic, qos, retained, payload)
	return func(ctx context.Context, d time.Duration) error { return waitToken(ctx, c.clock, t, d) }
}

// statusPayload is the retained online status: the commands the table
// takes, and the optional parts that are on.
func statusPayload(o Options, started time.Time) []byte {
	m := statusMsg{Online: true, Version: o.Version, StartedAt: timestamp(started), Contract: ContractVersion, Position: o.Position}
	for name := range commandSpecs() {
		m.Capabilities = append(m.Capabilities, string(name))
	}
	if o.Bridge != nil {
		m.Capabilities = append(m.Capabilities, "mavlink_bridge")
	}
	if len(o.SigningKey) > 0 {
		m.Capabilities = append(m.Capabilities, "command_signing")
	}
	slices.Sort(m.Capabilities)
	b, err := json.Marshal(m)
	if err != nil {
		panic("telemetry: marshal status: " + err.Error()) // strings and finite floats always marshal
	}
	return b
}

// errAckTimeout is returned when the broker did not acknowledge in time.
var errAckTimeout = errors.New("no acknowledgement from the broker in time")

// waitToken waits for a paho token under ctx and at most d of clock time.
// paho tokens take no ctx, so the wait selects on token.Done (STYLE.md §3).
func waitToken(ctx context.Context, clock clockwork.Clock, t mqtt.Token, d time.Duration) error {
	timer := clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.Chan():
		return errAckTimeout
	}
}
