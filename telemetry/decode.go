package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// Shape limits checked before a command reaches the dock
// (docs/mqtt-api.md). Limits that depend on the dock (altitude against
// limits.max_alt_m, loiter, the response circle, the geofence) are the
// engine's.
const (
	maxIDLen     = 128
	maxRefLen    = 128
	maxReasonLen = 256
	maxNameLen   = 64
)

// routeName is what a route name may contain.
var routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// run executes one decoded command against the dock and returns the
// reply's result.
type run func(ctx context.Context, d Dock, id string) (any, error)

// commandSpec describes one command: its argument fields and how to decode
// them into a call of the dock's typed method.
type commandSpec struct {
	fields   []string // argument keys besides the envelope
	required []string // keys that must be present and non-null
	// parse decodes the arguments (payload is the whole command object:
	// envelope keys are ignored), checks their shape and returns the call.
	parse func(payload []byte) (run, error)
}

// command is the spec of a command with arguments A: check (optional)
// refuses a bad shape, exec calls the dock.
func command[A any](fields, required []string, check func(*A) error, exec func(ctx context.Context, d Dock, id string, a A) (any, error)) commandSpec {
	return commandSpec{fields: fields, required: required, parse: func(payload []byte) (run, error) {
		var a A
		if err := json.Unmarshal(payload, &a); err != nil {
			if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
				return nil, contract.Errorf(contract.CodeInvalidArgument, "%s: want %s, got %s", te.Field, goKindName(te.Type.Kind().String()), te.Value)
			}
			return nil, contract.Errorf(contract.CodeInvalidArgument, "arguments: %s", jsonErrText(err))
		}
		if check != nil {
			if err := check(&a); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context, d Dock, id string) (any, error) { return exec(ctx, d, id, a) }, nil
	}}
}

// noArgs is the spec of a command without arguments.
func noArgs(exec func(ctx context.Context, d Dock, id string) (any, error)) commandSpec {
	return commandSpec{parse: func([]byte) (run, error) { return exec, nil }}
}

// done turns a method that returns only an error into a result: {} on
// success.
func done(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return contract.Empty{}, nil
}

