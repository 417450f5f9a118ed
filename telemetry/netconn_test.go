package telemetry

import (
	"context"
	"errors"
	"net"
	"net/url"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func TestUseFastDial(t *testing.T) {
	t.Setenv("ALL_PROXY", "")
	t.Setenv("all_proxy", "")
	for _, tt := range []struct {
		urls []string
		want bool
	}{
		{[]string{"tcp://a:1883", "ssl://b:8883"}, true},
		{[]string{"mqtts://a:8883", "tls://b:8883", "mqtt://c:1883", "tcps://d:8883"}, true},
		{[]string{"tcp://a:1883", "ws://b:80/mqtt"}, false},
		{[]string{"wss://b:443/mqtt"}, false},
	} {
		if got := useFastDial(tt.urls); got != tt.want {
			t.Errorf("useFastDial(%v) = %v, want %v", tt.urls, got, tt.want)
		}
	}
	t.Setenv("ALL_PROXY", "socks5://proxy:1080")
	if useFastDial([]string{"tcp://a:1883"}) {
		t.Error("useFastDial with ALL_PROXY set = true, want paho's dialling (it honours the proxy)")
	}
}

// TestOpenBrokerUsesTheInjectedDialer: the broker connection is the one the
// app's dialer made (the agent passes internal/rawio's), for host:port of
// the URL; a dial error and a websocket URL are refused, not dialled by
// other means.
func TestOpenBrokerUsesTheInjectedDialer(t *testing.T) {
	mine, peer := net.Pipe()
	defer peer.Close()
	var dialled []string
	dial := func(_ context.Context, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		if addr == "down:1883" {
			return nil, errors.New("connection refused")
		}
		return mine, nil
	}
	open := openBroker(dial)
	u, _ := url.Parse("mqtt://broker:1883")
	c, err := open(u, *mqtt.NewClientOptions())
	if err != nil || c != mine {
		t.Fatalf("open(%s) = %v, %v, want the dialler's connection", u, c, err)
	}
	u, _ = url.Parse("tcp://down:1883")
	if _, err := open(u, *mqtt.NewClientOptions()); err == nil || err.Error() != "connection refused" {
		t.Errorf("open(%s) = %v, want the dial error", u, err)
	}
	u, _ = url.Parse("ws://broker/mqtt")
	if _, err := open(u, *mqtt.NewClientOptions()); err == nil {
		t.Errorf("open(%s) = nil error, want a refusal (websockets are paho's)", u)
	}
	if want := []string{"broker:1883", "down:1883"}; len(dialled) != 2 || dialled[0] != want[0] || dialled[1] != want[1] {
		t.Errorf("dialled %q, want %q", dialled, want)
	}
}
