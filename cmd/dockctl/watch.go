package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/jonboulle/clockwork"
)

// runWatch implements "dockctl watch [-dock ID] [-json] [-n N]": a live,
// readable line per status, state, telemetry and event message of one dock
// (or of every dock when none is named or configured), until interrupted.
func runWatch(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("watch", usage{
		synopsis: "dockctl watch [-dock ID] [-json] [-n N] [-no-telemetry] [broker flags]",
		about: "Print one readable line per status, state, telemetry and event message of one dock (or of\n" +
			"every dock when none is named or configured) until interrupted. When the broker goes away,\n" +
			"watch says so on stderr and reconnects; a dock whose agent left the broker shows OFFLINE.",
		examples: []string{
			"dockctl watch                      # the dock of /etc/dock-agent/agent.yaml",
			"dockctl watch -no-telemetry        # state and events only",
			"dockctl watch -broker tls://broker.example:8883 -ca ca.pem -dock d1",
			"dockctl watch -json -n 1 | jq .    # the retained messages, raw",
		},
	}, stderr)
	bf := addBrokerFlags(fs)
	raw := fs.Bool("json", false, "print each message raw as {\"topic\":...,\"payload\":...} JSON lines")
	count := fs.Int("n", 0, "exit after `N` messages (0: run until interrupted)")
	noTelemetry := fs.Bool("no-telemetry", false, "leave out the telemetry topic (2-10 lines a second in flight)")
	if code, stop := parseFlags(fs, stdout, stderr, func() error { return fs.Parse(args) }); stop {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	s, err := bf.resolve(false)
	if err != nil {
		return failed(stderr, "watch", err)
	}
	ctx, stop := interruptContext()
	defer stop()
	return watch(ctx, s, watchOptions{raw: *raw, count: *count, telemetry: !*noTelemetry}, clockwork.NewRealClock(), stdout, stderr)
}

type watchOptions struct {
	raw       bool
	count     int
	telemetry bool
}

// Reconnection backoff of watch: the first retry at once, then waits that
// double from watchRetryMin up to watchRetryMax.
const (
	watchRetryMin = time.Second
	watchRetryMax = 30 * time.Second
)

func watch(ctx context.Context, s *session, o watchOptions, clock clockwork.Clock, stdout, stderr io.Writer) int {
	c, err := s.connect(ctx)
	if err != nil {
		return failed(stderr, "watch", err)
	}
	var dropped uint64
	defer func() { c.close() }()
	topics := []string{s.prefix + "status", s.prefix + "state", s.prefix + "events"}
	if o.telemetry {
		topics = append(topics, s.prefix+"telemetry")
	}
	if err := c.subscribe(ctx, topics...); err != nil {
		return failed(stderr, "watch", err)
	}
	brokers := strings.Join(s.brokers, ",")
	fmt.Fprintf(stderr, "watching %s{status,state,events%s} on %s (Ctrl-C ends)\n", s.prefix, map[bool]string{true: ",telemetry"}[o.telemetry], brokers)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	n := 0
	for {
		select {
		case <-ctx.Done():
			if d := dropped + c.dropped.Load(); d > 0 {
				fmt.Fprintf(stderr, "dockctl watch: %d messages dropped (output too slow)\n", d)
			}
			return 0
		case err := <-c.lost:
			lostAt := clock.Now()
			fmt.Fprintf(stderr, "dockctl watch: %s lost the broker %s: %v; reconnecting (the dock's messages meanwhile are not shown)\n",
				clockStamp(lostAt), brokers, err)
			dropped += c.dropped.Load()
			c.close()
			nc, attempts := rewatch(ctx, s, c.msgs, topics, clock, stderr)
			if nc == nil {
				return 0 // interrupted while reconnecting
			}
			c = nc
			fmt.Fprintf(stderr, "dockctl watch: %s reconnected to %s after %s (%d attempts); retained status and state follow\n",
				clockStamp(clock.Now()), brokers, clock.Since(lostAt).Round(time.Second), attempts)
		case m := <-c.msgs:
			if o.raw {
				b, _ := json.Marshal(struct {
					Topic    string          `json:"topic"`
					Retained bool            `json:"retained,omitempty"`
					Payload  json.RawMessage `json:"payload"`
				}{m.topic, m.retained, rawJSON(m.payload)})
				out.Write(append(b, '\n'))
			} else {
				out.WriteString(formatMessage(m, clock.Now()) + "\n")
			}
			out.Flush()
			if n++; o.count > 0 && n >= o.count {
				return 0
			}
		}
	}
}

// rewatch connects and subscribes again until it succeeds or ctx ends (nil),
// the first attempt at once, then with doubling waits; it reports the first
// failure and every change of reason, not each attempt.
func rewatch(ctx context.Context, s *session, msgs chan message, topics []string, clock clockwork.Clock, stderr io.Writer) (*conn, int) {
	wait := watchRetryMin
	last := ""
	for attempt := 1; ; attempt++ {
		c, err := s.connectTo(ctx, msgs)
		if err == nil {
			if err = c.subscribe(ctx, topics...); err == nil {
				return c, attempt
			}
			c.close()
		}
		if ctx.Err() != nil {
			return nil, attempt
		}
		if msg := err.Error(); msg != last {
			fmt.Fprintf(stderr, "dockctl watch: still no broker: %v; retrying every %s at most\n", err, watchRetryMax)
			last = msg
		}
		select {
		case <-ctx.Done():
			return nil, attempt
		case <-clock.After(wait):
		}
		wait = min(2*wait, watchRetryMax)
	}
}

// rawJSON returns p when it is JSON, else p as a JSON string.
func rawJSON(p []byte) json.RawMessage {
	if json.Valid(p) {
		return p
	}
	b, _ := json.Marshal(string(p))
	return b
}

// formatMessage renders one message as "15:04:05.000 DOCK KIND details".
func formatMessage(m message, now time.Time) string {
	parts := strings.Split(m.topic, "/")
	kind := parts[len(parts)-1]
	dock := strings.Join(parts[:len(parts)-1], "/")
	dock = strings.TrimPrefix(dock, "dock/")
	var obj map[string]any
	if err := json.Unmarshal(m.payload, &obj); err != nil {
		return sanitize(fmt.Sprintf("%s %s %s (not JSON: %q)", clockStamp(now), dock, kind, truncate(string(m.payload), 80)))
	}
	at := now
	for _, k := range []string{"ts", "updated_at"} {
		if t, ok := obj[k].(string); ok {
			if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
				at = p
			}
		}
	}
	var body string
	switch kind {
	case "status":
		body = formatStatus(obj)
	case "state":
		body = formatState(obj)
	case "telemetry":
		body = formatTelemetry(obj)
	case "events":
		body = formatEvent(obj)
		kind = "event"
	default:
		body = string(m.payload)
	}
	return sanitize(fmt.Sprintf("%s %s %-9s %s", clockStamp(at), dock, kind, body))
}

