package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mutate applies old, new replacement pairs to baseYAML; each old must occur.
func mutate(t *testing.T, repl ...string) string {
	t.Helper()
	doc := baseYAML
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(doc, repl[i]) {
			t.Fatalf("base config has no %q", repl[i])
		}
		doc = strings.Replace(doc, repl[i], repl[i+1], 1)
	}
	return doc
}

// problems returns the formatted problems of err, an *Errors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var e *Errors
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Errors", err, err)
	}
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

func TestParseBaseDefaults(t *testing.T) {
	c, err := Parse([]byte(baseYAML), "t.yaml")
	if err != nil {
		t.Fatalf("Parse(base) = %v, want nil", err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"client id", c.MQTT.ClientID, "dock-agent-t1"},
		{"topic prefix", c.MQTT.TopicPrefix, "dock/t1/"},
		{"keepalive", c.MQTT.Keepalive, 30 * time.Second},
		{"bus baud", c.Buses["io"].Baud, DefaultBusBaud},
		{"bus retries", c.Buses["io"].Retries, 2},
		{"bus parity", c.Buses["io"].Parity, "N"},
		{"weather baud", c.Weather.Baud, DefaultBusBaud},
		{"register scale", c.Weather.Registers.Rain.Scale, 1.0},
		{"register type", c.Weather.Registers.WindMPS.Type, "u16"},
		{"input debounce", c.Signals[SignalEStop].Debounce, DefaultDebounce},
		{"output debounce", c.Signals[SignalHeater].Debounce, time.Duration(0)},
		{"geofence", c.Limits.Geofence.RadiusM, DefaultGeofenceM},
		{"limit leave timeout", c.Actuators.LimitLeaveTimeout, 2 * time.Second},
		{"schedule grace", c.Schedules[0].Grace, 5 * time.Minute},
		{"stream rate default", c.Vehicle.StreamRates["ATTITUDE"], 5.0},
		{"block on rain", c.Limits.BlockOnRain, true},
		{"temp min", c.Limits.TempMinC, -10.0},
		{"system id", c.Vehicle.SystemID, 245},
		{"component id", c.Vehicle.ComponentID, 191},
		{"state dir", c.StateDir, DefaultStateDir},
		{"log", c.Log, Log{Level: "info", Format: "auto"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("Parse(base) %s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestParseKeepsExplicitZero(t *testing.T) {
	doc := baseYAML + "limits: {temp_min_c: 0, block_on_rain: false}\nbuses2: x\n"
	doc = strings.Replace(doc, "buses2: x\n", "", 1)
	doc = strings.Replace(doc, "  io: {device: /dev/ttyUSB0}", "  io: {device: /dev/ttyUSB0, retries: 0}", 1)
	c, err := Parse([]byte(doc), "t.yaml")
	if err != nil {
		t.Fatalf("Parse = %v, want nil", err)
	}
	if c.Limits.TempMinC != 0 || c.Limits.BlockOnRain || c.Buses["io"].Retries != 0 {
		t.Errorf("Parse kept temp_min_c=%v block_on_rain=%v retries=%d, want the explicit 0, false, 0",
			c.Limits.TempMinC, c.Limits.BlockOnRain, c.Buses["io"].Retries)
	}
}

// TestParsePage: the dock page is off unless http.page is true, and on
// with a metrics address it parses and survives Marshal.
func TestParsePage(t *testing.T) {
	c, err := Parse([]byte(baseYAML), "t.yaml")
	if err != nil {
		t.Fatalf("Parse(base) = %v, want nil", err)
	}
	if c.HTTP.Page {
		t.Errorf("Parse(base).HTTP.Page = true, want false (off by default)")
	}
	c, err = Parse([]byte(baseYAML+"metrics: {listen: 127.0.0.1:9108}\nhttp: {page: true}\n"), "t.yaml")
	if err != nil {
		t.Fatalf("Parse(page on) = %v, want nil", err)
	}
	if !c.HTTP.Page {
		t.Errorf("Parse(page on).HTTP.Page = false, want true")
	}
	b, err := Marshal(c)
	if err != nil {
		t.Fatalf("Marshal = %v", err)
	}
	back, err := Parse(b, "m.yaml")
	if err != nil || !back.HTTP.Page {
		t.Errorf("Parse(Marshal(page on)) = page %v, err %v; want true, nil", back != nil && back.HTTP.Page, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown top-level key",
			doc:  baseYAML + "colour: blue\n",
			want: []string{`t.yaml:41: colour: unknown key (known keys: id, position, state_dir, mqtt, vehicle, buses, signals, actuators, weather, climate, limits, flight, routes, schedules, metrics, http, log)`},
		},
		{
			name: "unknown key at depth 2 with suggestion",
			doc:  mutate(t, "  baud: 57600", "  bod: 57600"),
			want: []string{`t.yaml:7: vehicle.bod: unknown key (did you mean "baud"?)`},
		},
		{
			name: "unknown key at depth 3 in a flow mapping",
			doc:  mutate(t, "{gpio: GPIO5}", "{gpio: GPIO5, active_lo: true}"),
			want: []string{`t.yaml:11: signals.lid_open_motor.active_lo: unknown key (did you mean "active_low"?)`},
		},
		{
			name: "unknown key at depth 4",
			doc:  mutate(t, "{register: 0, scale: 0.1}", "{register: 0, sclae: 0.1}"),
			want: []string{`t.yaml:28: weather.registers.wind_mps.sclae: unknown key (did you mean "scale"?)`},
		},
		{
			name: "unknown key in a list element",
			doc:  mutate(t, "    route: loop", "    rout: loop"),
			want: []string{
				`t.yaml:36: schedules[0].route: required`,
				`t.yaml:37: schedules[0].rout: unknown key (did you mean "route"?)`,
			},
		},
		{
			name: "unknown signal",
			doc:  mutate(t, "  mains: {", "  mainz: {"),
			want: []string{
				`t.yaml:10: signals.mains: required input is not bound`,
				`t.yaml:24: signals.mainz: unknown signal (did you mean "mains"?)`,
			},
		},
		{
			name: "page without a listen address",
			doc:  baseYAML + "http:\n  page: true\n",
			want: []string{`t.yaml:42: http.page: true needs metrics.listen (the page is served on the metrics address, e.g. 127.0.0.1:9108)`},
		},
		{
			name: "page is a bool",
			doc:  baseYAML + "metrics: {listen: 127.0.0.1:9108}\nhttp:\n  page: yes please\n",
			want: []string{`t.yaml:43: http.page: "yes please" is not a boolean (use true or false)`},
		},
		{
			name: "bad duration",
			doc:  mutate(t, "every: 2h", "every: 2 hours"),
			want: []string{`t.yaml:38: schedules[0].every: "2 hours" is not a duration (use Go form like 5m or 90s)`},
		},
		{
			name: "bare number as duration",
			doc:  mutate(t, "hold: 10s", "hold: 10"),
			want: []string{`t.yaml:34: routes.loop.waypoints[1].hold: "10" is not a duration (use Go form like 5m or 90s)`},
		},
		{
			name: "latitude out of range",
			doc:  mutate(t, "lat: 24.35,", "lat: 91,"),
			want: []string{`t.yaml:2: position.lat: 91 is out of range (-90..90)`},
		},
		{
			name: "longitude out of range",
			doc:  mutate(t, "lon: 102.54,", "lon: -181,"),
			want: []string{`t.yaml:2: position.lon: -181 is out of range (-180..180)`},
		},
		{
			name: "not a number",
			doc:  mutate(t, "alt_m: 1600", "alt_m: high"),
			want: []string{`t.yaml:2: position.alt_m: "high" is not a number`},
		},
		{
			name: "missing position",
			doc:  mutate(t, "position: {lat: 24.35, lon: 102.54, alt_m: 1600}", "# position unknown"),
			want: []string{`t.yaml: position: required (the surveyed dock position: lat, lon, alt_m)`},
		},
		{
			name: "bad baud",
			doc:  mutate(t, "baud: 57600", "baud: 57601"),
			want: []string{`t.yaml:7: vehicle.baud: 57601 is not a standard baud rate (use 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, ...)`},
		},
		{
			name: "baud on a network link",
			doc:  mutate(t, "url: /dev/ttyAMA0", "url: udp://127.0.0.1:14550"),
			want: []string{`t.yaml:7: vehicle.baud: only serial links have a baud rate (this one is udp)`},
		},
		{
			name: "bad vehicle url",
			doc:  mutate(t, "url: /dev/ttyAMA0", "url: com3"),
			want: []string{`t.yaml:6: vehicle.url: "com3" is not a link (use a serial device path (/dev/...), udp://host:port, udpin://:port, tcp://host:port)`},
		},
		{
			name: "missing required signal",
			doc:  mutate(t, "  estop: {gpio: GPIO24}", "  # estop not wired yet"),
			want: []string{`t.yaml:10: signals.estop: required input is not bound`},
		},
		{
			name: "two signals on one coil",
			doc:  mutate(t, "unit: 1, coil: 2}", "unit: 1, coil: 1}"),
			want: []string{`t.yaml:22: signals.fan.modbus.coil: coil 1 of unit 1 on bus io is already used by signals.heater`},
		},
		{
			name: "two signals on one gpio line",
			doc:  mutate(t, "{gpio: GPIO6}", "{gpio: gpio5}"),
			want: []string{`t.yaml:12: signals.lid_close_motor.gpio: gpio5 is already used by signals.lid_open_motor`},
		},
		{
			name: "output bound to a discrete input",
			doc:  mutate(t, "unit: 1, coil: 3}", "unit: 1, input: 3}"),
			want: []string{`t.yaml:23: signals.strobe.modbus.input: strobe is an output: bind it to a coil (coil: N), not a discrete input`},
		},
		{
			name: "input bound to a coil",
			doc:  mutate(t, "unit: 1, input: 0}", "unit: 1, coil: 4}"),
			want: []string{`t.yaml:24: signals.mains.modbus.coil: mains is an input: bind it to a discrete input (input: N), not a coil`},
		},
		{
			name: "signal on a bus that does not exist",
			doc:  mutate(t, "{bus: io, unit: 1, coil: 3}", "{bus: relay, unit: 1, coil: 3}"),
			want: []string{`t.yaml:23: signals.strobe.modbus.bus: no bus "relay" (have io)`},
		},
		{
			name: "limit leave timeout too short",
			doc:  baseYAML + "actuators:\n  limit_leave_timeout: 50ms\n",
			want: []string{`t.yaml:42: actuators.limit_leave_timeout: 50ms is out of range (100ms..1m0s)`},
		},
		{
			name: "output debounced",
			doc:  mutate(t, "{gpio: GPIO5}", "{gpio: GPIO5, debounce: 20ms}"),
			want: []string{`t.yaml:11: signals.lid_open_motor.debounce: only inputs are debounced (lid_open_motor is an output)`},
		},
		{
			name: "bad broker scheme",
			doc:  mutate(t, "tcp://127.0.0.1:1883", "http://127.0.0.1:1883"),
			want: []string{`t.yaml:4: mqtt.brokers[0]: "http://127.0.0.1:1883" has scheme http (use tcp, mqtt, ssl, tls, mqtts, tcps, ws or wss)`},
		},
		{
			name: "broker without port",
			doc:  mutate(t, "tcp://127.0.0.1:1883", "ssl://broker.example"),
			want: []string{`t.yaml:4: mqtt.brokers[0]: "ssl://broker.example" has no port (1883 is usual for tcp, 8883 for ssl/tls)`},
		},
		{
			name: "both password and password_file",
			doc: mutate(t, "  brokers: [tcp://127.0.0.1:1883]\n",
				"  brokers: [tcp://127.0.0.1:1883]\n  username: u\n  password: p\n  password_file: pw\n"),
			want: []string{`t.yaml:6: mqtt.password: set both password and password_file; keep one (password_file keeps it out of this file)`},
		},
		{
			name: "unknown route in schedule",
			doc:  mutate(t, "route: loop", "route: loops"),
			want: []string{`t.yaml:37: schedules[0].route: no route "loops" (have loop)`},
		},
		{
			name: "bad time zone",
			doc:  mutate(t, "time_zone: Asia/Shanghai", "time_zone: Mars/Olympus"),
			want: []string{`t.yaml:40: schedules[0].time_zone: "Mars/Olympus" is not an IANA time zone (like Asia/Shanghai, Europe/Berlin or UTC)`},
		},
		{
			name: "cron and every together",
			doc:  mutate(t, "    every: 2h\n    between: \"20:00-05:00\"\n", "    every: 2h\n    cron: \"0 12 * *\"\n"),
			want: []string{
				`t.yaml:36: schedules[0]: set exactly one of cron, every or at`,
				`t.yaml:39: schedules[0].cron: "0 12 * *" has 4 fields, want 5 (minute hour day-of-month month day-of-week)`,
			},
		},
		{
			name: "bad between window",
			doc:  mutate(t, `"20:00-05:00"`, `"20:00-25:00"`),
			want: []string{`t.yaml:39: schedules[0].between: "20:00-25:00" is not a window like 20:00-05:00: "25:00" is not a time of day HH:MM`},
		},
		{
			name: "waypoint outside the geofence",
			doc:  mutate(t, "{lat: 24.352, lon: 102.543, hold: 10s}", "{lat: 24.452, lon: 102.543, hold: 10s}"),
			want: []string{`t.yaml:34: routes.loop.waypoints[1]: 24.452, 102.543 lies outside the geofence (5000 m around the dock; this point is 11346 m away)`},
		},
		{
			name: "unreadable position skips the geofence checks",
			doc:  mutate(t, "lat: 24.35,", "lat: north,"),
			// Not also each waypoint "outside the geofence" of a dock at 0, 0.
			want: []string{`t.yaml:2: position.lat: "north" is not a number`},
		},
		{
			name: "unreadable position skips the polygon check",
			doc: mutate(t, "lat: 24.35,", "lat: north,",
				"schedules:", "limits:\n  geofence: {polygon: [[24.34, 102.53], [24.34, 102.55], [24.36, 102.55]]}\nschedules:"),
			want: []string{`t.yaml:2: position.lat: "north" is not a number`},
		},
		{
			name: "unreadable waypoint skips its geofence check",
			doc:  mutate(t, "{lat: 24.352, lon: 102.543, hold: 10s}", "{lat: 24.352, lon: east, hold: 10s}"),
			want: []string{`t.yaml:34: routes.loop.waypoints[1].lon: "east" is not a number`},
		},
		{
			name: "no rain source reported without a line",
			doc:  mutate(t, "    rain: {register: 5}", "    gust_mps: {register: 5}"),
			want: []string{`t.yaml: limits.block_on_rain: no rain source: bind signals.rain or set weather.registers.rain (or set block_on_rain: false)`},
		},
		{
			name: "boolean spelled yes",
			doc:  mutate(t, "{gpio: GPIO24}", "{gpio: GPIO24, active_low: yes}"),
			want: []string{`t.yaml:19: signals.estop.active_low: "yes" is not a boolean (use true or false)`},
		},
		{
			name: "scalar where a mapping belongs",
			doc:  mutate(t, "  io: {device: /dev/ttyUSB0}", "  io: /dev/ttyUSB0"),
			// The follow-up "device required" is left out: the value was unreadable.
			want: []string{`t.yaml:9: buses.io: want a mapping (key: value lines), got "/dev/ttyUSB0"`},
		},
		{
			name: "duplicate key",
			doc:  baseYAML + "log: {level: info}\nlog: {format: json}\n",
			want: []string{`t.yaml:42: log: duplicate key (first at line 41)`},
		},
		{
			name: "bad log level",
			doc:  baseYAML + "log: {level: verbose}\n",
			want: []string{`t.yaml:41: log.level: "verbose" is not a level (use debug, info, warn or error)`},
		},
		{
			name: "yaml syntax error",
			doc:  mutate(t, "url: /dev/ttyAMA0", "url: a: b"),
			want: []string{`t.yaml:6: mapping values are not allowed in this context`},
		},
		{
			name: "empty file",
			doc:  "",
			want: []string{`t.yaml: the file is empty`},
		},
		{
			name: "two documents",
			doc:  baseYAML + "---\nid: t2\n",
			want: []string{`t.yaml:41: a second document (---) is not allowed; one file describes one dock`},
		},
		{
			name: "three mistakes reported together",
			doc: mutate(t,
				"  baud: 57600", "  baudrate: 57600",
				"every: 2h", "every: 2 hours",
				"lat: 24.35,", "lat: -95,"),
			want: []string{
				`t.yaml:2: position.lat: -95 is out of range (-90..90)`,
				`t.yaml:7: vehicle.baudrate: unknown key (did you mean "baud"?)`,
				`t.yaml:38: schedules[0].every: "2 hours" is not a duration (use Go form like 5m or 90s)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "t.yaml")
			if err == nil {
				t.Fatalf("Parse() = %+v, nil; want problems %q", c, tt.want)
			}
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("Parse() problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckCron: with LoadOptions.CheckCron the scheduler's parser judges
// each cron expression, and its verdict is a problem with line and path;
// without it the light shape check lets a bad day name through.
func TestCheckCron(t *testing.T) {
	doc := mutate(t, "    every: 2h\n    between: \"20:00-05:00\"\n", "    cron: \"0 12 * * MON-FRI,SUNDAY\"\n")
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWithOptions(path, LoadOptions{AllowMissingSecrets: true}); err != nil {
		t.Fatalf("LoadWithOptions() without CheckCron = %v, want nil (the light check passes day names)", err)
	}
	var got []string
	strict := func(expr string) error {
		got = append(got, expr)
		if strings.Contains(expr, "SUNDAY") {
			return errors.New("failed to parse int from SUNDAY")
		}
		return nil
	}
	_, err := LoadWithOptions(path, LoadOptions{AllowMissingSecrets: true, CheckCron: strict})
	if err == nil {
		t.Fatal("LoadWithOptions() with CheckCron = nil, want the cron problem")
	}
	want := []string{path + `:38: schedules[0].cron: failed to parse int from SUNDAY`}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"0 12 * * MON-FRI,SUNDAY"}, got); diff != "" {
		t.Errorf("CheckCron calls (-want +got):\n%s", diff)
	}
}
