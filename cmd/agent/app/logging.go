package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// LogFormat chooses the log encoding: "text" for a person at a terminal,
// "json" for a file or a collector, "auto" to pick by where stderr goes.
type LogFormat string

// JournalSender sends one entry to journald: the message, its syslog
// priority and the other fields under journald's upper-case names.
// journal.Send fits; tests record the entries instead.
type JournalSender interface {
	Send(message string, priority journal.Priority, fields map[string]string) error
}

// journalSend is the real journald socket.
type journalSend struct{}

func (journalSend) Send(message string, p journal.Priority, fields map[string]string) error {
	return journal.Send(message, p, fields)
}

// NewLogger builds the agent's one logger. With format "auto" (or empty)
// it writes native journald entries (priority per level, structured fields)
// when stderr is the journal's stream and the journal socket is there,
// JSON when the process runs under systemd otherwise (INVOCATION_ID set),
// and text on a terminal. "json" and "text" force the format on w. Every
// format keeps one value per key (the innermost wins: a part's
// "component" replaces app's), and writes a time.Duration as seconds
// under its key plus "_s" (duration -> duration_s). The level can be
// changed later through the returned LevelVar.
func NewLogger(w io.Writer, level string, format LogFormat) (*slog.Logger, *slog.LevelVar) {
	var j JournalSender
	if format == "" || format == "auto" {
		if onJournal, err := journal.StderrIsJournalStream(); err == nil && onJournal && journal.Enabled() {
			j = journalSend{}
		}
	}
	return newLogger(w, level, format, os.Getenv("INVOCATION_ID") != "", j)
}

// newLogger is NewLogger with its environment as arguments: underSystemd
// picks JSON for "auto", a non-nil j picks journald entries for "auto".
func newLogger(w io.Writer, level string, format LogFormat, underSystemd bool, j JournalSender) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	lv.Set(ParseLevel(level))
	opts := &slog.HandlerOptions{Level: lv}
	jsonSink := slog.NewJSONHandler(w, opts)
	var sink logSink
	switch format {
	case "json":
		sink = jsonSink
	case "text":
		sink = slog.NewTextHandler(w, opts)
	default:
		switch {
		case j != nil:
			sink = &journalSink{send: j, level: lv, fallback: jsonSink}
		case underSystemd:
			sink = jsonSink
		default:
			sink = slog.NewTextHandler(w, opts)
		}
	}
	return slog.New(&logHandler{sink: sink}), lv
}

// ParseLevel maps debug, info, warn and error to slog levels; anything else
// is info (config validation already refused unknown names).
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// logSink writes finished records: a slog JSON or text handler that is
// never given With attributes, or the journald sink.
type logSink interface {
	Enabled(context.Context, slog.Level) bool
	Handle(context.Context, slog.Record) error
}

// logHandler keeps the attributes of log.With as a list with one value per
// key, so that "component" set by app and again by a package appears once
// (the later, innermost value), and hands each record to its sink with
// those attributes first. It converts every time.Duration to seconds under
// the key plus "_s", once here rather than at each call site. WithGroup
// prefixes later keys with "group.".
type logHandler struct {
	sink   logSink
	attrs  []slog.Attr // converted, unique keys
	prefix string
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.sink.Enabled(ctx, l) }

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &logHandler{sink: h.sink, prefix: h.prefix, attrs: append([]slog.Attr(nil), h.attrs...)}
	for _, a := range as {
		n.attrs = setAttr(n.attrs, h.prefix, a)
	}
	return n
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &logHandler{sink: h.sink, attrs: h.attrs, prefix: h.prefix + name + "."}
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := make([]slog.Attr, len(h.attrs), len(h.attrs)+r.NumAttrs())
	copy(attrs, h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		attrs = setAttr(attrs, h.prefix, a)
		return true
	})
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(attrs...)
	return h.sink.Handle(ctx, out)
}

// setAttr converts a (durations to seconds, key under prefix) and sets it
// in list, replacing an earlier value of the same key in place.
func setAttr(list []slog.Attr, prefix string, a slog.Attr) []slog.Attr {
	a = convertAttr(a)
	if a.Equal(slog.Attr{}) {
		return list
	}
	if a.Key == "" && a.Value.Kind() == slog.KindGroup {
		for _, ga := range a.Value.Group() {
			list = setAttr(list, prefix, ga)
		}
		return list
	}
	a.Key = prefix + a.Key
	for i := range list {
		if list[i].Key == a.Key {
			list[i] = a
			return list
		}
	}
	return append(list, a)
}

// convertAttr resolves a's value and writes durations as seconds, also
// inside groups: {"after": 1500ms} becomes {"after_s": 1.5}.
func convertAttr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindDuration:
		if !strings.HasSuffix(a.Key, "_s") {
			a.Key += "_s"
		}
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	case slog.KindGroup:
		g := a.Value.Group()
		conv := make([]slog.Attr, len(g))
		for i, ga := range g {
			conv[i] = convertAttr(ga)
		}
		a.Value = slog.GroupValue(conv...)
	}
	return a
}

// journalSink writes records as native journald entries: MESSAGE is the
// record's message, PRIORITY follows the level (debug 7, info 6, warn 4,
// error 3), each attribute is a field under its upper-case name
// (component -> COMPONENT, sortie_id -> SORTIE_ID, err -> ERR; a group's
// keys joined with "_"). SYSLOG_IDENTIFIER is dock-agent. A key that would
// collide with a field journald or the sender owns (MESSAGE, PRIORITY,
// CODE_FILE ...) is written with "ATTR_" before it. When the journal
// refuses an entry it is written as JSON to the fallback (stderr, which
// journald also reads).
type journalSink struct {
	send     JournalSender
	level    slog.Leveler
	fallback logSink
}

func (s *journalSink) Enabled(_ context.Context, l slog.Level) bool { return l >= s.level.Level() }

func (s *journalSink) Handle(ctx context.Context, r slog.Record) error {
	fields := make(map[string]string, r.NumAttrs()+1)
	fields["SYSLOG_IDENTIFIER"] = "dock-agent"
	r.Attrs(func(a slog.Attr) bool {
		addJournalField(fields, "", a)
		return true
	})
	if err := s.send.Send(r.Message, journalPriority(r.Level), fields); err != nil {
		return s.fallback.Handle(ctx, r)
	}
	return nil
}

// journalPriority maps a slog level to a syslog priority.
func journalPriority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}

// reservedJournalField reports whether name is a field journald or the
// entry's sender set themselves.
func reservedJournalField(name string) bool {
	switch name {
	case "MESSAGE", "MESSAGE_ID", "PRIORITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO",
		"SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW",
		"INVOCATION_ID", "DOCUMENTATION", "TID":
		return true
	}
	return false
}

func addJournalField(fields map[string]string, prefix string, a slog.Attr) {
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "_"
		}
		for _, ga := range a.Value.Group() {
			addJournalField(fields, p, ga)
		}
		return
	}
	name := journalFieldName(prefix + a.Key)
	if reservedJournalField(name) {
		name = "ATTR_" + name
	}
	fields[name] = a.Value.String()
}

// journalFieldName upper-cases key and replaces what journald does not
// accept in a field name (anything but A-Z, 0-9 and _, or a leading digit
// or underscore) with "_" or an "F" before it.
func journalFieldName(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '_' || (b[0] >= '0' && b[0] <= '9') {
		return "F" + string(b)
	}
	return string(b)
}
