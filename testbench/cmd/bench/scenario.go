package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dockagent/dock-agent/testbench/world"
)

func runScenario(ctx context.Context, file string, opts world.Options, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "bench: scenarios are not built yet (%s)\n", file)
	return 1
}
