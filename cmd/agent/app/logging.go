package app

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// LogFormat chooses the log encoding: "text" for a person at a terminal,
// "json" for the journal, "auto" to pick by where stderr goes.
type LogFormat string

// NewLogger builds the agent's one logger. With format "auto" (or empty) it
// writes JSON when the process runs under systemd (JOURNAL_STREAM or
// INVOCATION_ID is set) and text otherwise. The level can be changed later
// through the returned LevelVar.
func NewLogger(w io.Writer, level string, format LogFormat) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	lv.Set(ParseLevel(level))
	opts := &slog.HandlerOptions{Level: lv}
	f := format
	if f == "" || f == "auto" {
		f = "text"
		if os.Getenv("JOURNAL_STREAM") != "" || os.Getenv("INVOCATION_ID") != "" {
			f = "json"
		}
	}
	if f == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), lv
	}
	return slog.New(slog.NewTextHandler(w, opts)), lv
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
