package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// buildAgent builds cmd/agent into dir the way scripts/release.sh builds
// the binary a dock runs (static, -trimpath, symbols stripped) and returns
// its path. The harness measures that program: the bench binary's own
// agent child also links the simulators, the embedded broker and the
// dynamic C library, which the board never loads, so its RSS and start
// time are not the dock's.
func buildAgent(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "dock-agent")
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"),
		"build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/dockagent/dock-agent/cmd/agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the agent (run from the repository): %w\n%s", err, out)
	}
	return bin, nil
}

// agentBinary returns the agent executable to measure: path when given,
// else one built by buildAgent into a temporary directory (removed by the
// returned cleanup).
func agentBinary(ctx context.Context, path string) (string, func(), error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", nil, fmt.Errorf("-agent: %w", err)
		}
		return path, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "load-agent-")
	if err != nil {
		return "", nil, err
	}
	bin, err := buildAgent(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
