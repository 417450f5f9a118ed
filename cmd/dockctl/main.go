// Command dockctl is the operator's tool for a Dock Agent installation.
// Each subcommand lives in its own file; main only dispatches.
//
//	dockctl dump [-format tlog|raw] FILE|-
package main

import (
	"fmt"
	"io"
	"os"
)

// version is stamped by the release build (-ldflags "-X main.version=...").
var version = "dev"

// command is one dockctl subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands lists the subcommands; add new ones here.
func commands() []command {
	return []command{
		{"dump", "print MAVLink frames of a .tlog or raw capture as JSON lines", runDump},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		for _, c := range commands() {
			if c.name == args[0] {
				return c.run(args[1:], stdin, stdout, stderr)
			}
		}
		fmt.Fprintf(stderr, "dockctl: unknown command %q\n", args[0])
	}
	fmt.Fprintln(stderr, "usage: dockctl COMMAND [ARGS]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(stderr, "  %-8s %s\n", c.name, c.summary)
	}
	return 2
}
