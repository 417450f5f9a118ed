package pty

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"
)

// ErrClosed is returned by Read and Write after Close.
var ErrClosed = errors.New("pty pair closed")

// Options configure a Pair.
type Options struct {
	// Link, when set, is a symlink kept pointing at the current slave, the
	// stable path a udev rule would give a USB adapter. Unplug removes it
	// and Replug points it at the new slave. Without Link, Replug gives a
	// new slave path (see Path).
	Link string
}

// Pair is a raw pseudo-terminal pair. The simulator reads and writes the
// master through the Pair; the agent opens Path. Safe for concurrent use,
// though one reader and one writer at a time is the expected use.
type Pair struct {
	link  string
	clock clockwork.Clock // real: pty IO happens in wall-clock time

	mu          sync.Mutex
	master      *os.File // nil while unplugged
	slave       *os.File // our own slave fd
	slavePath   string
	readTimeout time.Duration // 0: block
	closed      bool
	changed     chan struct{} // closed and replaced on unplug, replug and close
}

// Open creates a raw pair.
func Open(opts Options) (*Pair, error) {
	p := &Pair{link: opts.Link, clock: clockwork.NewRealClock(), changed: make(chan struct{})}
	if err := p.plug(); err != nil {
		return nil, err
	}
	return p, nil
}

// plug opens a new pty pair, makes it raw and links it. Caller holds mu or
// owns p exclusively.
func (p *Pair) plug() error {
	m, s, err := pty.Open()
	if err != nil {
		return fmt.Errorf("open pty pair: %w", err)
	}
	// Raw before the first byte: no echo, no CR/LF rewriting, 8 bits.
	if err := makeRaw(s); err != nil {
		m.Close()
		s.Close()
		return fmt.Errorf("make pty %s raw: %w", s.Name(), err)
	}
	// pty.Open leaves the master in blocking mode (it calls Fd), which
	// takes it off Go's poller: no deadlines, and Close would not wake a
	// Read. A non-blocking duplicate goes back on the poller.
	master, err := pollable(m)
	if err != nil {
		s.Close()
		return fmt.Errorf("make pty master of %s pollable: %w", s.Name(), err)
	}
	if p.link != "" {
		tmp := p.link + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Symlink(s.Name(), tmp); err != nil {
			master.Close()
			s.Close()
			return fmt.Errorf("link pty %s: %w", s.Name(), err)
		}
		if err := os.Rename(tmp, p.link); err != nil {
			master.Close()
			s.Close()
			return fmt.Errorf("link pty %s as %s: %w", s.Name(), p.link, err)
		}
	}
	p.master, p.slave, p.slavePath = master, s, s.Name()
	return nil
}

// makeRaw sets the termios of the pty (shared by both sides) to raw 8N1.
func makeRaw(f *os.File) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = conn.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ioErr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
		t.Cc[unix.VMIN] = 1
		t.Cc[unix.VTIME] = 0
		ioErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return ioErr
}

// pollable returns a non-blocking duplicate of f registered with Go's
// poller, and closes f.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// Path returns the path the agent opens: Link when set, else the current
// slave device (/dev/pts/N), which changes on Replug.
func (p *Pair) Path() string {
	if p.link != "" {
		return p.link
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slavePath
}

// SlavePath returns the current slave device (/dev/pts/N).
func (p *Pair) SlavePath() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slavePath
}

// SetReadTimeout sets how long Read waits for a byte: 0 means forever. It
// matches the serial port method, so a Pair is a modbus.Port.
func (p *Pair) SetReadTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("set pty read timeout: negative %v", d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readTimeout = d
	return nil
}

