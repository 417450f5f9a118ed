package contract

import "fmt"

// Code is an error code of a command reply.
type Code string

// The error codes of contract v1 (docs/mqtt-api.md, "Error codes").
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

// Codes lists every error code, for label sets and documentation checks.
func Codes() []Code {
	return []Code{CodeBadRequest, CodeUnknownCommand, CodeInvalidArgument, CodePreconditionFailed,
		CodeOutOfRange, CodeBusy, CodeExpired, CodeUnauthorized, CodeInternal, CodeStale}
}

// Reply is the body of `cmd/<name>/reply`. ID is null when the request
// carried no usable id; Result is set when OK, Error when not.
type Reply struct {
	ID     *string `json:"id"`
	OK     bool    `json:"ok"`
	Result any     `json:"result,omitempty"`
	Error  *Error  `json:"error,omitempty"`
}

// Error is the error object of a failed command. It is also a Go error, so
// the agent's intake returns it as is for refusals it decides itself.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with code c and a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}
