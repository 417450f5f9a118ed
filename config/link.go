package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LinkKind is how the agent reaches the vehicle or a ground station.
type LinkKind string

// Link kinds of Vehicle.URL and Forward.URL.
const (
	// LinkSerial is a serial device (Address is its path).
	LinkSerial LinkKind = "serial"
	// LinkUDP sends to Address (host:port) and hears the replies on the
	// same socket.
	LinkUDP LinkKind = "udp"
	// LinkUDPIn listens on Address ([host]:port) and answers whoever sent
	// last.
	LinkUDPIn LinkKind = "udpin"
	// LinkTCP connects to Address (host:port).
	LinkTCP LinkKind = "tcp"
)

// Link is a parsed vehicle or forward URL.
type Link struct {
	Kind    LinkKind
	Address string
}

// String gives the link back in URL form.
func (l Link) String() string {
	if l.Kind == LinkSerial {
		return l.Address
	}
	return string(l.Kind) + "://" + l.Address
}

// Link parses URL (see Vehicle.URL for the forms).
func (v Vehicle) Link() (Link, error) {
	return ParseLink(v.URL, LinkSerial, LinkUDP, LinkUDPIn, LinkTCP)
}

// Link parses URL (udp:// or udpin://).
func (f Forward) Link() (Link, error) {
	return ParseLink(f.URL, LinkUDP, LinkUDPIn)
}

// ParseLink parses s as one of the allowed link kinds: an absolute device
// path for LinkSerial, else kind://host:port (the host may be empty for
// udpin only).
func ParseLink(s string, allowed ...LinkKind) (Link, error) {
	forms := make([]string, len(allowed))
	for i, k := range allowed {
		switch k {
		case LinkSerial:
			forms[i] = "a serial device path (/dev/...)"
		case LinkUDPIn:
			forms[i] = "udpin://:port"
		default:
			forms[i] = string(k) + "://host:port"
		}
	}
	want := strings.Join(forms, ", ")
	if isSerialPath(s) {
		if !slices.Contains(allowed, LinkSerial) {
			return Link{}, fmt.Errorf("%q is a device path; use %s", s, want)
		}
		return Link{Kind: LinkSerial, Address: filepath.Clean(s)}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return Link{}, fmt.Errorf("%q is not a link (use %s)", s, want)
	}
	kind := LinkKind(u.Scheme)
	if kind == LinkSerial || !slices.Contains(allowed, kind) {
		return Link{}, fmt.Errorf("%q has scheme %s (use %s)", s, u.Scheme, want)
	}
	if u.Path != "" || u.RawQuery != "" || u.User != nil {
		return Link{}, fmt.Errorf("%q: want only %s://host:port", s, kind)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return Link{}, fmt.Errorf("%q has no port (use %s)", s, want)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return Link{}, fmt.Errorf("%q: port %q is not 1..65535", s, port)
	}
	if host == "" && kind != LinkUDPIn {
		return Link{}, fmt.Errorf("%q has no host (use %s)", s, want)
	}
	return Link{Kind: kind, Address: u.Host}, nil
}

func isSerialPath(s string) bool { return strings.HasPrefix(s, "/") }

// BaudRates returns the standard serial rates Load accepts.
func BaudRates() []int {
	return []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
		460800, 500000, 921600, 1000000, 1500000, 2000000}
}
