package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWriteReportRatios: the ratio columns divide by the reference with a
// dedupe at the same rate, per frame written and per frame relayed.
func TestWriteReportRatios(t *testing.T) {
	dd := &refRouter{name: "ref, dedupe", dedupe: true}
	nd := &refRouter{name: "ref, no dedupe"}
	cfgs := []relayConfig{{name: "agent a"}, {name: "agent b", bridge: true}, {name: "agent c", bridge: true}, {name: dd.name, ref: dd}, {name: nd.name, ref: nd}}
	o := reportOptions{phase: time.Second, rates: []int{0, 200}}
	var rows []relayRow
	for c := range cfgs {
		for i, rate := range []int{23, 200} {
			us := float64(10 * (c + 1) * (i + 1))
			rows = append(rows, relayRow{cfg: cfgs[c].name, cfgIdx: c, rate: rate, written: uint64(rate), usFrame: us, usSent: 2 * us, cpuPct: float64(rate) * us / 1e4, repeats: 3})
		}
	}
	var out bytes.Buffer
	writeReport(&out, o, cfgs, 3, rows, nil, []string{"a note."})
	s := out.String()
	for _, want := range []string{
		"| 20.0 µs | 40.0 µs | 0.0 MB | 0.25x / 0.25x |", // agent a at 200: 20 µs against the reference's 80
		"| ref, dedupe | 200 |", "| 1.00x / 1.00x |",
		"(3, relayed: no dedupe)", "a note.",
		"The ratio columns divide by ref, dedupe at the same rate",
		"| ref, no dedupe | 106.5 µs (1.25x) |", // above idle: (2% - 0.115%) / (200 - 23) msgs/s
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}

func TestCPUSampleSub(t *testing.T) {
	a := cpuSample{precise: 100 * time.Millisecond, coarse: 100 * time.Millisecond, ok: true}
	b := cpuSample{precise: 105 * time.Millisecond, coarse: 100 * time.Millisecond, ok: true}
	if d := b.sub(a); d != 5*time.Millisecond {
		t.Errorf("precise: %v, want 5ms", d)
	}
	// A thread exited with its run time: the ticks hold it.
	c := cpuSample{precise: 110 * time.Millisecond, coarse: 200 * time.Millisecond, ok: true}
	if d := c.sub(a); d != 100*time.Millisecond {
		t.Errorf("thread exited: %v, want the ticks' 100ms", d)
	}
	if d := (cpuSample{coarse: 130 * time.Millisecond}).sub(a); d != 30*time.Millisecond {
		t.Errorf("no schedstat: %v, want the ticks' 30ms", d)
	}
}

func TestProcCPU(t *testing.T) {
	s0, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	s1, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := s1.sub(s0); d <= 0 || d > time.Minute {
		t.Errorf("50 ms of spinning measured %v", d)
	}
}
