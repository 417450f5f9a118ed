package dock

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Code is an error code of the MQTT command contract (DESIGN.md §5). dock
// decides what went wrong and attaches the code; telemetry only copies it.
type Code string

// Contract error codes.
const (
	CodeBadRequest         Code = "bad_request"
	CodeUnknownCommand     Code = "unknown_command"
	CodeInvalidArgument    Code = "invalid_argument"
	CodePreconditionFailed Code = "precondition_failed"
	CodeOutOfRange         Code = "out_of_range"
	CodeBusy               Code = "busy"
	CodeExpired            Code = "expired"
	CodeUnauthorized       Code = "unauthorized"
	CodeInternal           Code = "internal"
	// CodeStale refuses a command that is old by nature: delivered with the
	// MQTT retain flag, or carrying a ts older than the dedupe window.
	CodeStale Code = "stale"
)

// Sentinel errors callers branch on. Each maps to a contract code through
// CodeOf.
var (
	ErrEStopLatched   = errors.New("e-stop latched: release the button and send reset")
	ErrFault          = errors.New("dock in fault: send reset after fixing the cause")
	ErrBusy           = errors.New("dock busy")
	ErrMaintenance    = errors.New("dock in maintenance mode")
	ErrNotMaintenance = errors.New("command allowed in maintenance mode only")
	ErrTimeout        = errors.New("motion timed out")
)

// Error is an error with a contract code and optional details for the reply.
type Error struct {
	Code    Code
	Message string
	Details any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code c and a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: c, Message: err.Error(), Err: errors.Unwrap(err)}
}

// InvariantError is a request refused because it would break a safety
// invariant of DESIGN.md §4.
type InvariantError struct {
	Invariant int    // 1..7, as numbered in DESIGN.md §4
	Action    string // what was refused ("close lid")
	Reason    string // the reading that forbids it ("vehicle armed")
}

func (e *InvariantError) Error() string {
	return fmt.Sprintf("%s refused by invariant %d: %s", e.Action, e.Invariant, e.Reason)
}

// Gate is one blocked preflight gate with the reading that blocked it.
type Gate struct {
	Name  string  // "wind", "gust", "rain", "battery", "gps", ...
	Unit  string  // contract unit suffix of Value and Limit ("mps", "pct", "c", "sats", "s"); empty when the gate has no number
	Value float64 // the reading
	Limit float64 // the limit it crossed
	Note  string  // free text when no number fits ("no heartbeat for 7s")
}

// MarshalJSON writes {"gate":"wind","value_mps":14.2,"limit_mps":12}.
func (g Gate) MarshalJSON() ([]byte, error) {
	m := map[string]any{"gate": g.Name}
	if g.Unit != "" {
		m["value_"+g.Unit] = g.Value
		m["limit_"+g.Unit] = g.Limit
	}
	if g.Note != "" {
		m["note"] = g.Note
	}
	return json.Marshal(m)
}

// GateError lists every preflight gate that blocks a sortie.
type GateError struct {
	Gates []Gate
}

func (e *GateError) Error() string {
	parts := make([]string, len(e.Gates))
	for i, g := range e.Gates {
		switch {
		case g.Unit != "":
			parts[i] = fmt.Sprintf("%s %.4g %s over limit %.4g", g.Name, g.Value, g.Unit, g.Limit)
		case g.Note != "":
			parts[i] = g.Name + ": " + g.Note
		default:
			parts[i] = g.Name
		}
	}
	return "preflight blocked: " + strings.Join(parts, "; ")
}

// CodeOf maps any error to its contract code: precondition_failed for gates,
// invariants, e-stop, fault and mode errors, busy for ErrBusy, the code of an
// *Error, and internal for anything else.
func CodeOf(err error) Code {
	var de *Error
	var ge *GateError
	var ie *InvariantError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &de):
		return de.Code
	case errors.As(err, &ge), errors.As(err, &ie),
		errors.Is(err, ErrEStopLatched), errors.Is(err, ErrFault),
		errors.Is(err, ErrMaintenance), errors.Is(err, ErrNotMaintenance):
		return CodePreconditionFailed
	case errors.Is(err, ErrBusy):
		return CodeBusy
	default:
		return CodeInternal
	}
}

// DetailsOf returns what the reply's error object carries beside code and
// message: the blocking gates of a *GateError, the Details of an *Error.
func DetailsOf(err error) any {
	var ge *GateError
	var de *Error
	switch {
	case errors.As(err, &ge):
		return ge.Gates
	case errors.As(err, &de):
		return de.Details
	}
	return nil
}
