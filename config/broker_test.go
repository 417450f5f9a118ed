package config

import (
	"strings"
	"testing"
)

// TestParseBrokerURL covers the one table of broker URL schemes, which
// config, telemetry and dockctl share (issue 19: config refused mqtts://
// while the other two accepted it).
func TestParseBrokerURL(t *testing.T) {
	tests := []struct {
		in             string
		tls, webSocket bool
		wantErr        string
	}{
		{in: "tcp://broker:1883"},
		{in: "mqtt://broker:1883"},
		{in: "ssl://broker:8883", tls: true},
		{in: "tls://broker:8883", tls: true},
		{in: "mqtts://broker:8883", tls: true},
		{in: "tcps://broker:8883", tls: true},
		{in: "ws://broker/mqtt", webSocket: true},
		{in: "wss://broker:443/mqtt", tls: true, webSocket: true},
		{in: "http://broker:1883", wantErr: `"http://broker:1883" has scheme http (use tcp, mqtt, ssl, tls, mqtts, tcps, ws or wss)`},
		{in: "mqtts://broker", wantErr: `"mqtts://broker" has no port`},
		{in: "tcp://broker:0", wantErr: `port "0" is not 1..65535`},
		{in: "broker:1883", wantErr: `is not a broker URL`},
		{in: "", wantErr: `"" is not a broker URL`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBrokerURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseBrokerURL(%q) = %+v, %v, want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.TLS != tt.tls || got.WebSocket != tt.webSocket || got.URL.String() != tt.in {
				t.Errorf("ParseBrokerURL(%q) = %+v, %v, want TLS %v WebSocket %v", tt.in, got, err, tt.tls, tt.webSocket)
			}
		})
	}
}

func FuzzParseBrokerURL(f *testing.F) {
	for _, s := range []string{"tcp://broker:1883", "mqtts://b:8883", "wss://b/mqtt", "http://x:1", "tcp://[::1]:1883", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseBrokerURL(s)
		if err != nil {
			return
		}
		// What the table accepts, it accepts again from its own output,
		// with the same meaning: the agent and dockctl agree.
		again, err := ParseBrokerURL(u.URL.String())
		if err != nil || again.TLS != u.TLS || again.WebSocket != u.WebSocket {
			t.Errorf("ParseBrokerURL(%q) = %+v; reparsing %q = %+v, %v", s, u, u.URL, again, err)
		}
	})
}

// TestParseAcceptsEveryBrokerScheme: the config takes what the MQTT client
// dials (it used to refuse mqtts://, which telemetry and dockctl accepted).
func TestParseAcceptsEveryBrokerScheme(t *testing.T) {
	for _, b := range []string{"mqtt://127.0.0.1:1883", "mqtts://broker.example:8883", "tcps://broker.example:8883", "wss://broker.example/mqtt"} {
		doc := mutate(t, "tcp://127.0.0.1:1883", b)
		if _, err := Parse([]byte(doc), "t.yaml"); err != nil {
			t.Errorf("Parse with broker %s = %v, want nil", b, err)
		}
	}
}
