package agentproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options say how to start the agent process.
type Options struct {
	Path   string   // executable; empty means this very binary (os.Executable)
	Args   []string // arguments after the program name
	Env    []string // extra environment (KEY=VALUE), added to the bench's own
	Dir    string   // working directory and home of the notify socket
	Stdout io.Writer
	Stderr io.Writer
}

// Agent is one agent process (restartable). Methods are safe for
// concurrent use.
type Agent struct {
	opts   Options
	notify *NotifySocket

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd exits
	exitErr error
	started time.Time
}

// New prepares an agent; Start runs it.
func New(opts Options) (*Agent, error) {
	if opts.Path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own executable to run the agent: %w", err)
		}
		opts.Path = exe
	}
	ns, err := ListenNotify(opts.Dir)
	if err != nil {
		return nil, err
	}
	return &Agent{opts: opts, notify: ns}, nil
}

// Notify returns the notify socket the agent reports to.
func (a *Agent) Notify() *NotifySocket { return a.notify }

// Start starts the process. It fails if one is already running.
func (a *Agent) Start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd != nil {
		select {
		case <-a.done:
		default:
			return errors.New("start agent: already running")
		}
	}
	cmd := exec.Command(a.opts.Path, a.opts.Args...)
	cmd.Env = append(append(os.Environ(), a.opts.Env...), "NOTIFY_SOCKET="+a.notify.Path)
	cmd.Dir = a.opts.Dir
	cmd.Stdout = a.opts.Stdout
	cmd.Stderr = a.opts.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent %s: %w", a.opts.Path, err)
	}
	done := make(chan struct{})
	a.cmd, a.done, a.exitErr, a.started = cmd, done, nil, time.Now()
	go func() {
		err := cmd.Wait()
		a.mu.Lock()
		a.exitErr = err
		a.mu.Unlock()
		close(done)
	}()
	return nil
}

// PID returns the running process id, or 0.
func (a *Agent) PID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil || a.cmd.Process == nil {
		return 0
	}
	select {
	case <-a.done:
		return 0
	default:
		return a.cmd.Process.Pid
	}
}

// Started returns when the current process was started.
func (a *Agent) Started() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.started
}

// Signal sends sig and, for SIGTERM and SIGKILL, waits for the exit (bounded
// by ctx). It returns the process's exit error (nil for a clean exit).
func (a *Agent) Signal(ctx context.Context, sig syscall.Signal) error {
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.mu.Unlock()
	if cmd == nil {
		return errors.New("signal agent: not started")
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal agent pid %d: %w", cmd.Process.Pid, err)
	}
	if sig != syscall.SIGTERM && sig != syscall.SIGKILL && sig != syscall.SIGINT {
		return nil
	}
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("wait for agent pid %d to exit after %v: %w", cmd.Process.Pid, sig, ctx.Err())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exitErr
}

// Wait waits for the current process to exit and returns its exit error.
func (a *Agent) Wait(ctx context.Context) error {
	a.mu.Lock()
	done := a.done
	a.mu.Unlock()
	if done == nil {
		return errors.New("wait for agent: not started")
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exitErr
}

// Close kills a running process and closes the notify socket.
func (a *Agent) Close() error {
	if a.PID() != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.Signal(ctx, syscall.SIGKILL)
		cancel()
	}
	return a.notify.Close()
}

// Usage is what /proc says of a process.
type Usage struct {
	CPU      time.Duration // user + system time
	RSSBytes int64         // resident set now
	HWMBytes int64         // peak resident set (VmHWM)
	Threads  int
}

// ReadUsage reads /proc/<pid>/stat and /proc/<pid>/status.
func ReadUsage(pid int) (Usage, error) {
	var u Usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}
	// Fields after the command name in parentheses; utime and stime are
	// fields 14 and 15 (1-based) of the whole line.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return u, fmt.Errorf("read cpu time of pid %d: malformed stat line", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return u, fmt.Errorf("read cpu time of pid %d: short stat line", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	u.CPU = time.Duration(ut+st) * time.Second / ticks
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		num := func() int64 {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
		switch k {
		case "VmRSS":
			u.RSSBytes = num() * 1024
		case "VmHWM":
			u.HWMBytes = num() * 1024
		case "Threads":
			u.Threads = int(num())
		}
	}
	return u, sc.Err()
}
