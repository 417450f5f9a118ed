package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dockctlHelp = `usage: dockctl COMMAND [flags] [ARGS]

commands:
  dump     print MAVLink frames
  version  print dockctl's version

"dockctl COMMAND -h" shows a command's flags.
`

const dumpHelp = `usage: dockctl dump [-format tlog|raw] FILE|-

Decode a flight log.
.tlog files start with a timestamp.

examples:
  dockctl dump a\b.tlog

flags:
  -format string
    	input format: tlog or raw
    	(default: by the file name)
  -x	a short flag
`

func TestParseUsage(t *testing.T) {
	got := parseUsage(dumpHelp)
	want := usage{
		synopsis: "dockctl dump [-format tlog|raw] FILE|-",
		about:    []string{"Decode a flight log.\n.tlog files start with a timestamp."},
		examples: []string{`dockctl dump a\b.tlog`},
		flags: []flagDoc{
			{name: "format", arg: "string", text: "input format: tlog or raw (default: by the file name)"},
			{name: "x", text: "a short flag"},
		},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(usage{}, flagDoc{}, command{})); diff != "" {
		t.Errorf("parseUsage(dump) (-want +got):\n%s", diff)
	}
	top := parseUsage(dockctlHelp)
	wantCmds := []command{{name: "dump", summary: "print MAVLink frames"}, {name: "version", summary: "print dockctl's version"}}
	if diff := cmp.Diff(wantCmds, top.commands, cmp.AllowUnexported(usage{}, flagDoc{}, command{})); diff != "" {
		t.Errorf("parseUsage(dockctl) commands (-want +got):\n%s", diff)
	}
	if len(top.about) != 1 || !strings.HasPrefix(top.about[0], `"dockctl COMMAND -h"`) {
		t.Errorf("parseUsage(dockctl) about = %q", top.about)
	}
}

// TestRoff: requests cannot be injected by a line of text, minus signs
// are escaped, and man(1) renders the page without warnings when it is
// installed.
func TestRoff(t *testing.T) {
	p := manPage{name: "dockctl", section: "1", title: "the operator's tool", version: "1.2.3", date: "2026-12-05",
		usage: parseUsage(dockctlHelp), commands: []command{{name: "dump", usage: parseUsage(dumpHelp)}}, seeAlso: []string{"dock-agent(8)"}}
	r := p.roff()
	for _, want := range []string{
		`.TH DOCKCTL 1 "2026-12-05" "dock-agent 1.2.3" "Dock Agent"`,
		"dockctl \\- the operator's tool\n",
		".SS dump\n",
		"\\&.tlog files start with a timestamp.\n",
		".BI \"\\-format \" \"string\"\ninput format: tlog or raw (default: by the file name)\n",
		".B \\-x\n",
		`dockctl dump a\eb.tlog`,
		".BR dock\\-agent (8)\n",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("roff lacks %q:\n%s", want, r)
		}
	}
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("man not installed: rendering not checked")
	}
	path := filepath.Join(t.TempDir(), "dockctl.1")
	if err := os.WriteFile(path, []byte(r), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "--warnings", "-l", path)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "LC_ALL=C.UTF-8")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		t.Errorf("man --warnings: %v: %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "-format string") {
		t.Errorf("rendered page lacks the -format flag:\n%s", out.String())
	}
}
