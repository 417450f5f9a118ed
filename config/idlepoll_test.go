package config

import (
	"strings"
	"testing"
	"time"
)

// TestIdlePollInterval: buses.<name>.idle_poll_interval defaults to 0 (poll
// every poll_interval), lies between poll_interval and 1s, and with the
// e-stop on a module of the bus leaves a press read within EStopDetect.
func TestIdlePollInterval(t *testing.T) {
	c, err := Parse([]byte(baseYAML), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Buses["io"].IdlePollInterval; got != 0 {
		t.Errorf("default idle_poll_interval = %v, want 0 (off)", got)
	}

	// The e-stop on a board line: the bus may rest up to 1 s.
	c, err = Parse([]byte(mutate(t, "  io: {device: /dev/ttyUSB0}\n", "  io: {device: /dev/ttyUSB0, idle_poll_interval: 1s}\n")), "t.yaml")
	if err != nil {
		t.Fatalf("Parse(idle_poll_interval 1s, e-stop on GPIO) = %v, want nil", err)
	}
	if got := c.Buses["io"].IdlePollInterval; got != time.Second {
		t.Errorf("idle_poll_interval = %v, want 1s", got)
	}

	estopOnIO := []string{"  estop: {gpio: GPIO24}\n", "  estop: {modbus: {bus: io, unit: 1, input: 1}}\n"}
	tests := []struct {
		name string
		bus  string
		rest []string // further replacements
		want string   // "" for valid
	}{
		{"below poll_interval", "  io: {device: /dev/ttyUSB0, idle_poll_interval: 20ms}\n", nil,
			"t.yaml:9: buses.io.idle_poll_interval: 20ms is out of range (poll_interval 50ms..1s; 0 polls every poll_interval always)"},
		{"above 1s", "  io: {device: /dev/ttyUSB0, idle_poll_interval: 2s}\n", nil,
			"t.yaml:9: buses.io.idle_poll_interval: 2s is out of range (poll_interval 50ms..1s; 0 polls every poll_interval always)"},
		{"e-stop on the bus at 9600 bit/s", "  io: {device: /dev/ttyUSB0, poll_interval: 20ms, idle_poll_interval: 40ms}\n", estopOnIO,
			"t.yaml:9: buses.io.idle_poll_interval: 40ms is too long: the e-stop is input 1 of unit 1 on this bus, and a press must be read within 50ms (one poll plus 21.9ms for the request and reply at 9600 bit/s): use at most 28ms"},
		{"e-stop on the bus at 115200 bit/s", "  io: {device: /dev/ttyUSB0, baud: 115200, poll_interval: 20ms, idle_poll_interval: 45ms}\n", estopOnIO, ""},
		{"e-stop on the bus at 115200 bit/s, too slow", "  io: {device: /dev/ttyUSB0, baud: 115200, poll_interval: 20ms, idle_poll_interval: 46ms}\n", estopOnIO,
			"use at most 45ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := mutate(t, append([]string{"  io: {device: /dev/ttyUSB0}\n", tc.bus}, tc.rest...)...)
			_, err := Parse([]byte(doc), "t.yaml")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Parse = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse = nil, want %q", tc.want)
			}
			probs := problems(t, err)
			if len(probs) != 1 || !strings.Contains(probs[0], tc.want) {
				t.Fatalf("problems %q, want one with %q", probs, tc.want)
			}
		})
	}
}

// TestInputReadTime: the wire time of one input read, by the bus's settings.
func TestInputReadTime(t *testing.T) {
	for _, tc := range []struct {
		b      Bus
		inputs int
		want   time.Duration
	}{
		{Bus{Baud: 9600, Parity: "N", StopBits: 1}, 8, 21875 * time.Microsecond},    // 14 chars of 10 bits + 2 x 3.5 chars
		{Bus{Baud: 9600, Parity: "E", StopBits: 1}, 8, 24062500 * time.Nanosecond},  // 11-bit characters
		{Bus{Baud: 115200, Parity: "N", StopBits: 1}, 8, 4715277 * time.Nanosecond}, // 1.75 ms silences
		{Bus{Baud: 115200, Parity: "N", StopBits: 1}, 16, 4802083 * time.Nanosecond},
	} {
		if got := tc.b.InputReadTime(tc.inputs); got != tc.want {
			t.Errorf("%+v.InputReadTime(%d) = %v, want %v", tc.b, tc.inputs, got, tc.want)
		}
	}
}
