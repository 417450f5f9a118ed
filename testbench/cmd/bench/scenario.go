package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dockagent/dock-agent/testbench/scenario"
	"github.com/dockagent/dock-agent/testbench/world"
)

// runScenario runs one scenario file on a fresh world and returns the exit
// code: 0 only when it passed.
func runScenario(ctx context.Context, file string, opts world.Options, stdout, stderr io.Writer) int {
	s, err := scenario.Load(file)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if opts.BrokerURL == "" {
		opts.BrokerAddr = "127.0.0.1:0" // scenarios never clash with a running bench
	}
	opts.GCS = "none"
	res, err := scenario.Run(ctx, s, opts, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "bench: scenario %s: %v\n", file, err)
		return 1
	}
	if !res.Passed {
		return 1
	}
	return 0
}
