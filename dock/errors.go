package dock

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors callers branch on. telemetry maps each to the contract's
// error code in one place; dock says what went wrong, not how it is spelled
// on the wire.
var (
	// ErrInvalidArgument: the request names something that is not there or
	// cannot be (an unknown route, a route outside the geofence).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrOutOfRange: a number beyond the dock's limits (altitude, loiter,
	// distance).
	ErrOutOfRange = errors.New("out of range")
	// ErrPrecondition: the request is fine but the dock is not in a state to
	// do it (nothing in flight to recall, a route still in use).
	ErrPrecondition = errors.New("precondition failed")

	// ErrBusy: the dock is doing something else (a sortie active, the
	// dispatch queue full); the same request may succeed later.
	ErrBusy = errors.New("dock busy")

	// Refusals of kind ErrPrecondition that callers also branch on.
	ErrEStopLatched   error = &Error{Kind: ErrPrecondition, Message: "e-stop latched: release the button and send reset"}
	ErrFault          error = &Error{Kind: ErrPrecondition, Message: "dock in fault: send reset after fixing the cause"}
	ErrMaintenance    error = &Error{Kind: ErrPrecondition, Message: "dock in maintenance mode"}
	ErrNotMaintenance error = &Error{Kind: ErrPrecondition, Message: "command allowed in maintenance mode only"}
	ErrTimeout              = errors.New("motion timed out")
)

// Error is an error of one of the kinds above (Kind, matched by errors.Is)
// with optional details for the reply (a map or struct that marshals to
// JSON) and an optional cause.
type Error struct {
	Kind    error
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

// Is reports whether target is e's kind, so errors.Is(err, ErrOutOfRange)
// holds for an out-of-range *Error.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Errorf returns an *Error of kind with a formatted message; a %w verb
// makes its operand the cause.
func Errorf(kind error, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Message: err.Error(), Err: errors.Unwrap(err)}
}

// InvariantError is a request refused because it would break a safety
// invariant of DESIGN.md §4.
type InvariantError struct {
	Invariant int    // 1..7, as numbered in DESIGN.md §4
	Action    string // what was refused ("close lid")
	Reason    string // the reading that forbids it ("vehicle armed")
}

// Is makes every invariant refusal of kind ErrPrecondition.
func (e *InvariantError) Is(target error) bool { return target == ErrPrecondition }

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

// Is makes a blocked preflight of kind ErrPrecondition.
func (e *GateError) Is(target error) bool { return target == ErrPrecondition }

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
