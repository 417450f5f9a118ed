package config

import (
	"fmt"
	"net/url"
	"strconv"
)

// BrokerURL is a parsed MQTT broker URL (MQTT.Brokers, dockctl -broker).
type BrokerURL struct {
	URL *url.URL
	// TLS is set when the scheme asks for TLS (ssl, tls, mqtts, tcps, wss).
	TLS bool
	// WebSocket is set for ws and wss: MQTT inside a websocket.
	WebSocket bool
}

// brokerScheme is the one table of broker URL schemes: the agent's config,
// its MQTT client and dockctl all read it through ParseBrokerURL, so they
// accept the same URLs. paho dials every one of them.
func brokerScheme(scheme string) (tls, webSocket, ok bool) {
	switch scheme {
	case "tcp", "mqtt":
		return false, false, true
	case "ssl", "tls", "mqtts", "tcps":
		return true, false, true
	case "ws":
		return false, true, true
	case "wss":
		return true, true, true
	}
	return false, false, false
}

// brokerSchemeList names the accepted schemes in errors.
const brokerSchemeList = "tcp, mqtt, ssl, tls, mqtts, tcps, ws or wss"

// ParseBrokerURL parses and checks one broker URL: a known scheme, a host,
// and a port (which ws and wss may leave to the scheme's default).
func ParseBrokerURL(s string) (BrokerURL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return BrokerURL{}, fmt.Errorf("%q is not a broker URL (like tcp://broker:1883 or ssl://broker:8883)", s)
	}
	secure, ws, ok := brokerScheme(u.Scheme)
	if !ok {
		return BrokerURL{}, fmt.Errorf("%q has scheme %s (use %s)", s, u.Scheme, brokerSchemeList)
	}
	if u.Port() == "" && !ws {
		return BrokerURL{}, fmt.Errorf("%q has no port (1883 is usual for tcp, 8883 for ssl/tls)", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return BrokerURL{}, fmt.Errorf("%q: port %q is not 1..65535", s, p)
		}
	}
	return BrokerURL{URL: u, TLS: secure, WebSocket: ws}, nil
}