// Read reads from the master what the agent wrote. It returns 0, nil when
// the read timeout passes without a byte (also while unplugged), and
// ErrClosed once Close was called (waking a blocked Read).
func (p *Pair) Read(b []byte) (int, error) {
	var deadline time.Time
	for {
		p.mu.Lock()
		m, closed, changed, timeout := p.master, p.closed, p.changed, p.readTimeout
		p.mu.Unlock()
		if closed {
			return 0, ErrClosed
		}
		if timeout > 0 && deadline.IsZero() {
			deadline = p.clock.Now().Add(timeout)
		}
		if m == nil { // unplugged: the line is silent until replugged
			var expired <-chan time.Time
			if timeout > 0 {
				t := p.clock.NewTimer(p.clock.Until(deadline))
				defer t.Stop()
				expired = t.Chan()
			}
			select {
			case <-changed:
				continue
			case <-expired:
				return 0, nil
			}
		}
		if err := m.SetReadDeadline(deadline); err != nil {
			return 0, fmt.Errorf("set deadline on pty master %s: %w", m.Name(), err)
		}
		n, err := m.Read(b)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return 0, nil
		}
		p.mu.Lock()
		swapped := p.closed || p.master != m
		p.mu.Unlock()
		if swapped { // closed by Close, Unplug or Replug: look again
			continue
		}
		return n, fmt.Errorf("read pty master %s: %w", m.Name(), err)
	}
}

// Write writes to the master, for the agent to read. While unplugged the
// bytes are lost, as on a disconnected line, and Write reports success.
func (p *Pair) Write(b []byte) (int, error) {
	p.mu.Lock()
	m, closed := p.master, p.closed
	p.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if m == nil {
		return len(b), nil
	}
	n, err := m.Write(b)
	if err != nil {
		return n, fmt.Errorf("write pty master %s: %w", m.Name(), err)
	}
	return n, nil
}

// ClearExclusive clears the exclusive-open lock (TIOCNXCL) that
// go.bug.st/serial takes: since the Pair keeps its own slave fd open, the
// lock survives a killed agent and its restart would fail with EBUSY.
func (p *Pair) ClearExclusive() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slave == nil {
		return nil
	}
	conn, err := p.slave.SyscallConn()
	if err != nil {
		return fmt.Errorf("clear exclusive lock of %s: %w", p.slavePath, err)
	}
	var ioErr error
	if err := conn.Control(func(fd uintptr) { ioErr = unix.IoctlSetInt(int(fd), unix.TIOCNXCL, 0) }); err != nil {
		return fmt.Errorf("clear exclusive lock of %s: %w", p.slavePath, err)
	}
	if ioErr != nil {
		return fmt.Errorf("clear exclusive lock of %s: %w", p.slavePath, ioErr)
	}
	return nil
}

// Unplug simulates pulling the USB adapter: the pty pair is closed (the
// agent's open port reads an error, EIO or a zero-length read), the
// symlink is removed (opening it fails with ENOENT), and the simulator's
// Read sees a silent line. Unplugging twice is a no-op.
func (p *Pair) Unplug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.master == nil {
		return nil
	}
	return p.unplugLocked()
}

func (p *Pair) unplugLocked() error {
	var errs []error
	if p.link != "" {
		if err := os.Remove(p.link); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove pty link %s: %w", p.link, err))
		}
	}
	errs = append(errs, p.master.Close(), p.slave.Close())
	p.master, p.slave = nil, nil
	close(p.changed)
	p.changed = make(chan struct{})
	return errors.Join(errs...)
}

// Replug simulates plugging the adapter back: a new pty pair, raw, behind
// the same Link. Without Link the agent must learn the new Path.
func (p *Pair) Replug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.master != nil {
		return nil
	}
	if err := p.plug(); err != nil {
		return err
	}
	close(p.changed)
	p.changed = make(chan struct{})
	return nil
}

// Close closes the pair and removes the link; a blocked Read returns
// ErrClosed. Closing twice is a no-op.
func (p *Pair) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	var err error
	if p.master != nil {
		err = p.unplugLocked()
	}
	p.closed = true
	close(p.changed)
	p.changed = make(chan struct{})
	return err
}
