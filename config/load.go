package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadOptions change what Load does with the files a config names.
type LoadOptions struct {
	// AllowMissingSecrets turns a missing secret or TLS file (password,
	// keys, certificates) from an error into a note in Summary, so
	// `dock-agent -check` can validate a config on a machine that does not
	// hold the dock's secrets (a clean checkout, CI). A file that exists is
	// still checked and read. The agent itself loads with the zero value.
	AllowMissingSecrets bool

	// CheckCron, when set, checks each schedule's cron expression with the
	// scheduler's own parser (cmd/agent passes schedule.CheckCron), so that
	// an expression -check accepts is one the agent can run. Config imports
	// no package of ours; nil falls back to a light check of the shape
	// (five fields of cron characters).
	CheckCron func(expr string) error
}

// Load reads, decodes, defaults and validates the config file at path,
// checks the files it names (secret files must not be world-readable) and
// reads the secrets. Relative paths in the file are resolved against its
// directory. Every problem found is returned at once as an *Errors.
func Load(path string) (*Config, error) {
	return LoadWithOptions(path, LoadOptions{})
}

// LoadWithOptions is Load with options.
func LoadWithOptions(path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Errors{Problems: []Problem{{File: path, Msg: fmt.Sprintf("read config: %v", err)}}}
	}
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, &Errors{Problems: []Problem{{File: path, Msg: fmt.Sprintf("resolve directory: %v", err)}}}
	}
	return parse(data, path, base, &opts)
}

// Parse decodes, defaults and validates a config held in data; name is
// used in messages and its directory to resolve relative paths. Parse reads
// no files: secret files are neither checked nor read (use Load).
func Parse(data []byte, name string) (*Config, error) {
	return parse(data, name, filepath.Dir(name), nil)
}

// yamlLineRE picks the line out of a yaml.v3 syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse does the work of Parse and Load; opts nil means read no files.
func parse(data []byte, name, base string, opts *LoadOptions) (c *Config, err error) {
	fail := func(line int, msg string) (*Config, error) {
		return nil, &Errors{Problems: []Problem{{File: name, Line: line, Msg: msg}}}
	}
	var root yaml.Node
	if err := safeDecode(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return fail(line, m[2])
		}
		if errors.Is(err, io.EOF) {
			msg = "the file is empty"
		}
		return fail(0, msg)
	}
	c = Default()
	d := &decoder{file: name, lines: map[string]int{}, budget: nodeBudget}
	if len(root.Content) == 1 {
		d.decode(root.Content[0], reflect.ValueOf(c).Elem(), "")
	}
	applyDerived(c)
	resolvePaths(c, base)
	v := &validator{file: name, lines: d.lines, failed: d.probs, checkCron: checkCron}
	if opts != nil && opts.CheckCron != nil {
		v.checkCron = opts.CheckCron
	}
	validate(c, v)
	if opts != nil {
		checkFiles(c, v, *opts)
	}
	probs := append(d.probs, dropCovered(v.probs, d.probs)...)
	if len(probs) > 0 {
		return nil, &Errors{Problems: sortProblems(probs)}
	}
	return c, nil
}

// safeDecode decodes exactly one YAML document into root. A panic inside
// the YAML parser on hostile input becomes an error.
func safeDecode(data []byte, root *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse this file (%v)", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(root); err != nil {
		return err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	default:
		return fmt.Errorf("yaml: line %d: a second document (---) is not allowed; one file describes one dock", extra.Line)
	}
}

// dropCovered drops validation problems at or below a path whose decoding
// already failed: a value that could not be read is not also out of range.
func dropCovered(val, dec []Problem) []Problem {
	out := val[:0:0]
	for _, p := range val {
		covered := false
		for _, q := range dec {
			if q.Path != "" && (p.Path == q.Path || strings.HasPrefix(p.Path, q.Path+".") || strings.HasPrefix(p.Path, q.Path+"[")) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// resolvePaths makes the file and directory paths of c relative to base.
func resolvePaths(c *Config, base string) {
	c.StateDir = resolve(base, c.StateDir)
	c.MQTT.PasswordFile = resolve(base, c.MQTT.PasswordFile)
	if t := c.MQTT.TLS; t != nil {
		t.CAFile = resolve(base, t.CAFile)
		t.CertFile = resolve(base, t.CertFile)
		t.KeyFile = resolve(base, t.KeyFile)
	}
	if s := c.MQTT.CommandSigning; s != nil {
		s.KeyFile = resolve(base, s.KeyFile)
	}
	if s := c.Vehicle.Signing; s != nil {
		s.KeyFile = resolve(base, s.KeyFile)
	}
	if t := c.Vehicle.TLog; t != nil {
		t.Dir = resolve(base, t.Dir)
	}
	for name, r := range c.Routes {
		if r.PlanFile != "" {
			r.PlanFile = resolve(base, r.PlanFile)
			c.Routes[name] = r
		}
	}
}

// Marshal encodes c as YAML (2-space indent) that Parse reads back to the
// same Config. Secrets set inline are written as they are.
func Marshal(c *Config) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteFile writes c to path with mode 0600 (it may hold a password),
// atomically: a reader sees the old file or the new one.
func WriteFile(path string, c *Config) error {
	data, err := Marshal(c)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write config %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write config %s: %w", path, err)
	}
	return nil
}
