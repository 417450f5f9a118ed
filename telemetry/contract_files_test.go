package telemetry

import (
	"encoding/json"
	"io/fs"
	"slices"
	"testing"

	"github.com/dockagent/dock-agent/telemetry/schema"
)

// TestCommandTableMatchesSchemas: every command the intake takes has its
// schema file with the same argument keys (plus the envelope) and the same
// required keys, so the files and the code cannot drift apart.
func TestCommandTableMatchesSchemas(t *testing.T) {
	files, err := fs.Glob(schema.FS(), "cmd/*.json")
	if err != nil {
		t.Fatal(err)
	}
	specs := commandSpecs()
	if len(files) != len(specs) {
		t.Errorf("%d command schemas, %d commands in the table", len(files), len(specs))
	}
	for name, spec := range specs {
		b, err := fs.ReadFile(schema.FS(), "cmd/"+string(name)+".json")
		if err != nil {
			t.Errorf("command %s: no schema: %v", name, err)
			continue
		}
		var s struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range s.Properties {
			if k != "id" && k != "expires" && k != "ts" {
				keys = append(keys, k)
			}
		}
		want := slices.Clone(spec.fields)
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("command %s: schema keys %v, table %v", name, keys, want)
		}
		req := slices.DeleteFunc(slices.Clone(s.Required), func(k string) bool { return k == "id" })
		wantReq := slices.Clone(spec.required)
		slices.Sort(req)
		slices.Sort(wantReq)
		if !slices.Equal(req, wantReq) {
			t.Errorf("command %s: schema requires %v, table %v", name, req, wantReq)
		}
	}
}
