package config

import _ "embed"

//go:embed examples/bench.yaml
var benchExample []byte

// BenchExample returns the bench's config file (examples/bench.yaml), the
// base the bench rewrites with its pseudo-terminal paths. A new copy on
// every call.
func BenchExample() []byte { return append([]byte(nil), benchExample...) }
