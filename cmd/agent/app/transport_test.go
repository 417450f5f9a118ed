package app

import (
	"path/filepath"
	"strings"
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
		if _, err := transport.New(transport.Kind(lk.Kind), lk.Address, transport.Options{OpenSerial: openVehicleSerial}); err != nil {
			t.Errorf("transport.New(%q, %q) for %q = %v, want a link", lk.Kind, lk.Address, s, err)
		}
	}
}

// TestOpenSerialSaysWhatToCheck: the one serial open path of the agent
// (vehicle radio and RS-485 lines) names the cure in its errors.
func TestOpenSerialSaysWhatToCheck(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ttyUSB9")
	if _, err := openVehicleSerial(missing, 57600); err == nil || !strings.HasSuffix(err.Error(), "(is the radio plugged in?)") {
		t.Errorf("openVehicleSerial(missing) = %v, want an error ending (is the radio plugged in?)", err)
	}
	if _, err := openSerial(missing, serialMode(9600, "E", 1), "RS-485 adapter"); err == nil || !strings.HasSuffix(err.Error(), "(is the RS-485 adapter plugged in?)") {
		t.Errorf("openSerial(missing) = %v, want an error ending (is the RS-485 adapter plugged in?)", err)
	}
}
