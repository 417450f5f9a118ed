// Command dockctl is the operator's tool for a Dock Agent installation.
// Each subcommand lives in its own file; main only dispatches.
//
//	dockctl dump [-format tlog|raw] [-geojson | -kml | -gpx] FILE|-
//	dockctl watch [-dock ID] [-json] [-n N]
//	dockctl send NAME [key=value ...] [-json FILE]
//	dockctl circles [-geojson]
//	dockctl map [-geojson | -kml | -plan ROUTE] [-config FILE]
//	dockctl sorties [-n N] [-state-dir DIR | -wait DURATION]
//
// The MQTT subcommands share the broker flags (-broker, -username,
// -password-file, -ca, -cert, -key, -dock, -prefix) and take defaults from
// the agent's config (-config, /etc/dock-agent/agent.yaml when present).
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
		{"watch", "live view of a dock's status, state, telemetry and events over MQTT", runWatch},
		{"send", "send a command (NAME key=value ...), wait for its reply; exit 1 on an error reply", runSend},
		{"circles", "print the current 1/3/5-minute response circles (-geojson for GeoJSON)", runCircles},
		{"map", "the dock, circles, geofence and routes of the config as GeoJSON or KML; a route as .plan", runMap},
		{"sorties", "recent sortie reports as a table", runSorties},
		{"version", "print dockctl's version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	if isHelp(args[0]) {
		// "dockctl help dump" is "dockctl dump -h".
		if args[0] == "help" && len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				return c.run([]string{"-h"}, stdin, stdout, stderr)
			}
			fmt.Fprintf(stderr, "dockctl help: unknown command %q\n", args[1])
			printUsage(stderr)
			return 2
		}
		printUsage(stdout)
		return 0
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "dockctl: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: dockctl COMMAND [flags] [ARGS]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n\"dockctl COMMAND -h\" (or \"dockctl help COMMAND\") shows a command's flags and examples.\n"+
		"The MQTT commands (watch, send, circles, sorties) take the broker and dock from the\n"+
		"agent's config, "+defaultConfig+", when it exists; -config FILE names another.")
}

func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", usage{synopsis: "dockctl version", about: "Print dockctl's version (stamped by the release build).",
		examples: []string{"dockctl version"}}, stderr)
	if code, stop := parseFlags(fs, stdout, stderr, func() error { return fs.Parse(args) }); stop {
		return code
	}
	fmt.Fprintln(stdout, "dockctl", version)
	return 0
}
