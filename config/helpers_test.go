package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseLink(t *testing.T) {
	all := []LinkKind{LinkSerial, LinkUDP, LinkUDPIn, LinkTCP}
	tests := []struct {
		in      string
		want    Link
		wantErr string
	}{
		{in: "/dev/ttyAMA0", want: Link{LinkSerial, "/dev/ttyAMA0"}},
		{in: "/dev/serial/by-id/usb-FTDI-if00-port0", want: Link{LinkSerial, "/dev/serial/by-id/usb-FTDI-if00-port0"}},
		{in: "udp://127.0.0.1:14550", want: Link{LinkUDP, "127.0.0.1:14550"}},
		{in: "udpin://:14550", want: Link{LinkUDPIn, ":14550"}},
		{in: "udpin://0.0.0.0:14550", want: Link{LinkUDPIn, "0.0.0.0:14550"}},
		{in: "tcp://sitl:5760", want: Link{LinkTCP, "sitl:5760"}},
		{in: "tcp://:5760", wantErr: `"tcp://:5760" has no host`},
		{in: "udp://127.0.0.1", wantErr: `"udp://127.0.0.1" has no port`},
		{in: "udp://127.0.0.1:70000", wantErr: `port "70000" is not 1..65535`},
		{in: "serial:///dev/ttyS0", wantErr: `has scheme serial`},
		{in: "COM3", wantErr: `"COM3" is not a link`},
		{in: "tcp://host:5760/path", wantErr: `want only tcp://host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLink(tt.in, all...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLink(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLink(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("Link.String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
	if _, err := (Forward{URL: "/dev/ttyUSB0"}).Link(); err == nil {
		t.Errorf("Forward{serial}.Link() = nil error, want a refusal (forwards are UDP)")
	}
}

func TestParseBetween(t *testing.T) {
	tests := []struct {
		in               string
		wantStart, wantE time.Duration
		wantErr          bool
	}{
		{in: "20:00-05:00", wantStart: 20 * time.Hour, wantE: 5 * time.Hour},
		{in: "16:00 - 23:30", wantStart: 16 * time.Hour, wantE: 23*time.Hour + 30*time.Minute},
		{in: "00:00-23:59", wantStart: 0, wantE: 23*time.Hour + 59*time.Minute},
		{in: "20:00", wantErr: true},
		{in: "20:00-20:00", wantErr: true},
		{in: "8pm-5am", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, e, err := ParseBetween(tt.in)
			if (err != nil) != tt.wantErr || s != tt.wantStart || e != tt.wantE {
				t.Errorf("ParseBetween(%q) = %v, %v, %v; want %v, %v, error %t", tt.in, s, e, err, tt.wantStart, tt.wantE, tt.wantErr)
			}
		})
	}
}

func TestActiveBounds(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		a        Active
		from, to time.Time
		wantErr  bool
	}{
		{"one day", Active{From: "2026-12-05", To: "2026-12-05"},
			time.Date(2026, 12, 5, 0, 0, 0, 0, sh), time.Date(2026, 12, 6, 0, 0, 0, 0, sh), false},
		{"rfc3339", Active{From: "2026-12-05T16:00:00+08:00"},
			time.Date(2026, 12, 5, 16, 0, 0, 0, sh), time.Time{}, false},
		{"open", Active{}, time.Time{}, time.Time{}, false},
		{"bad", Active{To: "5 Dec"}, time.Time{}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, err := tt.a.Bounds(sh)
			if (err != nil) != tt.wantErr || !from.Equal(tt.from) || !to.Equal(tt.to) {
				t.Errorf("Bounds() = %v, %v, %v; want %v, %v, error %t", from, to, err, tt.from, tt.to, tt.wantErr)
			}
		})
	}
}

func TestGeofenceContains(t *testing.T) {
	home := Position{Lat: 24.3504, Lon: 102.5420}
	square := Geofence{Polygon: [][2]float64{{24.34, 102.53}, {24.34, 102.55}, {24.36, 102.55}, {24.36, 102.53}}}
	tests := []struct {
		name     string
		g        Geofence
		lat, lon float64
		want     bool
	}{
		{"circle centre", Geofence{RadiusM: 1000}, home.Lat, home.Lon, true},
		{"circle 890 m north", Geofence{RadiusM: 1000}, home.Lat + 0.008, home.Lon, true},
		{"circle 1.1 km north", Geofence{RadiusM: 1000}, home.Lat + 0.01, home.Lon, false},
		{"polygon inside", square, 24.35, 102.54, true},
		{"polygon outside east", square, 24.35, 102.56, false},
		{"polygon outside south", square, 24.33, 102.54, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Contains(home, tt.lat, tt.lon); got != tt.want {
				t.Errorf("Contains(%v, %v) = %t, want %t", tt.lat, tt.lon, got, tt.want)
			}
		})
	}
}

func TestParseHostileYAML(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"billion laughs", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"vehicle: {forward: *f}\n", "h.yaml:5: vehicle.forward[0]: want a mapping (key: value lines), got a list"},
		{"many mistakes", strings.Repeat("x: 1\n", 150), "h.yaml:101: too many problems; fix these first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "h.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse() = %v, want an error mentioning %q", err, tt.want)
			}
			if n := len(problems(t, err)); n > maxProblems+40 {
				t.Errorf("Parse() gave %d problems, want at most about %d", n, maxProblems)
			}
		})
	}
}

func TestSignalsCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Signals() {
		if seen[s.Name] {
			t.Errorf("Signals() lists %s twice", s.Name)
		}
		seen[s.Name] = true
		if k, ok := SignalKindOf(s.Name); !ok || k != s.Kind {
			t.Errorf("SignalKindOf(%s) = %v, %t; want %v", s.Name, k, ok, s.Kind)
		}
	}
	for _, optional := range []string{SignalChargerStatus, SignalRain} {
		for _, s := range Signals() {
			if s.Name == optional && s.Required {
				t.Errorf("%s is required, want optional", optional)
			}
		}
	}
}
