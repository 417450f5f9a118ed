package config

import (
	"strings"
	"testing"
)

func TestBrokerTLS(t *testing.T) {
	tests := []struct {
		url    string
		secure bool
		err    string
	}{
		{"tcp://broker:1883", false, ""},
		{"ssl://broker:8883", true, ""},
		{"tls://broker:8883", true, ""},
		{"ws://broker/mqtt", false, ""},
		{"wss://broker/mqtt", true, ""},
		{"tcp://broker", false, "has no port"},
		{"http://broker:1883", false, "has scheme http"},
		{"broker:1883", false, "not a broker URL"},
	}
	for _, tt := range tests {
		secure, err := BrokerTLS(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("BrokerTLS(%s) = %v, want an error with %q", tt.url, err, tt.err)
			}
			continue
		}
		if err != nil || secure != tt.secure {
			t.Errorf("BrokerTLS(%s) = %v, %v; want %v", tt.url, secure, err, tt.secure)
		}
	}
}
