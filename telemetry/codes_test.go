package telemetry

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// TestWireError: every kind of dock error, wrapped or not, maps to its
// contract code, with the details a reply carries.
func TestWireError(t *testing.T) {
	gates := &dock.GateError{Gates: []dock.Gate{{Name: "wind", Unit: "mps", Value: 14, Limit: 12}}}
	tests := []struct {
		name    string
		err     error
		code    contract.Code
		details string // JSON; "" for none
	}{
		{"intake refusal", contract.Errorf(contract.CodeStale, "old"), contract.CodeStale, ""},
		{"invalid argument", dock.Errorf(dock.ErrInvalidArgument, "patrol: no route %q", "x"), contract.CodeInvalidArgument, ""},
		{"out of range with details", &dock.Error{Kind: dock.ErrOutOfRange, Message: "far", Details: map[string]any{"distance_m": 4800}},
			contract.CodeOutOfRange, `{"distance_m":4800}`},
		{"precondition", dock.Errorf(dock.ErrPrecondition, "recall: no sortie in flight"), contract.CodePreconditionFailed, ""},
		{"gates", fmt.Errorf("dispatch: %w", gates), contract.CodePreconditionFailed, `[{"gate":"wind","limit_mps":12,"value_mps":14}]`},
		{"invariant", &dock.InvariantError{Invariant: 2, Action: "close lid", Reason: "vehicle armed"}, contract.CodePreconditionFailed, ""},
		{"e-stop", fmt.Errorf("open lid: %w", dock.ErrEStopLatched), contract.CodePreconditionFailed, ""},
		{"fault", dock.ErrFault, contract.CodePreconditionFailed, ""},
		{"maintenance", dock.ErrMaintenance, contract.CodePreconditionFailed, ""},
		{"not maintenance", fmt.Errorf("lid open: %w", dock.ErrNotMaintenance), contract.CodePreconditionFailed, ""},
		{"power lost", &dock.Error{Kind: dock.ErrPrecondition, Message: "open lid", Err: dock.ErrPowerLost}, contract.CodePreconditionFailed, ""},
		{"busy", fmt.Errorf("set mode: %w", dock.ErrBusy), contract.CodeBusy, ""},
		{"busy kind", dock.Errorf(dock.ErrBusy, "dispatch: 8 dispatches already queued"), contract.CodeBusy, ""},
		{"timeout", dock.ErrTimeout, contract.CodeInternal, ""},
		{"anything else", errors.New("disk full"), contract.CodeInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			we := wireError(tt.err)
			if we.Code != tt.code || codeOf(tt.err) != tt.code {
				t.Errorf("wireError(%v).Code = %s, codeOf = %s; want %s", tt.err, we.Code, codeOf(tt.err), tt.code)
			}
			if we.Message != tt.err.Error() {
				t.Errorf("message = %q, want %q", we.Message, tt.err.Error())
			}
			var got string
			if we.Details != nil {
				b, err := json.Marshal(we.Details)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if got != tt.details {
				t.Errorf("details = %s, want %s", got, tt.details)
			}
		})
	}
	if codeOf(nil) != "" {
		t.Errorf("codeOf(nil) = %q, want empty", codeOf(nil))
	}
}

// TestWireFields: an error in an event's fields goes out as its message,
// an "error" field with its contract code beside; the dock's map is not
// changed.
func TestWireFields(t *testing.T) {
	f := map[string]any{"id": "m1", "error": fmt.Errorf("lid: %w", dock.ErrEStopLatched)}
	got := wireFields(f)
	if got["error"] != "lid: e-stop latched: release the button and send reset" || got["code"] != "precondition_failed" {
		t.Errorf("wireFields() = %v", got)
	}
	if _, ok := f["error"].(error); !ok || f["code"] != nil {
		t.Errorf("wireFields changed its argument: %v", f)
	}
	plain := map[string]any{"n": 1}
	if got := wireFields(plain); len(got) != 1 || got["n"] != 1 {
		t.Errorf("wireFields(no errors) = %v", got)
	}
}
