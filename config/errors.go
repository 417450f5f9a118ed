package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one mistake in a config file.
type Problem struct {
	File string // the file name as given to Load or Parse
	Line int    // 1-based; 0 when the key is absent from the file
	Path string // key path, e.g. "vehicle.baud", "routes.old-town.waypoints[2].lat"
	Msg  string
}

// String formats the problem as `dock.yaml:14: vehicle.baud: 57601 is not
// a standard baud rate (...)`.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem Load or Parse found, in file order. It is the
// only error type they return for a bad config (an unreadable file is
// reported as a Problem too).
type Errors struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders by line (problems of absent keys, line 0, last),
// then path, and drops exact duplicates.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = int(^uint(0) >> 1)
		}
		if lb == 0 {
			lb = int(^uint(0) >> 1)
		}
		return cmp.Or(cmp.Compare(la, lb), cmp.Compare(a.Path, b.Path))
	})
	return slices.Compact(ps)
}
