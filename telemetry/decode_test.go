package telemetry

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

// TestDecodeCommandAccepts: each command decodes into the call of the
// dock's typed method with the arguments given (and the request id where
// the method takes one).
func TestDecodeCommandAccepts(t *testing.T) {
	specs := commandSpecs()
	tests := []struct {
		name    string
		command string
		payload string
		want    request
	}{
		{"dispatch minimal", "dispatch", `{"id":"a","lat":53.55,"lon":9.99}`,
			request{contract.CmdDispatch, "a", dock.DispatchRequest{Lat: 53.55, Lon: 9.99}}},
		{"dispatch full", "dispatch", `{"id":"a","lat":-33.9,"lon":151.2,"alt_m":60,"loiter_s":120,"priority":"alarm","ref":"INC-1","dry_run":true,"expires":"2030-01-01T00:00:00Z"}`,
			request{contract.CmdDispatch, "a", dock.DispatchRequest{Lat: -33.9, Lon: 151.2, AltM: ptr(60.0), LoiterS: ptr(120.0), Priority: dock.PriorityAlarm, Ref: "INC-1", DryRun: true}}},
		// Altitude and loiter are the engine's limits (limits.max_alt_m):
		// the intake passes them on.
		{"dispatch high and long", "dispatch", `{"id":"a","lat":1,"lon":2,"alt_m":900,"loiter_s":-1}`,
			request{contract.CmdDispatch, "a", dock.DispatchRequest{Lat: 1, Lon: 2, AltM: ptr(900.0), LoiterS: ptr(-1.0)}}},
		{"patrol", "patrol", `{"id":"a","route":"old-town_2"}`, request{contract.CmdPatrol, "a", contract.PatrolArgs{Route: "old-town_2"}}},
		{"recall", "recall", `{"id":"a","reason":"rain"}`, request{contract.CmdRecall, "", "rain"}},
		{"recall no reason", "recall", `{"id":"a"}`, request{contract.CmdRecall, "", ""}},
		{"abort", "abort", `{"id":"a"}`, request{contract.CmdAbort, "", nil}},
		{"battery", "battery", `{"id":"a","mode":"storage"}`, request{contract.CmdBattery, "", "storage"}},
		{"route.put waypoints", "route.put", `{"id":"a","name":"market","waypoints":[{"lat":1,"lon":2}]}`,
			request{contract.CmdRoutePut, "", contract.RoutePutArgs{Name: "market", Waypoints: json.RawMessage(`[{"lat":1,"lon":2}]`)}}},
		{"route.put plan", "route.put", `{"id":"a","name":"market","plan":{"fileType":"Plan"}}`,
			request{contract.CmdRoutePut, "", contract.RoutePutArgs{Name: "market", Plan: json.RawMessage(`{"fileType":"Plan"}`)}}},
		{"route.delete", "route.delete", `{"id":"a","name":"market"}`, request{contract.CmdRouteDelete, "", "market"}},
		{"route.list", "route.list", `{"id":"a"}`, request{contract.CmdRouteList, "", nil}},
		{"schedule.put", "schedule.put", `{"id":"a","entries":[]}`, request{contract.CmdSchedulePut, "", json.RawMessage(`[]`)}},
		{"schedule.list", "schedule.list", `{"id":"a"}`, request{contract.CmdScheduleList, "", nil}},
		{"lid", "lid", `{"id":"a","action":"open"}`, request{contract.CmdLid, "a", dock.ActionLidOpen}},
		{"arms", "arms", `{"id":"a","action":"clamp"}`, request{contract.CmdArms, "a", dock.ActionArmsClamp}},
		{"charger", "charger", `{"id":"a","action":"off"}`, request{contract.CmdCharger, "", false}},
		{"mode", "mode", `{"id":"a","mode":"maintenance"}`, request{contract.CmdMode, "", dock.ModeMaintenance}},
		{"reset", "reset", `{"id":"a"}`, request{contract.CmdReset, "", nil}},
		{"status", "status", `{"id":"a","ts":"2026-12-05T19:00:00.000Z"}`, request{contract.CmdStatus, "", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeCommand(specs, tt.command, []byte(tt.payload))
			if err != nil {
				t.Fatalf("decodeCommand(%s, %s) = %v, want no error", tt.command, tt.payload, err)
			}
			if d.ID != "a" || string(d.Name) != tt.command {
				t.Errorf("decodeCommand() id %q name %q, want id a, name %s", d.ID, d.Name, tt.command)
			}
			fd := &fakeDock{}
			if _, err := d.Run(t.Context(), fd.dock(), d.ID); err != nil {
				t.Fatalf("run = %v", err)
			}
			got := fd.requests()
			if len(got) != 1 {
				t.Fatalf("dock got %d calls, want 1", len(got))
			}
			if diff := cmp.Diff(tt.want, got[0]); diff != "" {
				t.Errorf("dock call (-want +got):\n%s", diff)
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
		code    contract.Code
		msg     string // substring of the message
		id      string // id the reply can carry
	}{
		{"too large", "status", `{"id":"a","x":"` + strings.Repeat("x", MaxCommandBytes) + `"}`, contract.CodeBadRequest, "exceeds", ""},
		{"not json", "status", `{"id":`, contract.CodeBadRequest, "not a JSON object", ""},
		{"array", "status", `[1]`, contract.CodeBadRequest, "not a JSON object", ""},
		{"null", "status", `null`, contract.CodeBadRequest, "null", ""},
		{"missing id", "status", `{}`, contract.CodeBadRequest, "id: missing", ""},
		{"numeric id", "status", `{"id":7}`, contract.CodeBadRequest, "id: want a string, got a number", ""},
		{"null id", "status", `{"id":null}`, contract.CodeBadRequest, "id: want a string, got null", ""},
		{"empty id", "status", `{"id":""}`, contract.CodeBadRequest, "id: 0 bytes", ""},
		{"unknown command", "fly", `{"id":"a"}`, contract.CodeUnknownCommand, `unknown command "fly"`, "a"},
		{"unknown field", "dispatch", `{"id":"a","lat":1,"lon":2,"speed":3}`, contract.CodeInvalidArgument, "speed: unknown field", "a"},
		{"field on argless", "reset", `{"id":"a","force":true}`, contract.CodeInvalidArgument, "force: unknown field (reset takes no arguments)", "a"},
		{"missing lat", "dispatch", `{"id":"a","lon":2}`, contract.CodeInvalidArgument, "lat: required", "a"},
		{"null lon", "dispatch", `{"id":"a","lat":1,"lon":null}`, contract.CodeInvalidArgument, "lon: required", "a"},
		{"lat string", "dispatch", `{"id":"a","lat":"53.5","lon":2}`, contract.CodeInvalidArgument, "lat: want number, got string", "a"},
		{"dry_run number", "patrol", `{"id":"a","route":"r","dry_run":1}`, contract.CodeInvalidArgument, "dry_run: want boolean, got number", "a"},
		{"lat range", "dispatch", `{"id":"a","lat":90.5,"lon":2}`, contract.CodeOutOfRange, "lat: 90.5 outside [-90, 90]", "a"},
		{"lon range", "dispatch", `{"id":"a","lat":1,"lon":-181}`, contract.CodeOutOfRange, "lon: -181 outside", "a"},
		{"priority", "dispatch", `{"id":"a","lat":1,"lon":2,"priority":"urgent"}`, contract.CodeInvalidArgument, `priority: "urgent" is not one of alarm, routine`, "a"},
		{"route name", "patrol", `{"id":"a","route":"../etc"}`, contract.CodeInvalidArgument, "route: \"../etc\" is not a route name", "a"},
		{"battery mode", "battery", `{"id":"a","mode":"full"}`, contract.CodeInvalidArgument, `mode: "full" is not one of ready, storage`, "a"},
		{"lid action", "lid", `{"id":"a","action":"clamp"}`, contract.CodeInvalidArgument, `action: "clamp" is not one of open, close, stop`, "a"},
		{"charger action", "charger", `{"id":"a","action":"open"}`, contract.CodeInvalidArgument, `action: "open" is not one of on, off`, "a"},
		{"mode", "mode", `{"id":"a","mode":"manual"}`, contract.CodeInvalidArgument, `mode: "manual" is not one of auto, maintenance`, "a"},
		{"route.put both", "route.put", `{"id":"a","name":"r","waypoints":[],"plan":{}}`, contract.CodeInvalidArgument, "exactly one of waypoints or plan", "a"},
		{"route.put neither", "route.put", `{"id":"a","name":"r"}`, contract.CodeInvalidArgument, "exactly one of waypoints or plan", "a"},
		{"route.put waypoints object", "route.put", `{"id":"a","name":"r","waypoints":{}}`, contract.CodeInvalidArgument, "waypoints: want an array of waypoints, got an object", "a"},
		{"schedule.put entries string", "schedule.put", `{"id":"a","entries":"daily"}`, contract.CodeInvalidArgument, "entries: want an array", "a"},
		{"expires not time", "status", `{"id":"a","expires":"tomorrow"}`, contract.CodeInvalidArgument, `expires: "tomorrow" is not an RFC 3339 time`, "a"},
		{"expires number", "status", `{"id":"a","expires":5}`, contract.CodeInvalidArgument, "expires: want an RFC 3339 time string, got a number", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeCommand(specs, tt.command, []byte(tt.payload))
			if err == nil {
				t.Fatalf("decodeCommand(%s, %.80s) = %+v, want %s error", tt.command, tt.payload, d, tt.code)
			}
			if got := codeOf(err); got != tt.code {
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
			if codeOf(err) == contract.CodeInternal {
				t.Fatalf("decodeCommand(%q, %q) = %v with code internal, want a client error code", name, payload, err)
			}
			// The error reply must always encode.
			var m map[string]any
			if jerr := json.Unmarshal(errorReply(d.ID, err), &m); jerr != nil {
				t.Fatalf("error reply does not decode: %v", jerr)
			}
			return
		}
		if d.ID == "" || string(d.Name) != name || d.Run == nil {
			t.Fatalf("decodeCommand(%q, %q) accepted with id %q name %q run %v", name, payload, d.ID, d.Name, d.Run != nil)
		}
		// An accepted command calls the dock exactly once, and its result
		// (the fake's) makes a reply.
		fd := &fakeDock{}
		res, err := d.Run(t.Context(), fd.dock(), d.ID)
		if err != nil || len(fd.requests()) != 1 || string(fd.requests()[0].Name) != name {
			t.Fatalf("run of accepted %q = %v, calls %+v", name, err, fd.requests())
		}
		if _, err := okReply(d.ID, res); err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
	})
}
