package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/dock"
)

// Limits checked before a command reaches the dock (docs/mqtt-api.md).
const (
	maxIDLen     = 128
	maxRefLen    = 128
	maxReasonLen = 256
	minAltM      = 2.0
	maxAltM      = 500.0
	maxLoiterS   = 3600.0
	maxNameLen   = 64
)

// routeName is what a route name may contain.
var routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// commandSpec describes one command: its argument fields, how to decode them
// and how to check their ranges.
type commandSpec struct {
	fields   []string        // argument keys besides the envelope
	required []string        // keys that must be present and non-null
	newArgs  func() any      // pointer to the dock Args struct; nil: no arguments
	check    func(any) error // range checks on the decoded args; nil: none
}

// commandSpecs is the command table of the MQTT contract v1 (DESIGN.md §5).
func commandSpecs() map[dock.CommandName]commandSpec {
	return map[dock.CommandName]commandSpec{
		dock.CmdDispatch: {
			fields:   []string{"lat", "lon", "alt_m", "loiter_s", "priority", "ref", "dry_run"},
			required: []string{"lat", "lon"},
			newArgs:  func() any { return new(dock.DispatchArgs) },
			check:    checkDispatch,
		},
		dock.CmdPatrol: {
			fields: []string{"route", "dry_run"}, required: []string{"route"},
			newArgs: func() any { return new(dock.PatrolArgs) },
			check:   func(a any) error { return checkRouteName("route", a.(*dock.PatrolArgs).Route) },
		},
		dock.CmdRecall: {
			fields:  []string{"reason"},
			newArgs: func() any { return new(dock.RecallArgs) },
			check: func(a any) error {
				if n := len(a.(*dock.RecallArgs).Reason); n > maxReasonLen {
					return dock.Errorf(dock.CodeOutOfRange, "reason: %d bytes, at most %d", n, maxReasonLen)
				}
				return nil
			},
		},
		dock.CmdAbort: {},
		dock.CmdBattery: {
			fields: []string{"mode"}, required: []string{"mode"},
			newArgs: func() any { return new(dock.BatteryArgs) },
			check:   func(a any) error { return oneOf("mode", a.(*dock.BatteryArgs).Mode, "ready", "storage") },
		},
		dock.CmdRoutePut: {
			fields: []string{"name", "waypoints", "plan"}, required: []string{"name"},
			newArgs: func() any { return new(dock.RoutePutArgs) },
			check:   checkRoutePut,
		},
		dock.CmdRouteDelete: {
			fields: []string{"name"}, required: []string{"name"},
			newArgs: func() any { return new(dock.RouteNameArgs) },
			check:   func(a any) error { return checkRouteName("name", a.(*dock.RouteNameArgs).Name) },
		},
		dock.CmdRouteList: {},
		dock.CmdSchedulePut: {
			fields: []string{"entries"}, required: []string{"entries"},
			newArgs: func() any { return new(dock.SchedulePutArgs) },
			check: func(a any) error {
				return jsonKind("entries", a.(*dock.SchedulePutArgs).Entries, '[', "an array of schedule entries")
			},
		},
		dock.CmdScheduleList: {},
		dock.CmdLid:          actuatorSpec("open", "close", "stop"),
		dock.CmdArms:         actuatorSpec("release", "clamp", "stop"),
		dock.CmdCharger:      actuatorSpec("on", "off"),
		dock.CmdMode: {
			fields: []string{"mode"}, required: []string{"mode"},
			newArgs: func() any { return new(dock.ModeArgs) },
			check: func(a any) error {
				return oneOf("mode", string(a.(*dock.ModeArgs).Mode), string(dock.ModeAuto), string(dock.ModeMaintenance))
			},
		},
		dock.CmdReset:  {},
		dock.CmdStatus: {},
		dock.CmdQuote: {
			fields: []string{"lat", "lon", "alt_m"}, required: []string{"lat", "lon"},
			newArgs: func() any { return new(dock.QuoteArgs) },
			check: func(a any) error {
				q := a.(*dock.QuoteArgs)
				return checkPoint(q.Lat, q.Lon, q.AltM)
			},
		},
		dock.CmdRetarget: {
			fields: []string{"sortie_id", "lat", "lon", "alt_m"}, required: []string{"lat", "lon"},
			newArgs: func() any { return new(dock.RetargetArgs) },
			check: func(a any) error {
				r := a.(*dock.RetargetArgs)
				if len(r.SortieID) > maxIDLen {
					return dock.Errorf(dock.CodeOutOfRange, "sortie_id: %d bytes, at most %d", len(r.SortieID), maxIDLen)
				}
				return checkPoint(r.Lat, r.Lon, r.AltM)
			},
		},
		dock.CmdAlert: {
			fields:  []string{"ref", "lat", "lon", "window_s"},
			newArgs: func() any { return new(dock.AlertArgs) },
			check: func(a any) error {
				x := a.(*dock.AlertArgs)
				if len(x.Ref) > maxRefLen {
					return dock.Errorf(dock.CodeOutOfRange, "ref: %d bytes, at most %d", len(x.Ref), maxRefLen)
				}
				if (x.Lat == nil) != (x.Lon == nil) {
					return dock.Errorf(dock.CodeInvalidArgument, "lat and lon: give both or neither")
				}
				if x.Lat != nil {
					if err := checkPoint(*x.Lat, *x.Lon, nil); err != nil {
						return err
					}
				}
				if x.WindowS != nil && !(*x.WindowS > 0 && *x.WindowS <= 600) {
					return dock.Errorf(dock.CodeOutOfRange, "window_s: %g outside (0, 600]", *x.WindowS)
				}
				return nil
			},
		},
	}
}

