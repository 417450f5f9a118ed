package config

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and a
// config it accepts must survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"examples/dock.yaml", "examples/bench.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(baseYAML))
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("id: x\n<<: {position: {lat: 1}}\n"))
	f.Add([]byte("vehicle: {url: 'udpin://:14550', forward: [{url: 'udp://1.2.3.4:14550', sysids: [1]}]}\n"))
	f.Add([]byte("limits: {geofence: {polygon: [[1, 2], [3, 4], [5]]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal(Parse()) = %v", err)
		}
		c2, err := Parse(out, "fuzz.yaml")
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse())) = %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, c2, configCmp); diff != "" {
			t.Fatalf("round trip differs (-before +after):\n%s", diff)
		}
	})
}
