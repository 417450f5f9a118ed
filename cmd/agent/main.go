// Command dock-agent is the drone-dock daemon: it drives the dock hardware,
// talks MAVLink to the drone, relays telemetry and takes commands over MQTT,
// and flies patrol and dispatch sorties. See README.md and docs/.
//
// Usage:
//
//	dock-agent [-config /etc/dock-agent/agent.yaml] [-check] [-version]
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
	"runtime/debug"
	"syscall"

	"github.com/dockagent/dock-agent/cmd/agent/app"
	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock/schedule"
)

// usageText is the top of -h, above the flags; the man page dock-agent(8)
// is generated from it (deploy/genman).
const usageText = `usage: dock-agent [-config FILE] [-check] [-version]

Dock Agent is the daemon inside a patrol-drone dock: it drives the lid,
centering arms and charger with safety interlocks, reads the weather station,
talks MAVLink to the drone, flies scheduled patrols and dispatches, and reports
state, telemetry and durable events over MQTT. It runs as the systemd service
dock-agent.service (Type=notify, with a watchdog) and logs to the journal.

-check validates the config without touching any hardware: it prints a summary
and exits 0, or lists every mistake with its file, line and key path and exits 1.

examples:
  dock-agent -check -config /etc/dock-agent/agent.yaml
  systemctl enable --now dock-agent
  journalctl -u dock-agent -f

flags:
`

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
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	// -h is asked for: usage on stdout and exit 0; a bad flag is a mistake:
	// stderr and exit 2.
	var help bytes.Buffer
	fs.SetOutput(&help)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		stdout.Write(help.Bytes())
		return 0
	}
	if err != nil {
		stderr.Write(help.Bytes())
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
		cfg, err := config.LoadWithOptions(*path, config.LoadOptions{AllowMissingSecrets: true, CheckCron: schedule.CheckCron})
		if err != nil {
			fmt.Fprintln(stderr, err)
			fmt.Fprintf(stderr, "%s: not valid\n", *path)
			return 1
		}
		fmt.Fprint(stdout, cfg.Summary())
		fmt.Fprintf(stdout, "%s: valid\n", *path)
		return 0
	}
	cfg, err := config.LoadWithOptions(*path, config.LoadOptions{CheckCron: schedule.CheckCron})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log, _ := app.NewLogger(stderr, cfg.Log.Level, app.LogFormat(cfg.Log.Format))
	log = log.With("dock_id", cfg.ID, "component", "agent")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	procs, gogc := app.LimitProcs(), app.LimitHeap()
	log.Info("dock agent starting", "version", fullVersion(), "config", *path, "pid", os.Getpid(), "gomaxprocs", procs, "gogc", gogc)
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
