package campaign

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Line is the verdict in a few words: "pass (outcome; end)" or
// "FAIL reason".
func (v Verdict) Line() string {
	if v.Pass {
		s := fmt.Sprintf("pass (%s; %s", v.Outcome, v.End)
		if v.Reason != "" {
			s += "; " + v.Reason
		}
		if v.Redelivered > 0 {
			s += fmt.Sprintf("; %d redelivered", v.Redelivered)
		}
		return s + fmt.Sprintf(") %d events, wall %v", v.Events, v.Wall.Round(100*time.Millisecond))
	}
	out := ""
	if v.Outcome != "" {
		out = "outcome " + v.Outcome + "; "
	}
	return "FAIL " + out + v.Reason + fmt.Sprintf(" (wall %v)", v.Wall.Round(100*time.Millisecond))
}

// Matrix is the result of a campaign: one verdict per phase x fault.
type Matrix struct {
	Phases []string
	Faults []string
	Cells  []Verdict // phase-major
}

// Cell returns the verdict of phase x fault.
func (m *Matrix) Cell(phase, fault string) (Verdict, bool) {
	for _, v := range m.Cells {
		if v.Phase == phase && v.Fault == fault {
			return v, true
		}
	}
	return Verdict{}, false
}

// Passed counts the passing cells.
func (m *Matrix) Passed() int {
	n := 0
	for _, v := range m.Cells {
		if v.Pass {
			n++
		}
	}
	return n
}

// RunMatrix runs every phase x fault cell, parallel at a time, calling done
// (from any goroutine, one at a time) as each ends.
func RunMatrix(ctx context.Context, o Options, phases []string, faults []Fault, parallel int, done func(Verdict)) *Matrix {
	m := &Matrix{Phases: phases}
	for _, f := range faults {
		m.Faults = append(m.Faults, f.Name)
	}
	m.Cells = make([]Verdict, len(phases)*len(faults))
	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(1, parallel) {
		wg.Go(func() {
			for i := range jobs {
				p, f := phases[i/len(faults)], faults[i%len(faults)]
				v := RunCell(ctx, o, p, f)
				m.Cells[i] = v
				if done != nil {
					mu.Lock()
					done(v)
					mu.Unlock()
				}
			}
		})
	}
	for i := range m.Cells {
		if ctx.Err() != nil {
			m.Cells[i] = Verdict{Phase: phases[i/len(faults)], Fault: faults[i%len(faults)].Name, Reason: "not run: " + ctx.Err().Error()}
			continue
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return m
}

// Text is the matrix for a terminal: one row per phase, pass or FAIL per
// fault, then the reasons of the failures.
func (m *Matrix) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s", "phase")
	for _, f := range m.Faults {
		fmt.Fprintf(&b, " %-14s", f)
	}
	b.WriteString("\n")
	var fails []string
	for _, p := range m.Phases {
		fmt.Fprintf(&b, "%-11s", p)
		for _, f := range m.Faults {
			v, _ := m.Cell(p, f)
			mark := "pass"
			if !v.Pass {
				mark = "FAIL"
				fails = append(fails, fmt.Sprintf("  %s x %s: %s", p, f, v.Reason))
			}
			fmt.Fprintf(&b, " %-14s", mark)
		}
		b.WriteString("\n")
	}
	for _, f := range fails {
		b.WriteString(f + "\n")
	}
	return b.String()
}

// Markdown is the matrix as the section of docs/reliability.md: the table,
// the end state of each cell, and how it was made.
func (m *Matrix) Markdown(command string, wall time.Duration) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Run %s on %s (%s/%s, %d CPUs, %s), `%s`, wall %v: %d/%d cells pass.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		command, wall.Round(time.Second), m.Passed(), len(m.Cells))
	b.WriteString("| phase |")
	for _, f := range m.Faults {
		b.WriteString(" " + f + " |")
	}
	b.WriteString("\n|---|")
	for range m.Faults {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, p := range m.Phases {
		b.WriteString("| " + p + " |")
		for _, f := range m.Faults {
			v, _ := m.Cell(p, f)
			if v.Pass {
				b.WriteString(" pass |")
			} else {
				b.WriteString(" **FAIL** |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEach cell: sortie outcome; how the dock ended.\n\n")
	for _, v := range m.Cells {
		fmt.Fprintf(&b, "- %s x %s: %s\n", v.Phase, v.Fault, strings.ReplaceAll(v.Line(), "|", "/"))
	}
	return b.String()
}