func actuatorSpec(actions ...string) commandSpec {
	return commandSpec{
		fields: []string{"action"}, required: []string{"action"},
		newArgs: func() any { return new(dock.ActuatorArgs) },
		check:   func(a any) error { return oneOf("action", a.(*dock.ActuatorArgs).Action, actions...) },
	}
}

func oneOf(field, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return dock.Errorf(dock.CodeInvalidArgument, "%s: %q is not one of %s", field, v, strings.Join(allowed, ", "))
}

func checkRouteName(field, name string) error {
	if !routeName.MatchString(name) {
		return dock.Errorf(dock.CodeInvalidArgument,
			"%s: %q is not a route name (1-%d letters, digits, '.', '_', '-'; starting with a letter or digit)", field, name, maxNameLen)
	}
	return nil
}

// checkPoint checks a commanded point's shape: a position on Earth and
// an altitude above home, when given, a vehicle can mean.
func checkPoint(lat, lon float64, altM *float64) error {
	if lat < -90 || lat > 90 {
		return dock.Errorf(dock.CodeOutOfRange, "lat: %g outside [-90, 90]", lat)
	}
	if lon < -180 || lon > 180 {
		return dock.Errorf(dock.CodeOutOfRange, "lon: %g outside [-180, 180]", lon)
	}
	if altM != nil && (*altM < minAltM || *altM > maxAltM) {
		return dock.Errorf(dock.CodeOutOfRange, "alt_m: %g outside [%g, %g] m above home", *altM, minAltM, maxAltM)
	}
	return nil
}

func checkDispatch(a any) error {
	d := a.(*dock.DispatchArgs)
	if err := checkPoint(d.Lat, d.Lon, d.AltM); err != nil {
		return err
	}
	if d.LoiterS != nil && (*d.LoiterS < 0 || *d.LoiterS > maxLoiterS) {
		return dock.Errorf(dock.CodeOutOfRange, "loiter_s: %g outside [0, %g] s", *d.LoiterS, maxLoiterS)
	}
	if d.Priority != "" {
		if err := oneOf("priority", string(d.Priority), string(dock.PriorityAlarm), string(dock.PriorityRoutine)); err != nil {
			return err
		}
	}
	if len(d.Ref) > maxRefLen {
		return dock.Errorf(dock.CodeOutOfRange, "ref: %d bytes, at most %d", len(d.Ref), maxRefLen)
	}
	return nil
}

