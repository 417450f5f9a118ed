package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// configCmp compares Configs including their unexported fields.
var configCmp = cmp.AllowUnexported(Config{}, MQTT{}, CommandSigning{}, Signing{})

func TestMarshalRoundTrip(t *testing.T) {
	for _, file := range []string{"examples/dock.yaml", "examples/bench.yaml"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c1, err := Parse(data, filepath.Base(file))
			if err != nil {
				t.Fatalf("Parse(%s) = %v", file, err)
			}
			out, err := Marshal(c1)
			if err != nil {
				t.Fatalf("Marshal() = %v", err)
			}
			c2, err := Parse(out, "marshalled.yaml")
			if err != nil {
				t.Fatalf("Parse(Marshal()) = %v\n%s", err, out)
			}
			if diff := cmp.Diff(c1, c2, configCmp); diff != "" {
				t.Errorf("Parse(Marshal(c)) differs (-before +after):\n%s", diff)
			}
			out2, err := Marshal(c2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(out), string(out2)); diff != "" {
				t.Errorf("Marshal is not stable (-first +second):\n%s", diff)
			}
		})
	}
}

// A config built in Go from Default, as the bench does, writes and loads.
func TestWriteFileGenerated(t *testing.T) {
	coil := func(n int) *ModbusRef { return &ModbusRef{Bus: "io", Unit: 1, Coil: &n} }
	input := func(n int) *ModbusRef { return &ModbusRef{Bus: "io", Unit: 1, Input: &n} }
	c := Default()
	c.ID = "gen-1"
	c.Position = Position{Lat: 24.3504, Lon: 102.542, AltM: 1648}
	c.MQTT.Brokers = []string{"tcp://127.0.0.1:41883"}
	c.MQTT.Username, c.MQTT.Password = "bench", "pw"
	c.Vehicle.URL = "/dev/pts/7"
	c.Vehicle.Baud = 115200
	c.Buses = map[string]Bus{}
	for _, name := range []string{"io", "weather"} {
		var b Bus
		b.setDefaults()
		b.Device = "/dev/pts/" + name
		c.Buses[name] = b
	}
	c.Signals = map[string]Binding{}
	nc, ni := 0, 0
	for _, s := range Signals() {
		if s.Kind == SignalOutput {
			c.Signals[s.Name] = Binding{Modbus: coil(nc)}
			nc++
		} else {
			c.Signals[s.Name] = Binding{Modbus: input(ni), Debounce: 10 * time.Millisecond}
			ni++
		}
	}
	c.Weather.Bus = "weather"
	c.Weather.Registers.WindMPS = &Register{Register: 0, Type: "u16", Scale: 0.1}
	c.Routes = map[string]Route{"demo": {Waypoints: []Waypoint{{Lat: 24.353, Lon: 102.544}}}}
	c.Schedules = []Schedule{{Name: "once", Route: "demo", At: []time.Time{time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)}, TimeZone: "UTC", Grace: time.Minute}}
	c.StateDir = t.TempDir()

	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := WriteFile(path, c); err != nil {
		t.Fatalf("WriteFile() = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("WriteFile() mode = %04o, want 0600", fi.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(WriteFile(c)) = %v", err)
	}
	// Load fills the derived defaults Default leaves to it.
	want := *c
	want.MQTT.ClientID, want.MQTT.TopicPrefix = "dock-agent-gen-1", "dock/gen-1/"
	want.Limits.Geofence.RadiusM = DefaultGeofenceM
	if diff := cmp.Diff(&want, got, configCmp); diff != "" {
		t.Errorf("Load(WriteFile(c)) (-want +got):\n%s", diff)
	}
}
