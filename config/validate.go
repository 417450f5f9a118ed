package config

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// validator collects the problems of a decoded config; lines (from the
// decoder) give each key path its line in the file.
type validator struct {
	file  string
	lines map[string]int
	probs []Problem
	// failed are the decoder's problems: values that could not be read
	// and stand at their defaults, which checks depending on them skip.
	failed []Problem
	// checkCron checks a schedule's cron expression.
	checkCron func(string) error
}

// readable reports whether no value at or below path failed to decode, so
// that a check built on it (the geofence on the dock position) sees the
// file's values rather than defaults and reports no cascade of errors.
func (v *validator) readable(path string) bool {
	for _, q := range v.failed {
		if q.Path == path || strings.HasPrefix(q.Path, path+".") || strings.HasPrefix(q.Path, path+"[") {
			return false
		}
	}
	return true
}

// line returns the line of path, or of its nearest ancestor present in
// the file, or 0.
func (v *validator) line(path string) int {
	for p := path; p != ""; {
		if l, ok := v.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (v *validator) has(path string) bool {
	_, ok := v.lines[path]
	return ok
}

func (v *validator) errf(path, format string, args ...any) {
	v.probs = append(v.probs, Problem{File: v.file, Line: v.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (v *validator) rangeF(path string, f, lo, hi float64) {
	if f < lo || f > hi {
		v.errf(path, "%s is out of range (%s..%s)", num(f), num(lo), num(hi))
	}
}

func (v *validator) rangeI(path string, i, lo, hi int) {
	if i < lo || i > hi {
		v.errf(path, "%d is out of range (%d..%d)", i, lo, hi)
	}
}

func (v *validator) rangeD(path string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.errf(path, "%s is out of range (%s..%s)", d, lo, hi)
	}
}

func (v *validator) baud(path string, b int) {
	if !slices.Contains(BaudRates(), b) {
		v.errf(path, "%d is not a standard baud rate (use 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, ...)", b)
	}
}

func (v *validator) device(path, dev string) {
	switch {
	case dev == "":
		v.errf(path, "required (a device path like /dev/ttyUSB0)")
	case !strings.HasPrefix(dev, "/"):
		v.errf(path, "%q is not an absolute device path (like /dev/ttyUSB0)", dev)
	}
}

var (
	// Read-only patterns, compiled once.
	nameRE   = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	msgRE    = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	gpioRE   = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	nameHint = "use lower-case letters, digits, - and _"
)

// sortedKeys returns the keys of m in file order (then by name).
func sortedKeys[V any](v *validator, prefix string, m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(v.line(prefix+a), v.line(prefix+b)), cmp.Compare(a, b))
	})
	return keys
}

func validate(c *Config, v *validator) {
	switch {
	case c.ID == "":
		v.errf("id", "required (the dock id used in MQTT topics)")
	case !nameRE.MatchString(c.ID):
		v.errf("id", "%q: %s (it is part of MQTT topics)", c.ID, nameHint)
	}
	if !v.has("position") {
		v.errf("position", "required (the surveyed dock position: lat, lon, alt_m)")
	} else {
		v.rangeF("position.lat", c.Position.Lat, -90, 90)
		v.rangeF("position.lon", c.Position.Lon, -180, 180)
		v.rangeF("position.alt_m", c.Position.AltM, -500, 9000)
		if c.Position.PadRadiusM != 0 {
			v.rangeF("position.pad_radius_m", c.Position.PadRadiusM, 0.5, 50)
		}
	}
	if c.StateDir == "" {
		v.errf("state_dir", "required (a directory for the outbox and sortie store)")
	}
	validateMQTT(c, v)
	validateVehicle(c, v)
	validateBuses(c, v)
	validateSignals(c, v)
	validateIdlePoll(c, v)
	validateActuators(c, v)
	validateWeather(c, v)
	validateClimate(c, v)
	validateLimits(c, v)
	validateFlight(c, v)
	validateRoutes(c, v)
	validateSchedules(c, v)
	if l := c.Metrics.Listen; l != "" {
		host, port, err := net.SplitHostPort(l)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 1 || p > 65535 || strings.ContainsAny(host, " /") {
			v.errf("metrics.listen", "%q is not host:port (like 127.0.0.1:9108; empty is off)", l)
		}
	}
	if c.HTTP.Page && c.Metrics.Listen == "" {
		v.errf("http.page", "true needs metrics.listen (the page is served on the metrics address, e.g. 127.0.0.1:9108)")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.errf("log.level", "%q is not a level (use debug, info, warn or error)", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		v.errf("log.format", "%q is not a format (use auto, text or json)", c.Log.Format)
	}
}

func validateMQTT(c *Config, v *validator) {
	m := &c.MQTT
	if len(m.Brokers) == 0 {
		v.errf("mqtt.brokers", "at least one broker URL is required (like tcp://broker:1883)")
	}
	anyTLS, badBroker := false, false
	for i, b := range m.Brokers {
		u, err := ParseBrokerURL(b)
		if err != nil {
			v.errf(fmt.Sprintf("mqtt.brokers[%d]", i), "%v", err)
			badBroker = true
		}
		anyTLS = anyTLS || u.TLS
	}
	if m.ClientID == "" {
		v.errf("mqtt.client_id", "required")
	}
	if t := m.TLS; t != nil {
		if (t.CertFile == "") != (t.KeyFile == "") {
			v.errf("mqtt.tls", "cert_file and key_file go together (client certificate and its key)")
		}
		// A broker URL already refused may be the TLS one: say that once.
		if !anyTLS && !badBroker && len(m.Brokers) > 0 {
			v.errf("mqtt.tls", "set, but no broker uses ssl://, tls://, mqtts://, tcps:// or wss://")
		}
	}
	if m.Password != "" && m.PasswordFile != "" {
		v.errf("mqtt.password", "set both password and password_file; keep one (password_file keeps it out of this file)")
	}
	if (m.Password != "" || m.PasswordFile != "") && m.Username == "" {
		v.errf("mqtt.username", "required with a password")
	}
	switch p := m.TopicPrefix; {
	case p == "":
		v.errf("mqtt.topic_prefix", "required")
	case strings.ContainsAny(p, "+#\x00"):
		v.errf("mqtt.topic_prefix", "%q holds an MQTT wildcard (+ or #)", p)
	case !strings.HasSuffix(p, "/"):
		v.errf("mqtt.topic_prefix", "%q must end with / (like dock/%s/)", p, c.ID)
	}
	v.rangeD("mqtt.keepalive", m.Keepalive, time.Second, 65535*time.Second)
	v.rangeD("mqtt.connect_timeout", m.ConnectTimeout, 100*time.Millisecond, 5*time.Minute)
	v.rangeF("mqtt.telemetry_rate_hz", m.TelemetryRateHz, 0.1, 10)
	v.rangeD("mqtt.state_interval", m.StateInterval, time.Second, 10*time.Minute)
	v.rangeD("mqtt.telemetry_docked_interval", m.TelemetryDockedInterval, 100*time.Millisecond, 10*time.Minute)
	if s := m.CommandSigning; s != nil {
		if s.KeyFile == "" {
			v.errf("mqtt.command_signing.key_file", "required (a file with the shared HMAC key)")
		}
		v.rangeD("mqtt.command_signing.window", s.Window, time.Second, time.Hour)
	}
	if !m.MAVLinkBridge && v.has("mqtt.mavlink_bridge_inbound") {
		v.errf("mqtt.mavlink_bridge_inbound", "set while mqtt.mavlink_bridge is false (turn the bridge on or remove this key)")
	}
	validateInbound(v, "mqtt.mavlink_bridge_inbound", m.MAVLinkBridgeInbound)
	if !m.MAVLinkBridge && v.has("mqtt.mavlink_bridge_batch") {
		v.errf("mqtt.mavlink_bridge_batch", "set while mqtt.mavlink_bridge is false (turn the bridge on or remove this key)")
	}
	v.rangeI("mqtt.mavlink_bridge_batch", m.MAVLinkBridgeBatch, 0, MaxBridgeBatch)
	v.rangeI("mqtt.outbox_max_events", m.OutboxMaxEvents, 100, 10000000)
	v.rangeD("mqtt.dedupe_window", m.DedupeWindow, time.Minute, 30*24*time.Hour)
}

func validateVehicle(c *Config, v *validator) {
	ve := &c.Vehicle
	var link Link
	if ve.URL == "" {
		v.errf("vehicle.url", "required (a serial device like /dev/ttyAMA0, udp://host:port, udpin://:port or tcp://host:port)")
	} else if l, err := ve.Link(); err != nil {
		v.errf("vehicle.url", "%v", err)
	} else {
		link = l
	}
	if link.Kind == LinkSerial {
		v.baud("vehicle.baud", ve.Baud)
	} else if ve.Baud != 0 && link.Kind != "" {
		v.errf("vehicle.baud", "only serial links have a baud rate (this one is %s)", link.Kind)
	}
	v.rangeI("vehicle.system_id", ve.SystemID, 1, 255)
	v.rangeI("vehicle.component_id", ve.ComponentID, 1, 255)
	v.rangeI("vehicle.target_system", ve.TargetSystem, 0, 255)
	if ve.TargetSystem != 0 && ve.SystemID == ve.TargetSystem {
		v.errf("vehicle.system_id", "%d is the autopilot's (target_system); the agent needs its own, e.g. 245", ve.SystemID)
	}
	if s := ve.Signing; s != nil {
		if s.KeyFile == "" {
			v.errf("vehicle.signing.key_file", "required (a file with the 32-byte key as 64 hex digits or base64)")
		}
		v.rangeI("vehicle.signing.link_id", s.LinkID, 0, 255)
	}
	v.rangeD("vehicle.heartbeat_timeout", ve.HeartbeatTimeout, 500*time.Millisecond, time.Minute)
	for _, set := range []struct {
		key   string
		rates map[string]float64
	}{{"stream_rates", ve.StreamRates}, {"docked_stream_rates", ve.DockedStreamRates}} {
		key, rates := set.key, set.rates
		for _, name := range sortedKeys(v, "vehicle."+key+".", rates) {
			p := "vehicle." + key + "." + name
			if !msgRE.MatchString(name) {
				v.errf(p, "%q is not a MAVLink message name (like GLOBAL_POSITION_INT)", name)
			}
			v.rangeF(p, rates[name], 0, 50)
		}
	}
	for i, f := range ve.Forward {
		p := fmt.Sprintf("vehicle.forward[%d]", i)
		if _, err := f.Link(); err != nil {
			v.errf(p+".url", "%v", err)
		}
		for j, id := range f.AllowMsgIDs {
			v.rangeI(fmt.Sprintf("%s.allow_msg_ids[%d]", p, j), id, 0, 1<<24-1)
		}
		for j, id := range f.BlockMsgIDs {
			v.rangeI(fmt.Sprintf("%s.block_msg_ids[%d]", p, j), id, 0, 1<<24-1)
			if slices.Contains(f.AllowMsgIDs, id) {
				v.errf(fmt.Sprintf("%s.block_msg_ids[%d]", p, j), "message %d is also in allow_msg_ids", id)
			}
		}
		for j, id := range f.SysIDs {
			v.rangeI(fmt.Sprintf("%s.sysids[%d]", p, j), id, 1, 255)
		}
		validateInbound(v, p+".inbound", f.Inbound)
	}
	if t := ve.TLog; t != nil {
		if t.Dir == "" {
			v.errf("vehicle.tlog.dir", "required (a directory for the .tlog files)")
		}
		if t.MaxBytes < 1<<20 {
			v.errf("vehicle.tlog.max_bytes", "%d is below the minimum of 1048576 (1 MiB)", t.MaxBytes)
		}
		v.rangeI("vehicle.tlog.keep", t.Keep, 1, 10000)
	}
}

// validateInbound checks the lists of what a source may send to the
// vehicle (at path p).
func validateInbound(v *validator, p string, in Inbound) {
	for j, id := range in.AllowMsgIDs {
		q := fmt.Sprintf("%s.allow_msg_ids[%d]", p, j)
		v.rangeI(q, id, 0, 1<<24-1)
		if id == 75 || id == 76 {
			v.errf(q, "%d (COMMAND_INT/COMMAND_LONG) is allowed per command: list the MAV_CMD numbers in %s.allow_commands instead", id, p)
		}
	}
	for j, c := range in.AllowCommands {
		v.rangeI(fmt.Sprintf("%s.allow_commands[%d]", p, j), c, 0, 65535)
	}
}

func validateBuses(c *Config, v *validator) {
	devices := map[string]string{}
	for _, name := range sortedKeys(v, "buses.", c.Buses) {
		b := c.Buses[name]
		p := "buses." + name
		if !nameRE.MatchString(name) {
			v.errf(p, "bus name %q: %s", name, nameHint)
		}
		v.device(p+".device", b.Device)
		if other, dup := devices[b.Device]; dup && b.Device != "" {
			v.errf(p+".device", "%s is already bus %s (one bus per line; put both devices on it)", b.Device, other)
		} else {
			devices[b.Device] = name
		}
		v.baud(p+".baud", b.Baud)
		if !slices.Contains([]string{"N", "E", "O"}, b.Parity) {
			v.errf(p+".parity", "%q is not a parity (use N, E or O)", b.Parity)
		}
		if b.StopBits != 1 && b.StopBits != 2 {
			v.errf(p+".stop_bits", "%d is not 1 or 2", b.StopBits)
		}
		v.rangeD(p+".timeout", b.Timeout, 10*time.Millisecond, 10*time.Second)
		v.rangeI(p+".retries", b.Retries, 0, 10)
		v.rangeD(p+".poll_interval", b.PollInterval, 10*time.Millisecond, 10*time.Second)
	}
}

// validateIdlePoll checks each bus's idle_poll_interval: at least
// poll_interval, at most 1 s (the modules count as stale after five
// polls), and, with the e-stop on a module of the bus, short enough that a
// press is read within EStopDetect.
func validateIdlePoll(c *Config, v *validator) {
	es, esOK := c.Signals[SignalEStop]
	for _, name := range sortedKeys(v, "buses.", c.Buses) {
		b := c.Buses[name]
		if b.IdlePollInterval == 0 {
			continue
		}
		p := "buses." + name + ".idle_poll_interval"
		if b.IdlePollInterval < b.PollInterval || b.IdlePollInterval > time.Second {
			v.errf(p, "%s is out of range (poll_interval %s..1s; 0 polls every poll_interval always)", b.IdlePollInterval, b.PollInterval)
			continue
		}
		if !esOK || es.Modbus == nil || es.Modbus.Bus != name || es.Modbus.Input == nil {
			continue
		}
		inputs := 0 // of the e-stop's module, all read in one request
		for _, sb := range c.Signals {
			if m := sb.Modbus; m != nil && m.Bus == name && m.Unit == es.Modbus.Unit && m.Input != nil {
				inputs = max(inputs, *m.Input+1)
			}
		}
		read := b.InputReadTime(inputs)
		if limit := EStopDetect - read; b.IdlePollInterval > limit {
			v.errf(p, "%s is too long: the e-stop is input %d of unit %d on this bus, and a press must be read within %s (one poll plus %s for the request and reply at %d bit/s): use at most %s",
				b.IdlePollInterval, *es.Modbus.Input, es.Modbus.Unit, EStopDetect, read.Round(100*time.Microsecond), b.Baud, limit.Truncate(time.Millisecond))
		}
	}
}

func (v *validator) busRef(path string, c *Config, bus string) {
	if bus == "" {
		v.errf(path, "required (the name of a bus under buses)")
		return
	}
	if _, ok := c.Buses[bus]; !ok {
		have := slices.Sorted(maps.Keys(c.Buses))
		if len(have) == 0 {
			v.errf(path, "no bus %q (buses is empty)", bus)
		} else {
			v.errf(path, "no bus %q (have %s)", bus, strings.Join(have, ", "))
		}
	}
}

func validateSignals(c *Config, v *validator) {
	specs := Signals()
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	used := map[string]string{} // line key -> signal path that took it
	claim := func(path, key, what string) {
		if first, dup := used[key]; dup {
			v.errf(path, "%s is already used by %s", what, first)
			return
		}
		sig, _, _ := strings.Cut(strings.TrimPrefix(path, "signals."), ".")
		used[key] = "signals." + sig
	}
	for _, name := range sortedKeys(v, "signals.", c.Signals) {
		b := c.Signals[name]
		p := "signals." + name
		kind, ok := SignalKindOf(name)
		if !ok {
			v.errf(p, "unknown signal%s", suggest(name, names))
			continue
		}
		switch {
		case b.GPIO == "" && b.Modbus == nil:
			v.errf(p, "not bound (use gpio: GPIO17, or modbus: {bus: io, unit: 1, %s})", map[SignalKind]string{SignalInput: "input: 0", SignalOutput: "coil: 0"}[kind])
		case b.GPIO != "" && b.Modbus != nil:
			v.errf(p, "bound to both gpio and modbus; keep one")
		case b.GPIO != "":
			if !gpioRE.MatchString(b.GPIO) {
				v.errf(p+".gpio", "%q is not a periph.io pin name (like GPIO17)", b.GPIO)
			}
			claim(p+".gpio", "gpio:"+strings.ToUpper(b.GPIO), b.GPIO)
		default:
			mb := b.Modbus
			v.busRef(p+".modbus.bus", c, mb.Bus)
			v.rangeI(p+".modbus.unit", mb.Unit, 1, 247)
			switch {
			case kind == SignalOutput && mb.Input != nil:
				v.errf(p+".modbus.input", "%s is an output: bind it to a coil (coil: N), not a discrete input", name)
			case kind == SignalInput && mb.Coil != nil:
				v.errf(p+".modbus.coil", "%s is an input: bind it to a discrete input (input: N), not a coil", name)
			case kind == SignalOutput && mb.Coil == nil:
				v.errf(p+".modbus", "coil required (the relay driving %s)", name)
			case kind == SignalInput && mb.Input == nil:
				v.errf(p+".modbus", "input required (the discrete input reading %s)", name)
			case mb.Coil != nil:
				v.rangeI(p+".modbus.coil", *mb.Coil, 0, 65535)
				claim(p+".modbus.coil", fmt.Sprintf("coil:%s/%d/%d", mb.Bus, mb.Unit, *mb.Coil),
					fmt.Sprintf("coil %d of unit %d on bus %s", *mb.Coil, mb.Unit, mb.Bus))
			default:
				v.rangeI(p+".modbus.input", *mb.Input, 0, 65535)
				claim(p+".modbus.input", fmt.Sprintf("input:%s/%d/%d", mb.Bus, mb.Unit, *mb.Input),
					fmt.Sprintf("input %d of unit %d on bus %s", *mb.Input, mb.Unit, mb.Bus))
			}
		}
		if kind == SignalOutput && b.Debounce != 0 {
			v.errf(p+".debounce", "only inputs are debounced (%s is an output)", name)
		}
		if kind == SignalInput {
			v.rangeD(p+".debounce", b.Debounce, 0, time.Second)
		}
	}
	for _, s := range specs {
		if _, ok := c.Signals[s.Name]; s.Required && !ok {
			v.errf("signals."+s.Name, "required %s is not bound", s.Kind)
		}
	}
}

func validateActuators(c *Config, v *validator) {
	a := &c.Actuators
	v.rangeD("actuators.lid_timeout", a.LidTimeout, time.Second, 5*time.Minute)
	v.rangeD("actuators.arms_timeout", a.ArmsTimeout, time.Second, 5*time.Minute)
	v.rangeD("actuators.lid_travel", a.LidTravel, 100*time.Millisecond, 5*time.Minute)
	v.rangeD("actuators.arms_travel", a.ArmsTravel, 100*time.Millisecond, 5*time.Minute)
	v.rangeD("actuators.limit_leave_timeout", a.LimitLeaveTimeout, 100*time.Millisecond, time.Minute)
	if a.LidTimeout <= a.LidTravel {
		v.errf("actuators.lid_timeout", "%s is not longer than lid_travel %s", a.LidTimeout, a.LidTravel)
	}
	if a.ArmsTimeout <= a.ArmsTravel {
		v.errf("actuators.arms_timeout", "%s is not longer than arms_travel %s", a.ArmsTimeout, a.ArmsTravel)
	}
}

func validateWeather(c *Config, v *validator) {
	w := &c.Weather
	if !v.has("weather") {
		v.errf("weather", "required (the weather station gates every launch)")
		return
	}
	switch {
	case w.Bus != "" && w.Device != "":
		v.errf("weather", "set bus or device, not both")
	case w.Bus != "":
		v.busRef("weather.bus", c, w.Bus)
		if w.Baud != 0 {
			v.errf("weather.baud", "the baud rate is the bus's (buses.%s.baud)", w.Bus)
		}
	case w.Device != "":
		v.device("weather.device", w.Device)
		v.baud("weather.baud", w.Baud)
		for name, b := range c.Buses {
			if b.Device == w.Device {
				v.errf("weather.device", "%s is bus %s: use bus: %s", w.Device, name, name)
			}
		}
	default:
		v.errf("weather", "set bus: <name> (an RS-485 bus under buses) or device: /dev/...")
	}
	v.rangeI("weather.unit", w.Unit, 1, 247)
	if w.Function != 3 && w.Function != 4 {
		v.errf("weather.function", "%d is not 3 (holding registers) or 4 (input registers)", w.Function)
	}
	v.rangeD("weather.poll_interval", w.PollInterval, 100*time.Millisecond, time.Minute)
	if w.StaleAfter <= w.PollInterval {
		v.errf("weather.stale_after", "%s is not longer than poll_interval %s", w.StaleAfter, w.PollInterval)
	}
	regs := []struct {
		name string
		r    *Register
	}{
		{"wind_mps", w.Registers.WindMPS}, {"gust_mps", w.Registers.GustMPS},
		{"dir_deg", w.Registers.DirDeg}, {"temp_c", w.Registers.TempC},
		{"humidity_pct", w.Registers.HumidityPct}, {"rain", w.Registers.Rain},
		{"inside_temp", w.Registers.InsideTempC},
	}
	if w.Registers.WindMPS == nil {
		v.errf("weather.registers.wind_mps", "required (wind gates every launch)")
	}
	taken := map[int]string{}
	for _, rg := range regs {
		r := rg.r
		if r == nil {
			continue
		}
		p := "weather.registers." + rg.name
		v.rangeI(p+".register", r.Register, 0, 65535)
		width := 1
		switch r.Type {
		case "u16", "s16":
		case "u32", "s32", "f32":
			width = 2
		default:
			v.errf(p+".type", "%q is not a register type (use u16, s16, u32, s32 or f32)", r.Type)
		}
		if r.Scale == 0 {
			v.errf(p+".scale", "0 would zero every reading (1 leaves the value as read)")
		}
		if r.WordOrder != "" && r.WordOrder != "high_first" && r.WordOrder != "low_first" {
			v.errf(p+".word_order", "%q is not high_first or low_first", r.WordOrder)
		}
		for a := r.Register; a < r.Register+width; a++ {
			if other, dup := taken[a]; dup {
				v.errf(p+".register", "register %d is also read as %s", a, other)
				break
			}
			taken[a] = rg.name
		}
	}
}

func validateClimate(c *Config, v *validator) {
	cl := &c.Climate
	v.rangeF("climate.heater_on_below_c", cl.HeaterOnBelowC, -40, 40)
	v.rangeF("climate.fan_on_above_c", cl.FanOnAboveC, 0, 70)
	if cl.HysteresisC <= 0 || cl.HysteresisC > 10 {
		v.errf("climate.hysteresis_c", "%s is out of range (above 0, at most 10)", num(cl.HysteresisC))
	}
	if cl.HeaterOnBelowC+cl.HysteresisC >= cl.FanOnAboveC-cl.HysteresisC {
		v.errf("climate", "heater_on_below_c + hysteresis_c (%s) must stay below fan_on_above_c - hysteresis_c (%s), or heater and fan fight",
			num(cl.HeaterOnBelowC+cl.HysteresisC), num(cl.FanOnAboveC-cl.HysteresisC))
	}
}

func validateLimits(c *Config, v *validator) {
	l := &c.Limits
	v.rangeF("limits.wind_mps", l.WindMPS, 1, 40)
	v.rangeF("limits.gust_mps", l.GustMPS, 1, 50)
	if l.GustMPS < l.WindMPS {
		v.errf("limits.gust_mps", "%s is below wind_mps %s", num(l.GustMPS), num(l.WindMPS))
	}
	v.rangeF("limits.temp_min_c", l.TempMinC, -60, 60)
	v.rangeF("limits.temp_max_c", l.TempMaxC, -40, 80)
	if l.TempMinC >= l.TempMaxC {
		v.errf("limits.temp_max_c", "%s is not above temp_min_c %s", num(l.TempMaxC), num(l.TempMinC))
	}
	v.rangeF("limits.battery_reserve_pct", l.BatteryReservePct, 0, 100)
	v.rangeI("limits.min_sats", l.MinSats, 0, 50)
	if l.MaxHDOP <= 0 || l.MaxHDOP > 50 {
		v.errf("limits.max_hdop", "%s is out of range (above 0, at most 50)", num(l.MaxHDOP))
	}
	v.rangeD("limits.heartbeat_max_age", l.HeartbeatMaxAge, 500*time.Millisecond, time.Minute)
	v.rangeF("limits.max_alt_m", l.MaxAltM, 5, 1000)
	v.rangeF("limits.clearance_alt_m", l.ClearanceAltM, 1, 200)
	if l.ClearanceAltM >= l.MaxAltM {
		v.errf("limits.clearance_alt_m", "%s is not below max_alt_m %s", num(l.ClearanceAltM), num(l.MaxAltM))
	}
	if l.BlockOnRain && c.Signals[SignalRain] == (Binding{}) && c.Weather.Registers.Rain == nil && v.has("weather") {
		v.errf("limits.block_on_rain", "no rain source: bind signals.rain or set weather.registers.rain (or set block_on_rain: false)")
	}
	g := &l.Geofence
	switch {
	case g.RadiusM != 0 && len(g.Polygon) != 0:
		v.errf("limits.geofence", "set radius_m or polygon, not both")
	case len(g.Polygon) != 0:
		if len(g.Polygon) < 3 {
			v.errf("limits.geofence.polygon", "%d vertices; a polygon needs at least 3", len(g.Polygon))
			break
		}
		for i, pt := range g.Polygon {
			p := fmt.Sprintf("limits.geofence.polygon[%d]", i)
			v.rangeF(p, pt[0], -90, 90)
			v.rangeF(p, pt[1], -180, 180)
		}
		if positionOK(c, v) && v.readable("limits.geofence") && !g.Contains(c.Position, c.Position.Lat, c.Position.Lon) {
			v.errf("limits.geofence.polygon", "the dock position %s, %s lies outside the polygon", num(c.Position.Lat), num(c.Position.Lon))
		}
	default:
		v.rangeF("limits.geofence.radius_m", g.RadiusM, 50, 100000)
	}
}

func validateFlight(c *Config, v *validator) {
	f := &c.Flight
	v.rangeF("flight.cruise_speed_mps", f.CruiseSpeedMPS, 1, 40)
	v.rangeF("flight.climb_mps", f.ClimbMPS, 0.5, 20)
	v.rangeF("flight.patrol_alt_m", f.PatrolAltM, c.Limits.ClearanceAltM, c.Limits.MaxAltM)
	v.rangeD("flight.launch_time", f.LaunchTime, time.Second, 5*time.Minute)
	v.rangeD("flight.default_loiter", f.DefaultLoiter, 0, time.Hour)
	v.rangeD("flight.alert_window", f.AlertWindow, 10*time.Second, 10*time.Minute)
	if f.HoverPctPerMin <= 0 || f.HoverPctPerMin > 50 {
		v.errf("flight.hover_pct_per_min", "%s is out of range (above 0, at most 50)", num(f.HoverPctPerMin))
	}
	if f.CruisePctPerKm <= 0 || f.CruisePctPerKm > 50 {
		v.errf("flight.cruise_pct_per_km", "%s is out of range (above 0, at most 50)", num(f.CruisePctPerKm))
	}
	v.rangeF("flight.battery_wh", f.BatteryWh, 0, 100000)
	if f.ChargeTarget != "ready" && f.ChargeTarget != "storage" {
		v.errf("flight.charge_target", "%q is not ready or storage", f.ChargeTarget)
	}
}

func validateRoutes(c *Config, v *validator) {
	for _, name := range sortedKeys(v, "routes.", c.Routes) {
		r := c.Routes[name]
		p := "routes." + name
		if !nameRE.MatchString(name) {
			v.errf(p, "route name %q: %s", name, nameHint)
		}
		switch {
		case len(r.Waypoints) > 0 && r.PlanFile != "":
			v.errf(p, "set waypoints or plan_file, not both")
		case len(r.Waypoints) == 0 && r.PlanFile == "":
			v.errf(p, "set waypoints (a list of lat, lon) or plan_file (a QGroundControl .plan)")
		}
		for i, w := range r.Waypoints {
			wp := fmt.Sprintf("%s.waypoints[%d]", p, i)
			v.rangeF(wp+".lat", w.Lat, -90, 90)
			v.rangeF(wp+".lon", w.Lon, -180, 180)
			if w.AltM != 0 {
				v.rangeF(wp+".alt_m", w.AltM, c.Limits.ClearanceAltM, c.Limits.MaxAltM)
			}
			v.rangeF(wp+".speed_mps", w.SpeedMPS, 0, 40)
			v.rangeD(wp+".hold", w.Hold, 0, time.Hour)
			if positionOK(c, v) && v.readable(wp) && v.readable("limits.geofence") && w.Lat >= -90 && w.Lat <= 90 &&
				!c.Limits.Geofence.Contains(c.Position, w.Lat, w.Lon) {
				if len(c.Limits.Geofence.Polygon) >= 3 {
					v.errf(wp, "%s, %s lies outside the geofence polygon", num(w.Lat), num(w.Lon))
				} else {
					v.errf(wp, "%s, %s lies outside the geofence (%s m around the dock; this point is %.0f m away)",
						num(w.Lat), num(w.Lon), num(c.Limits.Geofence.RadiusM), distanceM(c.Position.Lat, c.Position.Lon, w.Lat, w.Lon))
				}
			}
		}
	}
}

func validateSchedules(c *Config, v *validator) {
	names := map[string]int{}
	for i, s := range c.Schedules {
		p := fmt.Sprintf("schedules[%d]", i)
		switch {
		case s.Name == "":
			v.errf(p+".name", "required")
		case !nameRE.MatchString(s.Name):
			v.errf(p+".name", "%q: %s", s.Name, nameHint)
		default:
			if first, dup := names[s.Name]; dup {
				v.errf(p+".name", "%q is already schedules[%d]", s.Name, first)
			} else {
				names[s.Name] = i
			}
		}
		if s.Route == "" {
			v.errf(p+".route", "required")
		} else if _, ok := c.Routes[s.Route]; !ok {
			have := slices.Sorted(maps.Keys(c.Routes))
			v.errf(p+".route", "no route %q (have %s)", s.Route, cmp.Or(strings.Join(have, ", "), "none"))
		}
		// A key that is present counts as set even if its value was
		// unreadable (already reported), so no second problem follows.
		n := 0
		if s.Cron != "" || v.has(p+".cron") {
			n++
			if err := v.checkCron(s.Cron); err != nil {
				v.errf(p+".cron", "%v", err)
			}
		}
		if s.Every != 0 || v.has(p+".every") {
			n++
			v.rangeD(p+".every", s.Every, time.Minute, 7*24*time.Hour)
		}
		if len(s.At) != 0 || v.has(p+".at") {
			n++
		}
		if n != 1 {
			v.errf(p, "set exactly one of cron, every or at")
		}
		if s.Between != "" {
			if s.Every == 0 && !v.has(p+".every") {
				v.errf(p+".between", "only with every (a window for the repeats)")
			} else if _, _, err := ParseBetween(s.Between); err != nil {
				v.errf(p+".between", "%v", err)
			}
		}
		loc, err := s.Location()
		if err != nil {
			v.errf(p+".time_zone", "%q is not an IANA time zone (like Asia/Shanghai, Europe/Berlin or UTC)", s.TimeZone)
			loc = time.UTC
		}
		if a := s.Active; a != nil {
			from, to, err := a.Bounds(loc)
			switch {
			case err != nil:
				v.errf(p+".active", "%v", err)
			case !from.IsZero() && !to.IsZero() && !from.Before(to):
				v.errf(p+".active", "from %s is not before to %s", a.From, a.To)
			}
		}
		v.rangeD(p+".grace", s.Grace, time.Second, 24*time.Hour)
		if s.Every != 0 && s.Grace >= s.Every {
			v.errf(p+".grace", "%s is not shorter than every %s", s.Grace, s.Every)
		}
	}
}

// positionOK reports whether the dock position is given, readable and in
// range, so that checks relative to it (geofence) make sense: a position
// that failed to decode (lat: north) stands at 0, 0 and would put every
// waypoint outside the geofence.
func positionOK(c *Config, v *validator) bool {
	p := c.Position
	return v.has("position") && v.readable("position") && p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180
}
