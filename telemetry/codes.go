package telemetry

import (
	"errors"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// wireError is the one place an error becomes the contract's error object:
// the intake's own refusals are *contract.Error already; dock's typed
// errors map by kind (a blocked preflight carries its gates as details, a
// *dock.Error its Details); anything else is internal.
func wireError(err error) *contract.Error {
	if ce, ok := errors.AsType[*contract.Error](err); ok {
		return ce
	}
	e := &contract.Error{Code: codeOf(err), Message: err.Error()}
	if ge, ok := errors.AsType[*dock.GateError](err); ok {
		e.Details = ge.Gates
	} else if de, ok := errors.AsType[*dock.Error](err); ok && de.Details != nil {
		e.Details = de.Details
	}
	return e
}

// codeOf is the contract code of err ("" for nil).
func codeOf(err error) contract.Code {
	switch {
	case err == nil:
		return ""
	case errors.As(err, new(*contract.Error)):
		ce, _ := errors.AsType[*contract.Error](err)
		return ce.Code
	case errors.Is(err, dock.ErrInvalidArgument):
		return contract.CodeInvalidArgument
	case errors.Is(err, dock.ErrOutOfRange):
		return contract.CodeOutOfRange
	case errors.Is(err, dock.ErrPrecondition):
		return contract.CodePreconditionFailed
	case errors.Is(err, dock.ErrBusy):
		return contract.CodeBusy
	}
	return contract.CodeInternal
}
