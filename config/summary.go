package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Summary describes c for a person, as `dock-agent -check` prints it: dock
// id, position, brokers, vehicle link, signals by kind and wiring, weather
// station, routes, schedules, state dir, and any secret file that was
// missing under AllowMissingSecrets. Secrets are never shown.
func (c *Config) Summary() string {
	var b strings.Builder
	line := func(k, format string, args ...any) {
		if k != "" {
			k += ":"
		}
		fmt.Fprintf(&b, "%-10s %s\n", k, fmt.Sprintf(format, args...))
	}
	line("dock", "%s at %.6f, %.6f, %s m AMSL", c.ID, c.Position.Lat, c.Position.Lon, num(c.Position.AltM))

	m := c.MQTT
	auth := "no auth"
	switch {
	case m.PasswordFile != "":
		auth = "user " + m.Username + ", password from " + m.PasswordFile
	case m.Password != "":
		auth = "user " + m.Username + ", password inline"
	case m.Username != "":
		auth = "user " + m.Username
	}
	if m.TLS != nil && m.TLS.CertFile != "" {
		auth += ", client certificate"
	}
	line("mqtt", "%s (%s), client %s, topics %s*, telemetry %s Hz", strings.Join(m.Brokers, ", "), auth, m.ClientID, m.TopicPrefix, num(m.TelemetryRateHz))
	if m.CommandSigning != nil {
		cs := m.CommandSigning
		line("", "commands signed (HMAC, key %s%s, window %s)", cs.KeyFile, keyRead(len(cs.Key()), cs.KeyForm()), cs.Window)
	}
	if m.MAVLinkBridge {
		line("", "raw MAVLink bridge on; mavlink/in may send the vehicle %s", m.MAVLinkBridgeInbound)
	}

	ve := c.Vehicle
	link := ve.URL
	if l, err := ve.Link(); err == nil && l.Kind == LinkSerial {
		link = fmt.Sprintf("%s at %d baud", l.Address, ve.Baud)
	}
	target := "first autopilot heard"
	if ve.TargetSystem != 0 {
		target = fmt.Sprintf("system %d", ve.TargetSystem)
	}
	line("vehicle", "%s, we are %d/%d, target %s", link, ve.SystemID, ve.ComponentID, target)
	if ve.Signing != nil {
		line("", "MAVLink 2 signing (key %s%s, require %t)", ve.Signing.KeyFile, keyRead(len(ve.Signing.Key()), ve.Signing.KeyForm()), ve.Signing.Require)
	}
	for _, f := range ve.Forward {
		line("", "forward to %s; it may send the vehicle %s", f.URL, f.Inbound)
	}
	if ve.TLog != nil {
		line("", "tlog in %s", ve.TLog.Dir)
	}

	for _, name := range slices.Sorted(maps.Keys(c.Buses)) {
		bus := c.Buses[name]
		line("bus", "%s: %s %d %d%s%d", name, bus.Device, bus.Baud, 8, bus.Parity, bus.StopBits)
	}

	var in, out, gpio, modbus int
	for name, s := range c.Signals {
		if k, _ := SignalKindOf(name); k == SignalInput {
			in++
		} else {
			out++
		}
		if s.GPIO != "" {
			gpio++
		} else {
			modbus++
		}
	}
	line("signals", "%d (%d outputs, %d inputs; %d on GPIO, %d on Modbus)", len(c.Signals), out, in, gpio, modbus)

	w := c.Weather
	where := w.Device
	if w.Bus != "" {
		where = "bus " + w.Bus
	}
	line("weather", "%s unit %d, function %d, every %s", where, w.Unit, w.Function, w.PollInterval)
	l := c.Limits
	fence := fmt.Sprintf("geofence %s m", num(l.Geofence.RadiusM))
	if len(l.Geofence.Polygon) > 0 {
		fence = fmt.Sprintf("geofence polygon of %d vertices", len(l.Geofence.Polygon))
	}
	line("limits", "wind %s m/s, gust %s m/s, rain blocks %t, %s..%s °C, reserve %s %%, %s, max alt %s m",
		num(l.WindMPS), num(l.GustMPS), l.BlockOnRain, num(l.TempMinC), num(l.TempMaxC), num(l.BatteryReservePct), fence, num(l.MaxAltM))

	for _, name := range slices.Sorted(maps.Keys(c.Routes)) {
		r := c.Routes[name]
		if r.PlanFile != "" {
			line("route", "%s: plan %s", name, r.PlanFile)
		} else {
			line("route", "%s: %d waypoints", name, len(r.Waypoints))
		}
	}
	for _, s := range c.Schedules {
		var when string
		switch {
		case s.Cron != "":
			when = "cron " + s.Cron
		case s.Every != 0:
			when = "every " + shortDuration(s.Every)
			if s.Between != "" {
				when += " between " + s.Between
			}
		default:
			ts := make([]string, len(s.At))
			for i, t := range s.At {
				ts[i] = t.Format(time.RFC3339)
			}
			when = "at " + strings.Join(ts, ", ")
		}
		if s.Active != nil {
			when += fmt.Sprintf(", active %s..%s", s.Active.From, s.Active.To)
		}
		line("schedule", "%s: route %s, %s (%s)", s.Name, s.Route, when, s.TimeZone)
	}
	line("state dir", "%s", c.StateDir)
	metrics := "off"
	if c.Metrics.Listen != "" {
		metrics = "http://" + c.Metrics.Listen + "/metrics"
	}
	line("metrics", "%s", metrics)
	if c.HTTP.Page {
		line("page", "http://%s/", c.Metrics.Listen)
	}
	line("log", "%s, %s", c.Log.Level, c.Log.Format)
	for _, f := range c.files {
		if f.Missing {
			line("missing", "%s: %s (not checked; the agent will refuse to start without it)", f.Path, f.File)
		}
	}
	return b.String()
}

// shortDuration writes 2h rather than 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// String says what the source may send besides the read-only default.
func (in Inbound) String() string {
	if len(in.AllowMsgIDs) == 0 && len(in.AllowCommands) == 0 {
		return "the read-only default"
	}
	ints := func(xs []int) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = fmt.Sprint(x)
		}
		return strings.Join(s, ", ")
	}
	var parts []string
	if len(in.AllowMsgIDs) > 0 {
		parts = append(parts, "messages "+ints(in.AllowMsgIDs))
	}
	if len(in.AllowCommands) > 0 {
		parts = append(parts, "MAV_CMDs "+ints(in.AllowCommands))
	}
	return "the read-only default and " + strings.Join(parts, " and ") + " (while the dock's interlocks allow)"
}

// keyRead says how a key file was read, for the summary: its form and
// length, never its bytes; "" when it was not read (missing under
// AllowMissingSecrets).
func keyRead(n int, form KeyForm) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" read as %s, %d bytes", form, n)
}
