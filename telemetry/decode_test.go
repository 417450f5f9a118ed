package telemetry

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/dock"
	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestDecodeCommandAccepts(t *testing.T) {
	specs := commandSpecs()
	tests := []struct {
		name    string
		command string
		payload string
		want    any
	}{
		{"dispatch minimal", "dispatch", `{"id":"a","lat":53.55,"lon":9.99}`, &dock.DispatchArgs{Lat: 53.55, Lon: 9.99}},
		{"dispatch full", "dispatch", `{"id":"a","lat":-33.9,"lon":151.2,"alt_m":60,"loiter_s":120,"priority":"alarm","ref":"INC-1","dry_run":true,"expires":"2030-01-01T00:00:00Z"}`,
			&dock.DispatchArgs{Lat: -33.9, Lon: 151.2, AltM: ptr(60.0), LoiterS: ptr(120.0), Priority: dock.PriorityAlarm, Ref: "INC-1", DryRun: true}},
		{"patrol", "patrol", `{"id":"a","route":"old-town_2"}`, &dock.PatrolArgs{Route: "old-town_2"}},
		{"recall", "recall", `{"id":"a","reason":"rain"}`, &dock.RecallArgs{Reason: "rain"}},
		{"recall no reason", "recall", `{"id":"a"}`, &dock.RecallArgs{}},
		{"abort", "abort", `{"id":"a"}`, nil},
		{"battery", "battery", `{"id":"a","mode":"storage"}`, &dock.BatteryArgs{Mode: "storage"}},
		{"route.put waypoints", "route.put", `{"id":"a","name":"market","waypoints":[{"lat":1,"lon":2}]}`,
			&dock.RoutePutArgs{Name: "market", Waypoints: json.RawMessage(`[{"lat":1,"lon":2}]`)}},
		{"route.put plan", "route.put", `{"id":"a","name":"market","plan":{"fileType":"Plan"}}`,
			&dock.RoutePutArgs{Name: "market", Plan: json.RawMessage(`{"fileType":"Plan"}`)}},
		{"route.delete", "route.delete", `{"id":"a","name":"market"}`, &dock.RouteNameArgs{Name: "market"}},
		{"route.list", "route.list", `{"id":"a"}`, nil},
		{"schedule.put", "schedule.put", `{"id":"a","entries":[]}`, &dock.SchedulePutArgs{Entries: json.RawMessage(`[]`)}},
		{"schedule.list", "schedule.list", `{"id":"a"}`, nil},
		{"lid", "lid", `{"id":"a","action":"open"}`, &dock.ActuatorArgs{Action: "open"}},
		{"arms", "arms", `{"id":"a","action":"clamp"}`, &dock.ActuatorArgs{Action: "clamp"}},
		{"charger", "charger", `{"id":"a","action":"off"}`, &dock.ActuatorArgs{Action: "off"}},
		{"mode", "mode", `{"id":"a","mode":"maintenance"}`, &dock.ModeArgs{Mode: dock.ModeMaintenance}},
		{"reset", "reset", `{"id":"a"}`, nil},
		{"status", "status", `{"id":"a","ts":"2026-12-05T19:00:00.000Z"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeCommand(specs, tt.command, []byte(tt.payload))
			if err != nil {
				t.Fatalf("decodeCommand(%s, %s) = %v, want no error", tt.command, tt.payload, err)
			}
			if d.ID != "a" || d.Req.ID != "a" || string(d.Req.Name) != tt.command {
				t.Errorf("decodeCommand() id %q req %+v, want id a, name %s", d.ID, d.Req, tt.command)
			}
			if tt.want == nil {
				if d.Req.Args != nil {
					t.Errorf("decodeCommand() args = %#v, want nil", d.Req.Args)
				}
				return
			}
			if diff := cmp.Diff(tt.want, d.Req.Args); diff != "" {
				t.Errorf("decodeCommand() args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeCommandRejects(t *testing.T) {
	specs := commandSpecs()
	tests := []struct {
		name    string
		command string
		payload string
		code    dock.Code
		msg     string // substring of the message
		id      string // id the reply can carry
	}{
		{"too large", "status", `{"id":"a","x":"` + strings.Repeat("x", MaxCommandBytes) + `"}`, dock.CodeBadRequest, "exceeds", ""},
		{"not json", "status", `{"id":`, dock.CodeBadRequest, "not a JSON object", ""},
		{"array", "status", `[1]`, dock.CodeBadRequest, "not a JSON object", ""},
		{"null", "status", `null`, dock.CodeBadRequest, "null", ""},
		{"missing id", "status", `{}`, dock.CodeBadRequest, "id: missing", ""},
		{"numeric id", "status", `{"id":7}`, dock.CodeBadRequest, "id: want a string, got a number", ""},
		{"null id", "status", `{"id":null}`, dock.CodeBadRequest, "id: want a string, got null", ""},
		{"empty id", "status", `{"id":""}`, dock.CodeBadRequest, "id: 0 bytes", ""},
		{"unknown command", "fly", `{"id":"a"}`, dock.CodeUnknownCommand, `unknown command "fly"`, "a"},
		{"unknown field", "dispatch", `{"id":"a","lat":1,"lon":2,"speed":3}`, dock.CodeInvalidArgument, "speed: unknown field", "a"},
		{"field on argless", "reset", `{"id":"a","force":true}`, dock.CodeInvalidArgument, "force: unknown field (reset takes no arguments)", "a"},
		{"missing lat", "dispatch", `{"id":"a","lon":2}`, dock.CodeInvalidArgument, "lat: required", "a"},
		{"null lon", "dispatch", `{"id":"a","lat":1,"lon":null}`, dock.CodeInvalidArgument, "lon: required", "a"},
		{"lat string", "dispatch", `{"id":"a","lat":"53.5","lon":2}`, dock.CodeInvalidArgument, "lat: want number, got string", "a"},
		{"dry_run number", "patrol", `{"id":"a","route":"r","dry_run":1}`, dock.CodeInvalidArgument, "dry_run: want boolean, got number", "a"},
		{"lat range", "dispatch", `{"id":"a","lat":90.5,"lon":2}`, dock.CodeOutOfRange, "lat: 90.5 outside [-90, 90]", "a"},
		{"lon range", "dispatch", `{"id":"a","lat":1,"lon":-181}`, dock.CodeOutOfRange, "lon: -181 outside", "a"},
		{"alt range", "dispatch", `{"id":"a","lat":1,"lon":2,"alt_m":900}`, dock.CodeOutOfRange, "alt_m: 900 outside [2, 500]", "a"},
		{"loiter range", "dispatch", `{"id":"a","lat":1,"lon":2,"loiter_s":-1}`, dock.CodeOutOfRange, "loiter_s: -1 outside", "a"},
		{"priority", "dispatch", `{"id":"a","lat":1,"lon":2,"priority":"urgent"}`, dock.CodeInvalidArgument, `priority: "urgent" is not one of alarm, routine`, "a"},
		{"route name", "patrol", `{"id":"a","route":"../etc"}`, dock.CodeInvalidArgument, "route: \"../etc\" is not a route name", "a"},
		{"battery mode", "battery", `{"id":"a","mode":"full"}`, dock.CodeInvalidArgument, `mode: "full" is not one of ready, storage`, "a"},
		{"lid action", "lid", `{"id":"a","action":"clamp"}`, dock.CodeInvalidArgument, `action: "clamp" is not one of open, close, stop`, "a"},
		{"charger action", "charger", `{"id":"a","action":"open"}`, dock.CodeInvalidArgument, `action: "open" is not one of on, off`, "a"},
		{"mode", "mode", `{"id":"a","mode":"manual"}`, dock.CodeInvalidArgument, `mode: "manual" is not one of auto, maintenance`, "a"},
		{"route.put both", "route.put", `{"id":"a","name":"r","waypoints":[],"plan":{}}`, dock.CodeInvalidArgument, "exactly one of waypoints or plan", "a"},
		{"route.put neither", "route.put", `{"id":"a","name":"r"}`, dock.CodeInvalidArgument, "exactly one of waypoints or plan", "a"},
		{"route.put waypoints object", "route.put", `{"id":"a","name":"r","waypoints":{}}`, dock.CodeInvalidArgument, "waypoints: want an array of waypoints, got an object", "a"},
		{"schedule.put entries string", "schedule.put", `{"id":"a","entries":"daily"}`, dock.CodeInvalidArgument, "entries: want an array", "a"},
		{"expires not time", "status", `{"id":"a","expires":"tomorrow"}`, dock.CodeInvalidArgument, `expires: "tomorrow" is not an RFC 3339 time`, "a"},
		{"expires number", "status", `{"id":"a","expires":5}`, dock.CodeInvalidArgument, "expires: want an RFC 3339 time string, got a number", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeCommand(specs, tt.command, []byte(tt.payload))
			if err == nil {
				t.Fatalf("decodeCommand(%s, %.80s) = %+v, want %s error", tt.command, tt.payload, d.Req, tt.code)
			}
			if got := dock.CodeOf(err); got != tt.code {
				t.Errorf("decodeCommand(%s, %.80s) code = %s (%v), want %s", tt.command, tt.payload, got, err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("decodeCommand(%s, %.80s) message = %q, want it to contain %q", tt.command, tt.payload, err, tt.msg)
			}
			if d.ID != tt.id {
				t.Errorf("decodeCommand() id = %q, want %q", d.ID, tt.id)
			}
		})
	}
}

func FuzzDecodeCommand(f *testing.F) {
	seeds := []struct{ name, payload string }{
		{"dispatch", `{"id":"a","lat":53.55,"lon":9.99,"alt_m":60,"priority":"alarm","expires":"2026-12-05T19:00:00Z"}`},
		{"patrol", `{"id":"b","route":"old-town","dry_run":true}`},
		{"route.put", `{"id":"c","name":"r","waypoints":[{"lat":1,"lon":2,"alt_m":40}]}`},
		{"route.put", `{"id":"c","name":"r","plan":{"fileType":"Plan","mission":{"items":[]}}}`},
		{"schedule.put", `{"id":"d","entries":[{"route":"r","cron":"0 */2 * * *"}]}`},
		{"lid", `{"id":"e","action":"open"}`},
		{"mode", `{"id":"f","mode":"auto","ts":"2026-12-05T19:00:00.123Z"}`},
		{"status", `{"id":7}`},
		{"fly", `{"id":"g"}`},
		{"dispatch", `{"id":"h","lat":"x"}`},
		{"dispatch", `not json`},
	}
	for _, s := range seeds {
		f.Add(s.name, []byte(s.payload))
	}
	specs := commandSpecs()
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		d, err := decodeCommand(specs, name, payload)
		if err != nil {
			if dock.CodeOf(err) == dock.CodeInternal {
				t.Fatalf("decodeCommand(%q, %q) = %v with code internal, want a client error code", name, payload, err)
			}
			// The error reply must always encode.
			var m map[string]any
			if jerr := json.Unmarshal(errorReply(d.ID, err), &m); jerr != nil {
				t.Fatalf("error reply does not decode: %v", jerr)
			}
			return
		}
		if d.ID == "" || d.Req.ID != d.ID || string(d.Req.Name) != name {
			t.Fatalf("decodeCommand(%q, %q) accepted with id %q req %+v", name, payload, d.ID, d.Req)
		}
		if d.Req.Args != nil {
			if _, err := json.Marshal(d.Req.Args); err != nil {
				t.Fatalf("accepted args do not re-encode: %v", err)
			}
		}
	})
}
