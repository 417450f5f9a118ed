package route

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeWaypoints(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Waypoint
		wantErr string
	}{
		{"minimal", `[{"lat":52.5,"lon":13.4,"alt_m":50}]`, []Waypoint{{Lat: 52.5, Lon: 13.4, AltM: 50}}, ""},
		{"full", `[{"lat":52.5,"lon":13.4,"alt_m":50,"speed_mps":8,"hold_s":2.5},{"lat":-33,"lon":151,"alt_m":0}]`,
			[]Waypoint{{Lat: 52.5, Lon: 13.4, AltM: 50, SpeedMPS: 8, Hold: 2500 * time.Millisecond}, {Lat: -33, Lon: 151}}, ""},
		{"unknown field", `[{"lat":52.5,"lon":13.4,"alt_m":50,"alt":3}]`, nil, `unknown field "alt"`},
		{"missing alt", `[{"lat":52.5,"lon":13.4}]`, nil, "waypoint 0: alt_m: missing"},
		{"lat out of range", `[{"lat":52.5,"lon":13.4,"alt_m":5},{"lat":91,"lon":13.4,"alt_m":5}]`, nil, "waypoint 1: lat: 91 out of range -90..90"},
		{"alt too high", `[{"lat":52.5,"lon":13.4,"alt_m":121}]`, nil, "waypoint 0: alt_m: 121 out of range 0..120"},
		{"negative alt", `[{"lat":52.5,"lon":13.4,"alt_m":-1}]`, nil, "alt_m: -1 out of range"},
		{"negative speed", `[{"lat":52.5,"lon":13.4,"alt_m":1,"speed_mps":-1}]`, nil, "speed_mps: -1 out of range"},
		{"negative hold", `[{"lat":52.5,"lon":13.4,"alt_m":1,"hold_s":-1}]`, nil, "hold_s: -1 out of range"},
		{"empty", `[]`, nil, "no waypoints"},
		{"not an array", `{"lat":1}`, nil, "decode waypoints"},
		{"trailing", `[{"lat":52.5,"lon":13.4,"alt_m":50}] []`, nil, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeWaypoints(json.RawMessage(tt.in), Limits{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecodeWaypoints() error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeWaypoints() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeWaypoints() mismatch (-want +got):\n%s", diff)
			}
			enc, err := EncodeWaypoints(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeWaypoints(enc, Limits{})
			if err != nil || !cmp.Equal(got, again) {
				t.Errorf("re-decode of %s = %v, %v", enc, again, err)
			}
		})
	}
}

