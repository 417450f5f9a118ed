package app

import (
	"testing"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/mavlink/transport"
)

// TestLinkKindsMatchTransport: the app hands config's parsed vehicle.url
// to transport.New by converting the kind; every kind config.ParseLink
// returns must be one transport opens.
func TestLinkKindsMatchTransport(t *testing.T) {
	for _, s := range []string{"/dev/ttyUSB0", "udp://127.0.0.1:14550", "udpin://:14550", "tcp://sitl:5760"} {
		lk, err := config.ParseLink(s, config.LinkSerial, config.LinkUDP, config.LinkUDPIn, config.LinkTCP)
		if err != nil {
			t.Fatalf("config.ParseLink(%q) = %v", s, err)
		}
		if _, err := transport.New(transport.Kind(lk.Kind), lk.Address, transport.Options{}); err != nil {
			t.Errorf("transport.New(%q, %q) for %q = %v, want a link", lk.Kind, lk.Address, s, err)
		}
	}
}
