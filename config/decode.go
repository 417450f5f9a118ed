package config

import (
	"fmt"
	"iter"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree into a Go value by the yaml tags, so it
// can report every mistake (not the first) with its line and key path,
// reject unknown keys at every depth, and remember the line of every key
// for the validation that follows.
type decoder struct {
	file  string
	probs []Problem
	// lines maps each key path met in the file to its line.
	lines map[string]int
	// budget bounds the nodes visited, so aliases that nest exponentially
	// ("billion laughs") cannot make a small file expensive.
	budget int
	depth  int
}

const (
	nodeBudget = 200000
	maxDepth   = 32
	// maxProblems bounds the decoding problems reported for one file.
	maxProblems = 100
)

func (d *decoder) errf(line int, path, format string, args ...any) {
	if len(d.probs) >= maxProblems {
		if len(d.probs) == maxProblems {
			d.probs = append(d.probs, Problem{File: d.file, Line: line, Msg: "too many problems; fix these first"})
			d.budget = min(d.budget, -2)
		}
		return
	}
	d.probs = append(d.probs, Problem{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// describe names a node's kind for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// decode stores node n into v (settable), at key path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.budget--
	if d.budget < 0 {
		if d.budget == -1 {
			d.errf(n.Line, path, "document too large (aliases nest too deep?)")
		}
		return
	}
	// An alias may refer to its own ancestor; the schema is never deeper
	// than a few levels, so stop long before paths grow large.
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.budget = min(d.budget, -2)
		d.errf(n.Line, path, "nested too deep (an alias that refers to itself?)")
		return
	}
	if isNull(n) {
		// An empty value keeps the default; an empty optional section
		// (tls:) stays off.
		return
	}
	switch v.Type() {
	case reflect.TypeFor[time.Duration]():
		d.decodeDuration(n, v, path)
		return
	case reflect.TypeFor[time.Time]():
		if n.Kind != yaml.ScalarNode {
			d.errf(n.Line, path, "want an RFC 3339 time, got %s", describe(n))
			return
		}
		t, err := time.Parse(time.RFC3339, n.Value)
		if err != nil {
			d.errf(n.Line, path, "%q is not an RFC 3339 time (like 2026-12-05T16:00:00+08:00)", n.Value)
			return
		}
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			e := reflect.New(v.Type().Elem())
			if df, ok := e.Interface().(defaulter); ok {
				df.setDefaults()
			}
			d.decode(n, e.Elem(), path)
			v.Set(e)
			return
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errf(n.Line, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			e := s.Index(i)
			if df, ok := e.Addr().Interface().(defaulter); ok {
				df.setDefaults()
			}
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = c.Line
			d.decode(c, e, p)
		}
		v.Set(s)
	case reflect.Array:
		if n.Kind != yaml.SequenceNode || len(n.Content) != v.Len() {
			d.errf(n.Line, path, "want a list of %d numbers, got %s", v.Len(), describe(n))
			return
		}
		for i, c := range n.Content {
			d.decode(c, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errf(n.Line, path, "want a text value, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.errf(n.Line, path, "%s is not a boolean (use true or false)", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			d.errf(n.Line, path, "%s is not an integer", describe(n))
			return
		}
		if v.OverflowInt(i) {
			d.errf(n.Line, path, "%s is out of range", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
			d.errf(n.Line, path, "%s is not a number", describe(n))
			return
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.errf(n.Line, path, "%s is not a finite number", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		// A field type this decoder does not know is a bug in config.go.
		panic(fmt.Sprintf("config: decode: unsupported type %s at %s", v.Type(), path))
	}
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errf(n.Line, path, "want a duration like 5m or 90s, got %s", describe(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errf(n.Line, path, "%q is not a duration (use Go form like 5m or 90s)", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// pairs returns the key/value nodes of mapping n, expanding merge keys
// (<<: *anchor) so that explicit keys win.
func (d *decoder) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	d.budget--
	if d.budget < 0 {
		return nil
	}
	var merged, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			for val.Kind == yaml.AliasNode && val.Alias != nil {
				val = val.Alias
			}
			srcs := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				srcs = val.Content
			}
			for _, s := range srcs {
				for s.Kind == yaml.AliasNode && s.Alias != nil {
					s = s.Alias
				}
				if s.Kind != yaml.MappingNode {
					d.errf(k.Line, path, "merge (<<) needs a mapping, got %s", describe(s))
					continue
				}
				merged = append(merged, d.pairs(s, path)...)
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, val})
	}
	// Merged keys that the mapping sets itself are overridden, not
	// duplicates; among merged mappings the first wins (YAML merge keys).
	var out [][2]*yaml.Node
	has := func(ps [][2]*yaml.Node, key string) bool {
		return slices.ContainsFunc(ps, func(o [2]*yaml.Node) bool { return o[0].Value == key })
	}
	for _, m := range merged {
		if !has(own, m[0].Value) && !has(out, m[0].Value) {
			out = append(out, m)
		}
	}
	return append(out, own...)
}

// namedPair is one key: value pair of a mapping whose key is a name seen
// once, with the key path of its value.
type namedPair struct {
	key, val *yaml.Node
	path     string
}

// namedPairs yields the pairs of mapping n (merges resolved) whose key is
// a name, reporting every other key and every repeated one as it comes to
// it, so problems stay in the order of the file. A null key is a name to a
// struct (it is then an unknown key) but not to a map.
func (d *decoder) namedPairs(n *yaml.Node, path string, refuseNull bool) iter.Seq[namedPair] {
	return func(yield func(namedPair) bool) {
		seen := map[string]int{}
		for _, kv := range d.pairs(n, path) {
			k, val := kv[0], kv[1]
			if k.Kind != yaml.ScalarNode || refuseNull && isNull(k) {
				d.errf(k.Line, path, "a key must be a name, got %s", describe(k))
				continue
			}
			p := joinPath(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				d.errf(k.Line, p, "duplicate key (first at line %d)", first)
				continue
			}
			seen[k.Value] = k.Line
			if !yield(namedPair{k, val, p}) {
				return
			}
		}
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errf(n.Line, path, "want a mapping (key: value lines), got %s", describe(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var known []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fields[name] = i
		known = append(known, name)
	}
	for kv := range d.namedPairs(n, path, false) {
		k, val, p := kv.key, kv.val, kv.path
		i, ok := fields[k.Value]
		if !ok {
			d.errf(k.Line, p, "unknown key%s", suggest(k.Value, known))
			continue
		}
		d.lines[p] = k.Line
		d.decode(val, v.Field(i), p)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errf(n.Line, path, "want a mapping (name: value lines), got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	et := v.Type().Elem()
	for kv := range d.namedPairs(n, path, true) {
		k, val, p := kv.key, kv.val, kv.path
		d.lines[p] = k.Line
		e := reflect.New(et).Elem()
		if old := v.MapIndex(reflect.ValueOf(k.Value)); old.IsValid() {
			e.Set(old)
		} else if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(val, e, p)
		v.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
}

// suggest returns `; did you mean "x"?` for a close known key, else the
// list of known keys.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		dist := editDistance(key, k)
		if len(k) >= 3 && len(key) >= 3 && (strings.HasPrefix(key, k) || strings.HasPrefix(k, key)) {
			dist = min(dist, 2) // baudrate -> baud, stream -> stream_rates
		}
		if dist < bestD {
			best, bestD = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