func TestDecodePlan(t *testing.T) {
	data, err := os.ReadFile("testdata/patrol.plan")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePlan(data, Limits{})
	if err != nil {
		t.Fatalf("DecodePlan(patrol.plan) error = %v", err)
	}
	want := Plan{
		Waypoints: []Waypoint{
			{Lat: 52.52, Lon: 13.405, AltM: 40},
			{Lat: 52.523, Lon: 13.41, AltM: 60, SpeedMPS: 8, Hold: 5 * time.Second},
			{Lat: 52.525, Lon: 13.4, AltM: 60, SpeedMPS: 8, Hold: 30 * time.Second},
			{Lat: 52.522, Lon: 13.398, AltM: 100, SpeedMPS: 8},
		},
		Home: Point{52.52, 13.405}, HomeAltM: 34, HasHome: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodePlan(patrol.plan) mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodePlanErrors(t *testing.T) {
	survey, err := os.ReadFile("testdata/survey.plan")
	if err != nil {
		t.Fatal(err)
	}
	item := func(items string) string {
		return `{"fileType":"Plan","version":1,"mission":{"version":2,"plannedHomePosition":[52.52,13.405,34],"items":[` + items + `]}}`
	}
	wp := `{"type":"SimpleItem","command":16,"frame":3,"params":[0,0,0,null,52.52,13.41,50]}`
	tests := []struct {
		name      string
		in        string
		wantErr   string
		wantIs    error
		wantIndex int
	}{
		{"complex item", string(survey), "mission item 1", ErrComplexItem, 1},
		{"not json", `{`, "decode plan", nil, -1},
		{"wrong file type", `{"fileType":"Fence","version":1}`, `fileType "Fence"`, nil, -1},
		{"wrong version", `{"fileType":"Plan","version":2}`, "version must be 1", nil, -1},
		{"no mission", `{"fileType":"Plan","version":1}`, "no mission", nil, -1},
		{"unsupported command", item(wp + `,{"type":"SimpleItem","command":206,"frame":2,"params":[1,0,0,0,0,0,0]}`), "unsupported command 206", ErrUnsupportedCommand, 1},
		{"terrain frame", item(`{"type":"SimpleItem","command":16,"frame":10,"params":[0,0,0,null,52.52,13.41,50]}`), "unsupported frame 10", ErrUnsupportedFrame, 0},
		{"item after rtl", item(wp + `,{"type":"SimpleItem","command":20,"frame":2,"params":[]},` + wp), "after the mission ended at item 1", nil, 2},
		{"land away", item(wp + `,{"type":"SimpleItem","command":21,"frame":3,"params":[0,0,0,null,52.6,13.41,0]}`), "landing away", nil, 1},
		{"alt too high", item(`{"type":"SimpleItem","command":16,"frame":3,"params":[0,0,0,null,52.52,13.41,500]}`), "params[6]: 500 out of range", ErrInvalid, 0},
		{"amsl below home", item(`{"type":"SimpleItem","command":16,"frame":0,"params":[0,0,0,null,52.52,13.41,30]}`), "params[6]: -4 out of range", ErrInvalid, 0},
		{"missing lat", item(`{"type":"SimpleItem","command":16,"frame":3,"params":[0,0,0,null,null,13.41,50]}`), "params[4]: missing", ErrInvalid, 0},
		{"short params", item(`{"type":"SimpleItem","command":16,"frame":3,"params":[0]}`), "params[4]: missing", ErrInvalid, 0},
		{"no waypoints", item(`{"type":"SimpleItem","command":20,"frame":2,"params":[]}`), "no waypoints", nil, -1},
		{"bad home", `{"fileType":"Plan","version":1,"mission":{"version":2,"plannedHomePosition":[1],"items":[]}}`, "plannedHomePosition", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodePlan([]byte(tt.in), Limits{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("DecodePlan() error = %v, want containing %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("DecodePlan() error = %v, want errors.Is %v", err, tt.wantIs)
			}
			var ie *ItemError
			if tt.wantIndex >= 0 {
				if !errors.As(err, &ie) || ie.Index != tt.wantIndex {
					t.Errorf("DecodePlan() error = %v, want *ItemError index %d", err, tt.wantIndex)
				}
			}
		})
	}
}

func FuzzDecodePlan(f *testing.F) {
	for _, name := range []string{"testdata/patrol.plan", "testdata/survey.plan"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"fileType":"Plan","version":1,"mission":{"version":2,"items":[{"type":"SimpleItem","command":16,"frame":0,"params":[1,2,3,4,5,6,7]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePlan(data, Limits{})
		if err != nil {
			return
		}
		if len(p.Waypoints) == 0 {
			t.Fatal("DecodePlan accepted a plan without waypoints")
		}
		// Whatever is accepted must pass the waypoint decoder too.
		enc, err := EncodeWaypoints(p.Waypoints)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeWaypoints(enc, Limits{})
		if err != nil {
			t.Fatalf("accepted plan waypoints refused by DecodeWaypoints: %v", err)
		}
		if !cmp.Equal(p.Waypoints, again) {
			t.Fatalf("waypoints changed on re-encoding:\n%v\n%v", p.Waypoints, again)
		}
	})
}

func FuzzDecodeWaypoints(f *testing.F) {
	f.Add([]byte(`[{"lat":52.5,"lon":13.4,"alt_m":50,"speed_mps":8,"hold_s":2.5}]`))
	f.Add([]byte(`[{"lat":-90,"lon":180,"alt_m":0}]`))
	f.Add([]byte(`[{"lat":1e400}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := DecodeWaypoints(data, Limits{})
		if err != nil {
			return
		}
		enc, err := EncodeWaypoints(ws)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeWaypoints(enc, Limits{})
		if err != nil || !cmp.Equal(ws, again) {
			t.Fatalf("re-decode = %v, %v; want %v", again, err, ws)
		}
	})
}

// TestEncodePlanRoundTrip: a route exported as a .plan imports back to the
// same waypoints, home, speeds and holds; the patrol.plan QGroundControl
// wrote does too after one import.
func TestEncodePlanRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/patrol.plan")
	if err != nil {
		t.Fatal(err)
	}
	fromQGC, err := DecodePlan(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		plan Plan
	}{
		{"patrol.plan", fromQGC},
		{"speeds back to cruise, fractional hold, no home", Plan{Waypoints: []Waypoint{
			{Lat: 24.3541, Lon: 102.5443, AltM: 60, SpeedMPS: 12},
			{Lat: 24.358, Lon: 102.54, AltM: 60, Hold: 1500 * time.Millisecond},
			{Lat: -33.8688197, Lon: 151.2092955, AltM: 110.5, SpeedMPS: 12, Hold: 10 * time.Second},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodePlan(tc.plan, PlanOptions{CruiseSpeedMPS: 12, HoverSpeedMPS: 5, FirmwareType: 3})
			if err != nil {
				t.Fatalf("EncodePlan() = %v", err)
			}
			got, err := DecodePlan(b, Limits{})
			if err != nil {
				t.Fatalf("DecodePlan(EncodePlan()) = %v\n%s", err, b)
			}
			if diff := cmp.Diff(tc.plan, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s\n%s", diff, b)
			}
		})
	}
	if _, err := EncodePlan(Plan{}, PlanOptions{}); err == nil {
		t.Error("EncodePlan(no waypoints) = nil error, want one")
	}
	if _, err := EncodePlan(Plan{Waypoints: []Waypoint{{Lat: 95, Lon: 0}}}, PlanOptions{}); err == nil {
		t.Error("EncodePlan(lat 95) = nil error, want one")
	}
}
