package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// usage is what a subcommand's -h prints above its flags: the synopsis,
// a paragraph or two on what it does, and examples to copy.
type usage struct {
	synopsis string   // "dockctl dump [-format tlog|raw] FILE|-"
	about    string   // plain text, may hold several lines
	examples []string // one command line each, with a "# why" tail if useful
}

// newFlagSet returns the flag set of subcommand name; its Usage prints u
// and the flags to the set's output (stderr after a usage mistake).
func newFlagSet(name string, u usage, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n", u.synopsis)
		if u.about != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimRight(u.about, "\n"))
		}
		if len(u.examples) > 0 {
			fmt.Fprintln(w, "\nexamples:")
			for _, e := range u.examples {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags runs parse (fs.Parse, or a parse of interleaved flags) and
// says whether the subcommand should stop, with its exit code: after -h or
// -help the usage goes to stdout and the code is 0 (asked for help is not
// a mistake); after a bad flag the message and usage go to stderr, code 2.
func parseFlags(fs *flag.FlagSet, stdout, stderr io.Writer, parse func() error) (code int, stop bool) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := parse()
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		stdout.Write(buf.Bytes())
		return 0, true
	case err != nil:
		stderr.Write(buf.Bytes())
		return 2, true
	}
	return 0, false
}

// isHelp reports whether arg asks for help the way people type it.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// failed reports err as "dockctl CMD: err" on stderr and returns the exit
// code of a subcommand that could not do its work.
func failed(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "dockctl %s: %v\n", cmd, err)
	return 1
}

// interruptContext is a subcommand's context: it ends on Ctrl-C or SIGTERM.
func interruptContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
