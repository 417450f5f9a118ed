// Package schema holds the MQTT contract as JSON Schema files (draft
// 2020-12), one per message the agent publishes and per command and
// result it takes, and a Validator that checks a message against the
// schema its topic names. docs/mqtt-api.md describes the same contract in
// prose; tests check the agent's messages on the bench and the docs'
// examples against these files.
package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json cmd/*.json result/*.json asyncapi.yaml
var files embed.FS

// FS returns the schema files: defs.json, status.json, state.json,
// circles.json, telemetry.json, event.json, reply.json, cmd/<name>.json,
// result/<name>.json, and asyncapi.yaml (the topics).
func FS() fs.FS { return files }

// Base is the $id prefix of every schema file.
const Base = "https://github.com/dockagent/dock-agent/telemetry/schema/"

// Validator checks messages against the compiled schemas.
type Validator struct {
	byPath map[string]*jsonschema.Schema
}

// NewValidator compiles every schema file.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	var paths []string
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("schema %s: %w", p, err)
		}
		if err := c.AddResource(Base+p, doc); err != nil {
			return fmt.Errorf("schema %s: %w", p, err)
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := &Validator{byPath: map[string]*jsonschema.Schema{}}
	for _, p := range paths {
		s, err := c.Compile(Base + p)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", p, err)
		}
		v.byPath[p] = s
	}
	return v, nil
}

// ErrNoSchema is returned for a topic the contract has no JSON schema for
// (the raw MAVLink bridge's binary frames).
var ErrNoSchema = errors.New("no schema for this topic")

// Check validates payload as the message on topic, given without the dock
// prefix: "state", "events", "cmd/dispatch", "cmd/dispatch/reply" (the
// envelope, and the result against result/dispatch.json when ok).
func (v *Validator) Check(topic string, payload []byte) error {
	if strings.HasPrefix(topic, "mavlink/") {
		return fmt.Errorf("%s: %w", topic, ErrNoSchema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("%s: not JSON: %w", topic, err)
	}
	switch topic {
	case "status", "state", "circles", "telemetry":
		return v.validate(topic+".json", topic, doc)
	case "events":
		return v.validate("event.json", topic, doc)
	}
	name, ok := strings.CutPrefix(topic, "cmd/")
	if !ok {
		return fmt.Errorf("%s: %w", topic, ErrNoSchema)
	}
	if cmd, ok := strings.CutSuffix(name, "/reply"); ok {
		if err := v.validate("reply.json", topic, doc); err != nil {
			return err
		}
		var r struct {
			OK     bool            `json:"ok"`
			Result json.RawMessage `json:"result"`
		}
		if json.Unmarshal(payload, &r) != nil || !r.OK || cmd == "_error" {
			return nil
		}
		res, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Result))
		if err != nil {
			return fmt.Errorf("%s: result: %w", topic, err)
		}
		return v.validate("result/"+cmd+".json", topic+" result", res)
	}
	return v.validate("cmd/"+name+".json", topic, doc)
}

func (v *Validator) validate(path, what string, doc any) error {
	s, ok := v.byPath[path]
	if !ok {
		return fmt.Errorf("%s: %w (%s)", what, ErrNoSchema, path)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s against %s: %w", what, path, err)
	}
	return nil
}
