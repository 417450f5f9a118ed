package metrics

import (
	"fmt"
	"slices"
	"strings"
)

// lint makes the checks of client_golang's promlint v1.25 (what `promtool
// check metrics` runs) on parsed families, with its texts: help, base
// units, _total on counters only, _bucket/_count/_sum and le/quantile
// reserved, the type not in the name, no colon, snake_case, no
// abbreviated units, no series twice. (Ported when the module dropped
// client_golang, issue 20; TestPromtool runs the real promtool when it is
// installed.)
func lint(fams []parsedFamily) []string {
	var problems []string
	for _, f := range fams {
		add := func(format string, args ...any) {
			problems = append(problems, f.name+": "+fmt.Sprintf(format, args...))
		}
		n := f.name
		lower := strings.ToLower(n)
		if f.help == "" {
			add("no help text")
		}
		if unit, base, ok := metricUnits(n); ok && unit != base {
			add("use base unit %q instead of %q", base, unit)
		}
		switch total := strings.HasSuffix(n, "_total"); {
		case f.typ == "counter" && !total:
			add(`counter metrics should have "_total" suffix`)
		case f.typ != "counter" && total:
			add(`non-counter metrics should not have "_total" suffix`)
		}
		if f.typ != "histogram" && strings.HasSuffix(n, "_bucket") {
			add(`non-histogram metrics should not have "_bucket" suffix`)
		}
		if f.typ != "histogram" && f.typ != "summary" && (strings.HasSuffix(n, "_count") || strings.HasSuffix(n, "_sum")) {
			add(`non-histogram and non-summary metrics should not have "_count" or "_sum" suffix`)
		}
		if strings.Contains(lower, "_"+f.typ+"_") || strings.HasSuffix(lower, "_"+f.typ) {
			add("metric name should not include type '%s'", f.typ)
		}
		if strings.Contains(n, ":") {
			add("metric names should not contain ':'")
		}
		if camelCase(n) {
			add("metric names should be written in 'snake_case' not 'camelCase'")
		}
		for _, a := range []string{"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"} {
			if strings.Contains(lower, "_"+a+"_") || strings.HasSuffix(lower, "_"+a) {
				add("metric names should not contain abbreviated units")
			}
		}
		seen := map[string]bool{}
		for _, s := range f.samples {
			for _, l := range s.labels {
				if camelCase(l.name) {
					add("label names should be written in 'snake_case' not 'camelCase'")
				}
				if l.name == "le" && f.typ != "histogram" {
					add(`non-histogram metrics should not have "le" label`)
				}
				if l.name == "quantile" && f.typ != "summary" {
					add(`non-summary metrics should not have "quantile" label`)
				}
			}
			key := s.name + fmt.Sprint(s.labels)
			if seen[key] {
				add("metric not unique")
			}
			seen[key] = true
		}
	}
	return problems
}

// camelCase reports a lower-case letter followed by an upper-case one.
func camelCase(s string) bool {
	for i := 1; i < len(s); i++ {
		if 'a' <= s[i-1] && s[i-1] <= 'z' && 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// lintUnits maps a unit word of a metric name to its base unit, as
// promlint has them.
var lintUnits = map[string]string{
	"amperes": "amperes", "bytes": "bytes", "celsius": "celsius", "grams": "grams", "joules": "joules",
	"kelvin": "kelvin", "meters": "meters", "metres": "metres", "seconds": "seconds", "volts": "volts",
	"minutes": "seconds", "hours": "seconds", "days": "seconds", "weeks": "seconds",
	"kelvins": "kelvin", "fahrenheit": "celsius", "rankine": "celsius",
	"inches": "meters", "yards": "meters", "miles": "meters", "bits": "bytes",
	"calories": "joules", "pounds": "grams", "ounces": "grams",
}

var lintUnitPrefixes = []string{"pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi",
	"mega", "mebi", "giga", "gibi", "tera", "tebi", "peta", "pebi"}

// metricUnits finds the first unit word of name, prefixed or not.
func metricUnits(name string) (unit, base string, ok bool) {
	for w := range strings.SplitSeq(name, "_") {
		if base, ok := lintUnits[w]; ok {
			return w, base, true
		}
		if i := slices.IndexFunc(lintUnitPrefixes, func(p string) bool {
			_, ok := lintUnits[strings.TrimPrefix(w, p)]
			return strings.HasPrefix(w, p) && ok
		}); i >= 0 {
			return w, lintUnits[strings.TrimPrefix(w, lintUnitPrefixes[i])], true
		}
	}
	return "", "", false
}
