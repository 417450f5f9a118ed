package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockagent/dock-agent/config"
)

// defaultConfig is where the agent's config lives on an installed dock;
// dockctl takes its broker settings from there when the file exists.
const defaultConfig = "/etc/dock-agent/agent.yaml"

// listFlag is a repeatable flag whose values may also be comma separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// brokerFlags are the connection flags every MQTT subcommand shares. Unset
// flags take their value from the agent's config (-config, by default
// /etc/dock-agent/agent.yaml when it exists).
type brokerFlags struct {
	fs                        *flag.FlagSet
	brokers                   listFlag
	username, passwordFile    string
	ca, cert, key, serverName string
	insecure                  bool
	dock, prefix, configPath  string
	signKeyFile               string
	timeout                   time.Duration
	stateDir                  string // from the config only (sorties)
	dockLat, dockLon          float64
	dockPosKnown              bool
}

func addBrokerFlags(fs *flag.FlagSet) *brokerFlags {
	b := &brokerFlags{fs: fs}
	fs.Var(&b.brokers, "broker", "broker `URL` (tcp://, ssl://, tls://, ws://, wss://); repeat or comma-separate for fallbacks")
	fs.StringVar(&b.username, "username", "", "broker user name")
	fs.StringVar(&b.passwordFile, "password-file", "", "`file` holding the broker password")
	fs.StringVar(&b.ca, "ca", "", "PEM `file` of the broker's CA (turns on TLS)")
	fs.StringVar(&b.cert, "cert", "", "client certificate PEM `file` (with -key)")
	fs.StringVar(&b.key, "key", "", "client key PEM `file` (with -cert)")
	fs.StringVar(&b.serverName, "server-name", "", "`name` to check in the broker's certificate")
	fs.BoolVar(&b.insecure, "insecure", false, "do not check the broker's certificate (testing only)")
	fs.StringVar(&b.dock, "dock", "", "dock `ID` (topics dock/ID/...)")
	fs.StringVar(&b.prefix, "prefix", "", "full topic `prefix` such as dock/ID/ (overrides -dock)")
	fs.StringVar(&b.configPath, "config", defaultConfig, "the agent's config `file` to take defaults from (ignored when the default is missing)")
	fs.DurationVar(&b.timeout, "timeout", 10*time.Second, "how long to wait for the broker and for answers")
	return b
}

// session is what a subcommand needs to talk to one broker.
type session struct {
	brokers  []string
	username string
	password string
	tls      *tls.Config
	// prefix is "dock/<id>/", or "dock/+/" when no dock was named and the
	// subcommand accepts every dock.
	prefix  string
	signKey []byte
	timeout time.Duration
}

// resolve merges the flags that were set with the agent's config. needDock
// says the subcommand addresses one dock; otherwise a missing dock means all
// docks ("dock/+/").
func (b *brokerFlags) resolve(needDock bool) (*session, error) {
	set := map[string]bool{}
	b.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	s := &session{timeout: b.timeout}
	var signing *config.CommandSigning
	var cfgPrefix string
	var tlsCfg *config.TLS
	if b.configPath != "" {
		cfg, err := config.LoadWithOptions(b.configPath, config.LoadOptions{AllowMissingSecrets: true})
		switch {
		case err == nil:
			m := cfg.MQTT
			s.brokers, s.username, s.password = m.Brokers, m.Username, string(m.PasswordSecret())
			cfgPrefix, tlsCfg, signing = m.TopicPrefix, m.TLS, m.CommandSigning
			b.stateDir = cfg.StateDir
			b.dockLat, b.dockLon, b.dockPosKnown = cfg.Position.Lat, cfg.Position.Lon, true
		case !set["config"] && errors.Is(err, fs.ErrNotExist):
		case !set["config"] && !fileExists(b.configPath):
			// The default config is absent: flags only.
		default:
			return nil, fmt.Errorf("read agent config %s for broker defaults: %w", b.configPath, err)
		}
	}
	if len(b.brokers) > 0 {
		s.brokers = b.brokers
	}
	if len(s.brokers) == 0 {
		return nil, fmt.Errorf("no broker: give -broker URL or -config with mqtt.brokers (%s not found)", b.configPath)
	}
	if set["username"] {
		s.username = b.username
	}
	if b.passwordFile != "" {
		p, err := os.ReadFile(b.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("read broker password: %w", err)
		}
		s.password = strings.TrimSpace(string(p))
	}
	var ca, cert, key, serverName string
	insecure := b.insecure
	if tlsCfg != nil {
		ca, cert, key, serverName = tlsCfg.CAFile, tlsCfg.CertFile, tlsCfg.KeyFile, tlsCfg.ServerName
		insecure = insecure || tlsCfg.InsecureSkipVerify
	}
	if set["ca"] {
		ca = b.ca
	}
	if set["cert"] || set["key"] {
		cert, key = b.cert, b.key
	}
	if set["server-name"] {
		serverName = b.serverName
	}
	useTLS := ca != "" || cert != ""
	for _, raw := range s.brokers {
		secure, err := config.BrokerTLS(raw)
		if err != nil {
			return nil, err
		}
		useTLS = useTLS || secure
	}
	if useTLS {
		tc, err := clientTLS(ca, cert, key, serverName, insecure)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	switch {
	case b.prefix != "":
		s.prefix = b.prefix
	case b.dock != "":
		s.prefix = "dock/" + b.dock + "/"
	case cfgPrefix != "":
		s.prefix = cfgPrefix
	case needDock:
		return nil, errors.New("no dock: give -dock ID, -prefix dock/ID/ or -config with the dock's id")
	default:
		s.prefix = "dock/+/"
	}
	if !strings.HasSuffix(s.prefix, "/") {
		s.prefix += "/"
	}
	if needDock && strings.ContainsAny(s.prefix, "+#") {
		return nil, fmt.Errorf("prefix %q: this command addresses one dock; wildcards are not allowed", s.prefix)
	}
	if b.signKeyFile != "" {
		k, err := os.ReadFile(b.signKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read command signing key: %w", err)
		}
		s.signKey = []byte(strings.TrimSpace(string(k)))
	} else if signing != nil && signing.Key() != "" {
		s.signKey = []byte(signing.Key())
	}
	return s, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func clientTLS(ca, cert, key, serverName string, insecure bool) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, InsecureSkipVerify: insecure}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("read broker ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read broker ca file %s: no PEM certificate found", ca)
		}
		tc.RootCAs = pool
	}
	if (cert == "") != (key == "") {
		return nil, errors.New("tls: give the client certificate and key together (-cert and -key)")
	}
	if cert != "" {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s: %w", cert, err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	return tc, nil
}

