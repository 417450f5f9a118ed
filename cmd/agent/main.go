// Command dock-agent is the drone-dock daemon: it drives the dock hardware,
// talks MAVLink to the drone, relays telemetry and takes commands over MQTT,
// and flies patrol and dispatch sorties. See README.md and docs/.
//
// Usage:
//
//	dock-agent [-config /etc/dock-agent/agent.yaml] [-check] [-version]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/dockagent/dock-agent/cmd/agent/app"
	"github.com/dockagent/dock-agent/config"
)

// version is stamped by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dock-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/dock-agent/agent.yaml", "the dock's config `file`")
	check := fs.Bool("check", false, "validate the config, print a summary and exit 0 (valid) or 1")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: dock-agent [-config FILE] [-check] [-version]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dock-agent: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "dock-agent", fullVersion())
		return 0
	}
	if *check {
		// Secret files may be readable only by the service user: -check
		// reports them as missing rather than failing on them.
		cfg, err := config.LoadWithOptions(*path, config.LoadOptions{AllowMissingSecrets: true})
		if err != nil {
			fmt.Fprintln(stderr, err)
			fmt.Fprintf(stderr, "%s: not valid\n", *path)
			return 1
		}
		fmt.Fprint(stdout, cfg.Summary())
		fmt.Fprintf(stdout, "%s: valid\n", *path)
		return 0
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log, _ := app.NewLogger(stderr, cfg.Log.Level, app.LogFormat(cfg.Log.Format))
	log = log.With("dock_id", cfg.ID, "component", "agent")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	procs := app.LimitProcs()
	log.Info("dock agent starting", "version", fullVersion(), "config", *path, "pid", os.Getpid(), "gomaxprocs", procs)
	if err := app.Run(ctx, app.Options{Config: cfg, Version: fullVersion(), Logger: log}); err != nil {
		if !errors.Is(err, context.Canceled) {
			log.Error("dock agent failed", "err", err)
			return 1
		}
	}
	return 0
}

// fullVersion is the stamped version, with the VCS revision when built from
// a checkout.
func fullVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