// commandSpecs is the command table of contract v1: the one place a
// command's name decides what runs.
func commandSpecs() map[contract.Command]commandSpec {
	return map[contract.Command]commandSpec{
		contract.CmdDispatch: command([]string{"lat", "lon", "alt_m", "loiter_s", "priority", "ref", "dry_run"}, []string{"lat", "lon"}, checkDispatch,
			func(ctx context.Context, d Dock, id string, a contract.DispatchArgs) (any, error) {
				r, err := d.Sorties.Dispatch(ctx, id, dock.DispatchRequest{Lat: a.Lat, Lon: a.Lon, AltM: a.AltM, LoiterS: a.LoiterS,
					Priority: dock.Priority(a.Priority), Ref: a.Ref, DryRun: a.DryRun})
				if err != nil {
					return nil, err
				}
				return contract.DispatchResult{SortieID: r.SortieID, ETAS: r.ETAS, DistanceM: r.DistanceM, CircleMin: r.CircleMin, Queued: r.Queued}, nil
			}),
		contract.CmdPatrol: command([]string{"route", "dry_run"}, []string{"route"},
			func(a *contract.PatrolArgs) error { return checkRouteName("route", a.Route) },
			func(ctx context.Context, d Dock, id string, a contract.PatrolArgs) (any, error) {
				r, err := d.Sorties.Patrol(ctx, id, a.Route, a.DryRun)
				if err != nil {
					return nil, err
				}
				return contract.PatrolResult{SortieID: r.SortieID, ETAS: r.ETAS}, nil
			}),
		contract.CmdRecall: command([]string{"reason"}, nil,
			func(a *contract.RecallArgs) error {
				if n := len(a.Reason); n > maxReasonLen {
					return contract.Errorf(contract.CodeOutOfRange, "reason: %d bytes, at most %d", n, maxReasonLen)
				}
				return nil
			},
			func(ctx context.Context, d Dock, _ string, a contract.RecallArgs) (any, error) {
				return done(d.Sorties.Recall(ctx, a.Reason))
			}),
		contract.CmdAbort: noArgs(func(ctx context.Context, d Dock, _ string) (any, error) { return done(d.Sorties.Abort(ctx)) }),
		contract.CmdBattery: command([]string{"mode"}, []string{"mode"},
			func(a *contract.BatteryArgs) error { return oneOf("mode", a.Mode, "ready", "storage") },
			func(ctx context.Context, d Dock, _ string, a contract.BatteryArgs) (any, error) {
				return done(d.Sorties.SetBattery(ctx, a.Mode))
			}),
		contract.CmdRoutePut: command([]string{"name", "waypoints", "plan"}, []string{"name"}, checkRoutePut,
			func(ctx context.Context, d Dock, _ string, a contract.RoutePutArgs) (any, error) {
				return d.Sorties.PutRoute(ctx, a.Name, a.Waypoints, a.Plan)
			}),
		contract.CmdRouteDelete: command([]string{"name"}, []string{"name"},
			func(a *contract.RouteNameArgs) error { return checkRouteName("name", a.Name) },
			func(ctx context.Context, d Dock, _ string, a contract.RouteNameArgs) (any, error) {
				return done(d.Sorties.DeleteRoute(ctx, a.Name))
			}),
		contract.CmdRouteList: noArgs(func(ctx context.Context, d Dock, _ string) (any, error) { return d.Sorties.Routes(ctx) }),
		contract.CmdSchedulePut: command([]string{"entries"}, []string{"entries"},
			func(a *contract.SchedulePutArgs) error {
				return jsonKind("entries", a.Entries, '[', "an array of schedule entries")
			},
			func(ctx context.Context, d Dock, _ string, a contract.SchedulePutArgs) (any, error) {
				return d.Sorties.PutSchedule(ctx, a.Entries)
			}),
		contract.CmdScheduleList: noArgs(func(ctx context.Context, d Dock, _ string) (any, error) { return d.Sorties.Schedules(ctx) }),
		contract.CmdLid: command([]string{"action"}, []string{"action"},
			func(a *contract.ActuatorArgs) error { return oneOf("action", a.Action, "open", "close", "stop") },
			func(ctx context.Context, d Dock, id string, a contract.ActuatorArgs) (any, error) {
				return done(d.Maintenance.ManualLid(ctx, id, dock.LidAction(a.Action)))
			}),
		contract.CmdArms: command([]string{"action"}, []string{"action"},
			func(a *contract.ActuatorArgs) error { return oneOf("action", a.Action, "release", "clamp", "stop") },
			func(ctx context.Context, d Dock, id string, a contract.ActuatorArgs) (any, error) {
				return done(d.Maintenance.ManualArms(ctx, id, dock.ArmsAction(a.Action)))
			}),
		contract.CmdCharger: command([]string{"action"}, []string{"action"},
			func(a *contract.ActuatorArgs) error { return oneOf("action", a.Action, "on", "off") },
			func(ctx context.Context, d Dock, _ string, a contract.ActuatorArgs) (any, error) {
				return done(d.Maintenance.ManualCharger(ctx, a.Action == "on"))
			}),
		contract.CmdMode: command([]string{"mode"}, []string{"mode"},
			func(a *contract.ModeArgs) error {
				return oneOf("mode", a.Mode, contract.ModeAuto, contract.ModeMaintenance)
			},
			func(ctx context.Context, d Dock, _ string, a contract.ModeArgs) (any, error) {
				return done(d.Maintenance.SetMode(ctx, dock.Mode(a.Mode)))
			}),
		contract.CmdReset:  noArgs(func(ctx context.Context, d Dock, _ string) (any, error) { return done(d.Maintenance.Reset(ctx)) }),
		contract.CmdStatus: noArgs(func(ctx context.Context, d Dock, _ string) (any, error) { return d.Sorties.Status(ctx) }),
		contract.CmdQuote: command([]string{"lat", "lon", "alt_m"}, []string{"lat", "lon"},
			func(a *contract.QuoteArgs) error { return checkPosition(a.Lat, a.Lon) },
			func(ctx context.Context, d Dock, _ string, a contract.QuoteArgs) (any, error) {
				q, err := d.Sorties.Quote(ctx, a.Lat, a.Lon, a.AltM)
				if err != nil {
					return nil, err
				}
				return quoteResult(q)
			}),
		contract.CmdRetarget: command([]string{"sortie_id", "lat", "lon", "alt_m"}, []string{"lat", "lon"},
			func(a *contract.RetargetArgs) error {
				if n := len(a.SortieID); n > maxIDLen {
					return contract.Errorf(contract.CodeOutOfRange, "sortie_id: %d bytes, at most %d", n, maxIDLen)
				}
				return checkPosition(a.Lat, a.Lon)
			},
			func(ctx context.Context, d Dock, _ string, a contract.RetargetArgs) (any, error) {
				r, err := d.Sorties.Retarget(ctx, a.SortieID, a.Lat, a.Lon, a.AltM)
				if err != nil {
					return nil, err
				}
				return contract.RetargetResult{SortieID: r.SortieID, Phase: string(r.Phase), ETAS: r.ETAS, DistanceM: r.DistanceM,
					PromisedETAS: r.PromisedETAS}, nil
			}),
		contract.CmdAlert: command([]string{"ref", "lat", "lon", "window_s"}, nil, checkAlert,
			func(ctx context.Context, d Dock, _ string, a contract.AlertArgs) (any, error) {
				var w time.Duration
				if a.WindowS != nil {
					w = time.Duration(*a.WindowS * float64(time.Second))
				}
				r, err := d.Sorties.Alert(ctx, a.Ref, a.Lat, a.Lon, w)
				if err != nil {
					return nil, err
				}
				return contract.AlertResult{Until: contract.Time{Time: r.Until}, WindowS: math.Round(r.Window.Seconds()), Extended: r.Extended}, nil
			}),
	}
}