// message is one MQTT message handed from paho to a subcommand.
type message struct {
	topic    string
	payload  []byte
	retained bool
}

// conn is a connected dockctl client with its inbound message queue.
type conn struct {
	client  mqtt.Client
	msgs    chan message
	dropped atomic.Uint64 // inbound messages dropped because the queue was full
	timeout time.Duration
	// lost receives why the connection broke, once; paho does not
	// reconnect by itself (watch does, with a notice).
	lost chan error
}

// connect opens a clean session with a random client id; messages of every
// subscription arrive on conn.msgs. The paho handler never blocks: when the
// queue is full the message is dropped and counted.
func (s *session) connect(ctx context.Context) (*conn, error) {
	return s.connectTo(ctx, make(chan message, 4096))
}

// connectTo is connect delivering into msgs, so that a reconnection keeps
// the queue (and the order) of the connection before.
func (s *session) connectTo(ctx context.Context, msgs chan message) (*conn, error) {
	c := &conn{msgs: msgs, timeout: s.timeout, lost: make(chan error, 1)}
	o := mqtt.NewClientOptions()
	for _, b := range s.brokers {
		o.AddBroker(b)
	}
	o.SetClientID("dockctl-" + randomHex(6))
	o.SetCleanSession(true)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetConnectTimeout(s.timeout)
	o.SetOrderMatters(true) // a cheap, non-blocking handler; keeps the broker's order
	if s.tls != nil {
		o.SetTLSConfig(s.tls)
	}
	if s.username != "" {
		o.SetUsername(s.username)
		o.SetPassword(s.password)
	}
	o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { c.deliver(m) })
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		select {
		case c.lost <- err:
		default:
		}
	})
	c.client = mqtt.NewClient(o)
	if err := c.wait(ctx, c.client.Connect()); err != nil {
		return nil, fmt.Errorf("connect to broker %s: %w", strings.Join(s.brokers, ","), err)
	}
	return c, nil
}

func (c *conn) deliver(m mqtt.Message) {
	select {
	case c.msgs <- message{topic: m.Topic(), payload: m.Payload(), retained: m.Retained()}:
	default:
		c.dropped.Add(1)
	}
}

// wait waits for a paho token within the timeout or until ctx ends.
func (c *conn) wait(ctx context.Context, t mqtt.Token) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no answer from the broker within %s", c.timeout)
		}
		return ctx.Err()
	}
}

// subscribe subscribes topics at QoS 1 and waits for the broker's SUBACK.
func (c *conn) subscribe(ctx context.Context, topics ...string) error {
	filters := make(map[string]byte, len(topics))
	for _, t := range topics {
		filters[t] = 1
	}
	if err := c.wait(ctx, c.client.SubscribeMultiple(filters, nil)); err != nil {
		return fmt.Errorf("subscribe to %s: %w", strings.Join(topics, ", "), err)
	}
	return nil
}

// publish sends payload at QoS 1, not retained, and waits for the PUBACK.
func (c *conn) publish(ctx context.Context, topic string, payload []byte) error {
	if err := c.wait(ctx, c.client.Publish(topic, 1, false, payload)); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

func (c *conn) close() { c.client.Disconnect(250) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
