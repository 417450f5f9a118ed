package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
)

// Defaults applied by NewService to zero Options fields.
const (
	DefaultTelemetryRate           = 2.0 // Hz
	MaxTelemetryRate               = 10.0
	DefaultStateInterval           = 60 * time.Second // keep-alive; changes go out at once
	DefaultTelemetryDockedInterval = 10 * time.Second
	MinStateGap                    = 500 * time.Millisecond // state at most 2/s
	DefaultDedupeWindow            = 24 * time.Hour
	DefaultMaxEvents               = 100000
	DefaultSigningWindow           = 5 * time.Minute
	DefaultFlushTimeout            = 2 * time.Second
	DefaultCommandTimeout          = 15 * time.Second
	DefaultQueueSize               = 16
	MaxCommandBytes                = 64 << 10 // larger payloads are refused with bad_request
	dbFileName                     = "telemetry.db"
)

// Options configure a Service. The zero value of each field is documented;
// Prefix, BrokerURLs, ClientID and StateDir (or DBPath) are required.
type Options struct {
	// Prefix is the topic prefix with its trailing slash, "dock/<dock-id>/".
	// A missing trailing slash is added.
	Prefix string
	// BrokerURLs lists brokers tried in order: tcp://, ssl://, tls://, ws://,
	// wss:// URLs. At least one.
	BrokerURLs []string
	// ClientID is the stable MQTT client id of the persistent session
	// (CleanSession false); usually "dock-agent-<dock-id>".
	ClientID string
	// Username and Password authenticate to the broker; empty sends none.
	// Password holds the secret already read from its file.
	Username string
	Password string
	// CAFile is a PEM bundle of the broker's CA; empty uses the system pool.
	// CertFile and KeyFile are the client certificate for mutual TLS; both or
	// neither. ServerName overrides the name checked in the broker's
	// certificate (empty: the URL's host). TLS is used for ssl://, tls://,
	// wss:// URLs, or for any URL when CAFile or CertFile is set.
	CAFile, CertFile, KeyFile string
	ServerName                string
	// StateDir is the directory of the bbolt file telemetry.db (outbox and
	// dedupe records). DBPath, when set, names the file instead.
	StateDir string
	DBPath   string
	// TelemetryRate is the `telemetry` rate in Hz; zero means 2, at most 10.
	TelemetryRate float64
	// TelemetryDockedInterval is the `telemetry` period while the state
	// says the vehicle is docked and disarmed; zero means 10 s.
	TelemetryDockedInterval time.Duration
	// StateInterval is the period of the unconditional `state` republish
	// (a keep-alive: changes go out when they happen); zero means 60 s.
	StateInterval time.Duration
	// DedupeWindow is how long request ids and their replies are remembered
	// across restarts; zero means 24 h.
	DedupeWindow time.Duration
	// MaxEvents bounds the outbox; zero means 100000. When full, the oldest
	// events are dropped and an outbox.overflow event says how many.
	MaxEvents int
	// SigningKey turns on command signing (signing.go) when non-empty: the
	// shared HMAC-SHA256 key read from its file.
	SigningKey []byte
	// SigningWindow is how far a signed command's ts may be from now; zero
	// means 5 min.
	SigningWindow time.Duration
	// CommandDone, when set, is called once for every command executed
	// (after its reply is made), with its result code: "" when it
	// succeeded. Refusals before execution are counted in Health.
	CommandDone func(name contract.Command, code contract.Code)
	// CommandTimeout bounds one command's call of the dock; zero means 15 s.
	CommandTimeout time.Duration
	// QueueSize is the number of accepted commands waiting for the worker;
	// zero means 16. A command arriving with the queue full gets `busy`.
	QueueSize int
	// FlushTimeout bounds the outbox flush and the offline status at
	// shutdown; zero means 2 s.
	FlushTimeout time.Duration
	// Bridge turns on the raw MAVLink bridge when non-nil: frames from
	// `mavlink/in` are handed to it (one frame per message), and
	// Service.PublishFrame publishes on `mavlink/out`. Bridge must not block
	// for long; it is called from a worker goroutine, not the MQTT library.
	Bridge func(frame []byte) error
	// BridgeRefused, when set, is told of every payload on `mavlink/in`
	// the bridge itself refuses: reason "unsigned" (signing on, and the
	// payload is not a valid, fresh, first-seen signed envelope; see
	// bridgesign.go) with what is wrong. It must not block; it is called
	// from the MQTT library's goroutine or the bridge's.
	BridgeRefused func(reason, detail string)
	// Version is the agent version reported in `status`.
	Version string
	// Position is the dock's position reported in `status`; nil omits it.
	Position *Position
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// Clock drives every timer and timestamp; nil means the real clock.
	Clock clockwork.Clock
	// DialTCP, if set, opens the TCP connection to a tcp:// or TLS broker
	// (TLS is added on top here); the app passes one whose reads and
	// writes use raw system calls (internal/rawio, docs/performance.md).
	// nil, or a websocket broker, or a proxy in ALL_PROXY: paho dials.
	DialTCP func(ctx context.Context, addr string) (net.Conn, error)
}

// withDefaults validates o and returns a copy with the zero values filled in.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Prefix == "" {
		errs = append(errs, errors.New("prefix: empty (want \"dock/<dock-id>/\")"))
	} else if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if strings.ContainsAny(o.Prefix, "+#") {
		errs = append(errs, fmt.Errorf("prefix %q: wildcards + and # are not allowed in a topic", o.Prefix))
	}
	if len(o.BrokerURLs) == 0 {
		errs = append(errs, errors.New("broker urls: none given"))
	}
	if o.ClientID == "" {
		errs = append(errs, errors.New("client id: empty (a persistent session needs a stable id)"))
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs = append(errs, errors.New("tls: client cert file and key file must be given together"))
	}
	if o.DBPath == "" {
		if o.StateDir == "" {
			errs = append(errs, errors.New("state dir: empty (the outbox needs a directory)"))
		}
		o.DBPath = filepath.Join(o.StateDir, dbFileName)
	}
	switch {
	case o.TelemetryRate == 0:
		o.TelemetryRate = DefaultTelemetryRate
	case o.TelemetryRate < 0 || o.TelemetryRate > MaxTelemetryRate:
		errs = append(errs, fmt.Errorf("telemetry rate: %g Hz out of range (0, %g]", o.TelemetryRate, MaxTelemetryRate))
	}
	if o.TelemetryDockedInterval <= 0 {
		o.TelemetryDockedInterval = DefaultTelemetryDockedInterval
	}
	if o.StateInterval <= 0 {
		o.StateInterval = DefaultStateInterval
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.MaxEvents < 10 {
		errs = append(errs, fmt.Errorf("max events: %d too small (at least 10)", o.MaxEvents))
	}
	if o.SigningWindow <= 0 {
		o.SigningWindow = DefaultSigningWindow
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("telemetry options: %w", err)
	}
	return o, nil
}

// timestamp is the contract's one time format (RFC 3339, UTC,
// milliseconds), under the short name telemetry's files use.
var timestamp = contract.FormatTime
