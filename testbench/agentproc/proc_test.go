package agentproc

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/goleak"
)

// TestMain doubles as the child: with AGENTPROC_CHILD set, the test binary
// behaves like a minimal agent that reports READY=1 and exits 0 on SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("AGENTPROC_CHILD") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		daemon.SdNotify(false, "STATUS=starting")
		daemon.SdNotify(false, daemon.SdNotifyReady)
		<-ctx.Done()
		daemon.SdNotify(false, daemon.SdNotifyStopping)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func TestStartReadyTermKillRestart(t *testing.T) {
	a, err := New(Options{Args: []string{"-test.run=^$"}, Env: []string{"AGENTPROC_CHILD=1"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	seen, err := a.Notify().WaitFor(ctx, "READY=1")
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "STATUS=starting" {
		t.Errorf("assignments before READY=1 = %q, want [STATUS=starting]", seen)
	}
	pid := a.PID()
	u, err := ReadUsage(pid)
	if err != nil {
		t.Fatal(err)
	}
	if u.RSSBytes <= 0 || u.Threads <= 0 {
		t.Errorf("ReadUsage(%d) = %+v, want positive RSS and threads", pid, u)
	}
	if err := a.Start(); err == nil {
		t.Error("Start() while running = nil, want an error")
	}
	if err := a.Signal(ctx, syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM = %v, want clean exit", err)
	}
	if _, err := a.Notify().WaitFor(ctx, "STOPPING=1"); err != nil {
		t.Error(err)
	}

	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Notify().WaitFor(ctx, "READY=1"); err != nil {
		t.Fatal(err)
	}
	if a.PID() == pid {
		t.Errorf("restarted agent has the old pid %d", pid)
	}
	if err := a.Signal(ctx, syscall.SIGKILL); err == nil {
		t.Error("exit after SIGKILL = nil, want a killed-by-signal error")
	}
	if a.PID() != 0 {
		t.Errorf("PID() after kill = %d, want 0", a.PID())
	}
}