// checkPosition checks that a commanded point is on the Earth; its
// altitude and reach are the engine's limits.
func checkPosition(lat, lon float64) error {
	if lat < -90 || lat > 90 {
		return contract.Errorf(contract.CodeOutOfRange, "lat: %g outside [-90, 90]", lat)
	}
	if lon < -180 || lon > 180 {
		return contract.Errorf(contract.CodeOutOfRange, "lon: %g outside [-180, 180]", lon)
	}
	return nil
}

// checkAlert checks an alert's shape: a bounded ref, a point given whole
// or not at all, a window the dock may stay open for.
func checkAlert(a *contract.AlertArgs) error {
	if n := len(a.Ref); n > maxRefLen {
		return contract.Errorf(contract.CodeOutOfRange, "ref: %d bytes, at most %d", n, maxRefLen)
	}
	if (a.Lat == nil) != (a.Lon == nil) {
		return contract.Errorf(contract.CodeInvalidArgument, "lat and lon: give both or neither")
	}
	if a.Lat != nil {
		if err := checkPosition(*a.Lat, *a.Lon); err != nil {
			return err
		}
	}
	if a.WindowS != nil && !(*a.WindowS > 0 && *a.WindowS <= 600) {
		return contract.Errorf(contract.CodeOutOfRange, "window_s: %g outside (0, 600]", *a.WindowS)
	}
	return nil
}

// quoteResult is a quote on the wire.
func quoteResult(q dock.QuoteResult) (contract.QuoteResult, error) {
	r := contract.QuoteResult{ETAS: q.ETAS, DistanceM: q.DistanceM, CircleMin: q.CircleMin, Ready: q.Ready, Gates: []contract.Gate{}}
	if e := q.Energy; e != nil {
		r.Energy = &contract.QuoteEnergy{NeededPct: e.NeededPct, ReservePct: e.ReservePct, BatteryPct: e.BatteryPct, MarginPct: e.MarginPct}
	}
	for _, g := range q.Gates {
		b, err := json.Marshal(g)
		if err != nil {
			return contract.QuoteResult{}, err
		}
		r.Gates = append(r.Gates, b)
	}
	return r, nil
}

func oneOf(field, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return contract.Errorf(contract.CodeInvalidArgument, "%s: %q is not one of %s", field, v, strings.Join(allowed, ", "))
}

func checkRouteName(field, name string) error {
	if !routeName.MatchString(name) {
		return contract.Errorf(contract.CodeInvalidArgument,
			"%s: %q is not a route name (1-%d letters, digits, '.', '_', '-'; starting with a letter or digit)", field, name, maxNameLen)
	}
	return nil
}

// checkDispatch checks the shape of a dispatch: a position on Earth, a
// known priority, a bounded ref. Altitude and loiter are the engine's
// limits.
func checkDispatch(d *contract.DispatchArgs) error {
	if err := checkPosition(d.Lat, d.Lon); err != nil {
		return err
	}
	if d.Priority != "" {
		if err := oneOf("priority", d.Priority, contract.PriorityAlarm, contract.PriorityRoutine); err != nil {
			return err
		}
	}
	if len(d.Ref) > maxRefLen {
		return contract.Errorf(contract.CodeOutOfRange, "ref: %d bytes, at most %d", len(d.Ref), maxRefLen)
	}
	return nil
}

func checkRoutePut(r *contract.RoutePutArgs) error {
	if err := checkRouteName("name", r.Name); err != nil {
		return err
	}
	hasWP, hasPlan := len(r.Waypoints) > 0, len(r.Plan) > 0
	switch {
	case hasWP == hasPlan:
		return contract.Errorf(contract.CodeInvalidArgument, "route.put: give exactly one of waypoints or plan")
	case hasWP:
		return jsonKind("waypoints", r.Waypoints, '[', "an array of waypoints")
	default:
		return jsonKind("plan", r.Plan, '{', "a QGroundControl .plan object")
	}
}