func checkRoutePut(a any) error {
	r := a.(*dock.RoutePutArgs)
	if err := checkRouteName("name", r.Name); err != nil {
		return err
	}
	hasWP, hasPlan := len(r.Waypoints) > 0, len(r.Plan) > 0
	switch {
	case hasWP == hasPlan:
		return dock.Errorf(dock.CodeInvalidArgument, "route.put: give exactly one of waypoints or plan")
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
		return dock.Errorf(dock.CodeInvalidArgument, "%s: want %s, got %s", field, want, jsonTypeName(raw))
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
	Req     dock.Request
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
// decodes its arguments into the dock Args struct. On failure it returns a
// *dock.Error with the contract code and a message naming the field; the
// returned decoded.ID is set whenever the payload carried a usable id. It
// does not look at the clock: expiry and signing are checked by the caller.
func decodeCommand(specs map[dock.CommandName]commandSpec, name string, payload []byte) (decoded, error) {
	var d decoded
	if len(payload) > MaxCommandBytes {
		return d, dock.Errorf(dock.CodeBadRequest, "payload of %d bytes exceeds %d", len(payload), MaxCommandBytes)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return d, dock.Errorf(dock.CodeBadRequest, "payload is not a JSON object: %s", jsonErrText(err))
	}
	if obj == nil {
		return d, dock.Errorf(dock.CodeBadRequest, "payload is null, want a JSON object")
	}
	rawID, ok := obj["id"]
	if !ok {
		return d, dock.Errorf(dock.CodeBadRequest, "id: missing (every command carries a string id)")
	}
	if err := json.Unmarshal(rawID, &d.ID); err != nil || bytes.Equal(bytes.TrimSpace(rawID), []byte("null")) {
		d.ID = ""
		return d, dock.Errorf(dock.CodeBadRequest, "id: want a string, got %s", jsonTypeName(bytes.TrimSpace(rawID)))
	}
	if d.ID == "" || len(d.ID) > maxIDLen {
		id := d.ID
		d.ID = ""
		return d, dock.Errorf(dock.CodeBadRequest, "id: %d bytes, want 1 to %d", len(id), maxIDLen)
	}
	spec, ok := specs[dock.CommandName(name)]
	if !ok {
		return d, dock.Errorf(dock.CodeUnknownCommand, "unknown command %q", name)
	}
	for _, k := range []string{"expires", "ts"} {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return d, dock.Errorf(dock.CodeInvalidArgument, "%s: want an RFC 3339 time string, got %s", k, jsonTypeName(bytes.TrimSpace(raw)))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return d, dock.Errorf(dock.CodeInvalidArgument, "%s: %q is not an RFC 3339 time", k, s)
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
				return d, dock.Errorf(dock.CodeInvalidArgument, "%s: unknown field (%s takes no arguments)", k, name)
			}
			return d, dock.Errorf(dock.CodeInvalidArgument, "%s: unknown field (%s takes %s)", k, name, strings.Join(spec.fields, ", "))
		}
	}
	for _, k := range spec.required {
		if raw, ok := obj[k]; !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return d, dock.Errorf(dock.CodeInvalidArgument, "%s: required", k)
		}
	}
	d.Req = dock.Request{ID: d.ID, Name: dock.CommandName(name), Expires: d.Expires}
	if spec.newArgs == nil {
		return d, nil
	}
	args := spec.newArgs()
	if err := json.Unmarshal(payload, args); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return d, dock.Errorf(dock.CodeInvalidArgument, "%s: want %s, got %s", te.Field, goKindName(te.Type.Kind().String()), te.Value)
		}
		return d, dock.Errorf(dock.CodeInvalidArgument, "arguments: %s", jsonErrText(err))
	}
	if spec.check != nil {
		if err := spec.check(args); err != nil {
			return d, err
		}
	}
	d.Req.Args = args
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