// sanitize escapes control characters, so that a message (any client may
// publish on a dock's topics) can neither break the one-line-per-message
// layout nor send escape sequences to the terminal.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func clockStamp(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func formatStatus(o map[string]any) string {
	if on, _ := o["online"].(bool); !on {
		// The agent's will, or its last word on a clean stop.
		return "OFFLINE (the agent left the broker: stopped, or its link broke; the state shown is its last)"
	}
	return fmt.Sprintf("online version=%v started=%v", o["version"], o["started_at"])
}

func formatState(o map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lid=%v arms=%v charger=%s mode=%v", o["lid"], o["arms"], onOff(o["charger"]), o["mode"])
	if b2(o["estop"]) || b2(o["estop_latched"]) {
		b.WriteString(" ESTOP")
		if b2(o["estop_latched"]) {
			b.WriteString("(latched)")
		}
	}
	if f, _ := o["fault"].(string); f != "" {
		fmt.Fprintf(&b, " FAULT=%q", f)
	}
	if !b2(o["power"]) {
		b.WriteString(" NO-MAINS")
	}
	if w, ok := o["weather"].(map[string]any); ok {
		if b2(w["stale"]) {
			b.WriteString(" weather=STALE")
		} else {
			fmt.Fprintf(&b, " wind=%s/%smps temp=%sC", num(w["wind_mps"]), num(w["gust_mps"]), num(w["temp_c"]))
			if b2(w["rain"]) {
				b.WriteString(" RAIN")
			}
		}
	}
	if v, ok := o["vehicle"].(map[string]any); ok {
		var flags []string
		for _, k := range []string{"link", "armed", "landed", "docked"} {
			if b2(v[k]) {
				flags = append(flags, k)
			}
		}
		if !b2(v["link"]) {
			flags = append(flags, "NO-LINK")
		}
		fmt.Fprintf(&b, " vehicle=%s bat=%s%%", strings.Join(flags, ","), num(v["battery_pct"]))
	}
	if s, ok := o["sortie"].(map[string]any); ok {
		fmt.Fprintf(&b, " sortie=%v(%v,%v)", s["id"], s["kind"], s["phase"])
	} else {
		b.WriteString(" sortie=-")
	}
	if c, ok := o["circles"].(map[string]any); ok {
		if r, ok := c["radii_m"].([]any); ok && len(r) == 3 {
			fmt.Fprintf(&b, " circles=%s/%s/%sm", num(r[0]), num(r[1]), num(r[2]))
		}
	}
	if cs, ok := o["clock_synced"].(bool); ok && !cs {
		b.WriteString(" CLOCK-UNSYNCED")
	}
	return b.String()
}