// jsonKind checks that raw starts with the JSON delimiter open.
func jsonKind(field string, raw json.RawMessage, open byte, want string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != open {
		return contract.Errorf(contract.CodeInvalidArgument, "%s: want %s, got %s", field, want, jsonTypeName(raw))
	}
	return nil
}

func jsonTypeName(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// decoded is the result of decodeCommand.
type decoded struct {
	ID      string
	Name    contract.Command
	Run     run       // the call of the dock's method, arguments bound
	Expires time.Time // zero: none
	TS      time.Time // zero: none (required with signing)
}

// peekID returns the request id of payload when it has a string one, for
// replies to requests that fail validation.
func peekID(payload []byte) string {
	var env struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(payload, &env) != nil {
		return ""
	}
	s, _ := env.ID.(string)
	return s
}

// decodeCommand validates the command payload of the command named name and
// decodes its arguments into the call of the dock's method. On failure it
// returns a *contract.Error with a message naming the field; the
// returned decoded.ID is set whenever the payload carried a usable id. It
// does not look at the clock: expiry and signing are checked by the caller.
func decodeCommand(specs map[contract.Command]commandSpec, name string, payload []byte) (decoded, error) {
	var d decoded
	if len(payload) > MaxCommandBytes {
		return d, contract.Errorf(contract.CodeBadRequest, "payload of %d bytes exceeds %d", len(payload), MaxCommandBytes)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return d, contract.Errorf(contract.CodeBadRequest, "payload is not a JSON object: %s", jsonErrText(err))
	}
	if obj == nil {
		return d, contract.Errorf(contract.CodeBadRequest, "payload is null, want a JSON object")
	}
	rawID, ok := obj["id"]
	if !ok {
		return d, contract.Errorf(contract.CodeBadRequest, "id: missing (every command carries a string id)")
	}
	if err := json.Unmarshal(rawID, &d.ID); err != nil || bytes.Equal(bytes.TrimSpace(rawID), []byte("null")) {
		d.ID = ""
		return d, contract.Errorf(contract.CodeBadRequest, "id: want a string, got %s", jsonTypeName(bytes.TrimSpace(rawID)))
	}
	if d.ID == "" || len(d.ID) > maxIDLen {
		id := d.ID
		d.ID = ""
		return d, contract.Errorf(contract.CodeBadRequest, "id: %d bytes, want 1 to %d", len(id), maxIDLen)
	}
	spec, ok := specs[contract.Command(name)]
	if !ok {
		return d, contract.Errorf(contract.CodeUnknownCommand, "unknown command %q", name)
	}
	for _, k := range []string{"expires", "ts"} {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return d, contract.Errorf(contract.CodeInvalidArgument, "%s: want an RFC 3339 time string, got %s", k, jsonTypeName(bytes.TrimSpace(raw)))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return d, contract.Errorf(contract.CodeInvalidArgument, "%s: %q is not an RFC 3339 time", k, s)
		}
		if k == "expires" {
			d.Expires = t
		} else {
			d.TS = t
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the first unknown field deterministically
	for _, k := range keys {
		envelope := k == "id" || k == "expires" || k == "ts" // accepted by every command
		if !envelope && !slices.Contains(spec.fields, k) {
			if len(spec.fields) == 0 {
				return d, contract.Errorf(contract.CodeInvalidArgument, "%s: unknown field (%s takes no arguments)", k, name)
			}
			return d, contract.Errorf(contract.CodeInvalidArgument, "%s: unknown field (%s takes %s)", k, name, strings.Join(spec.fields, ", "))
		}
	}
	for _, k := range spec.required {
		if raw, ok := obj[k]; !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return d, contract.Errorf(contract.CodeInvalidArgument, "%s: required", k)
		}
	}
	d.Name = contract.Command(name)
	r, err := spec.parse(payload)
	if err != nil {
		return d, err
	}
	d.Run = r
	return d, nil
}

// goKindName turns a Go kind into the JSON type a client should send.
func goKindName(kind string) string {
	switch kind {
	case "float64", "float32", "int", "int64":
		return "number"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	case "slice":
		return "array"
	case "ptr":
		return "number"
	default:
		return kind
	}
}

// jsonErrText is a JSON syntax error without the "json: " prefix of
// encoding/json.
func jsonErrText(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