func formatTelemetry(o map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lat=%s lon=%s alt=%sm rel=%sm hdg=%s gs=%smps mode=%v", coord(o["lat"]), coord(o["lon"]),
		num(o["alt_m"]), num(o["rel_alt_m"]), num(o["heading_deg"]), num(o["ground_speed_mps"]), o["mode"])
	if b2(o["armed"]) {
		b.WriteString(" ARMED")
	}
	if bat, ok := o["battery"].(map[string]any); ok {
		fmt.Fprintf(&b, " bat=%s%% %sV", num(bat["pct"]), num(bat["voltage_v"]))
	}
	if g, ok := o["gps"].(map[string]any); ok {
		fmt.Fprintf(&b, " gps=fix%s/%ssats", num(g["fix"]), num(g["sats"]))
	}
	if l, ok := o["link"].(map[string]any); ok {
		fmt.Fprintf(&b, " loss=%s%%", num(l["loss_pct"]))
	}
	return b.String()
}

// formatEvent: "#seq type key=value ..." with the event's own fields sorted.
func formatEvent(o map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%s %v", num(o["seq"]), o["type"])
	keys := make([]string, 0, len(o))
	for k := range o {
		if k != "seq" && k != "ts" && k != "type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, value(o[k]))
	}
	return b.String()
}

// value renders a JSON value compactly: strings unquoted unless they hold
// spaces, numbers without exponent noise, objects and arrays as JSON.
func value(v any) string {
	switch x := v.(type) {
	case string:
		if strings.ContainsAny(x, " \t\"=") {
			return fmt.Sprintf("%q", x)
		}
		return x
	case float64:
		return num(x)
	case nil:
		return "null"
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func num(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%.6g", f)
}

func b2(v any) bool { b, _ := v.(bool); return b }

func onOff(v any) string {
	if b2(v) {
		return "on"
	}
	return "off"
}

// coord renders a latitude or longitude to 1e-6 degrees (about 0.1 m).
func coord(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%.6f", f)
}
