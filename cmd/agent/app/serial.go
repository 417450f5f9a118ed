package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/internal/serialport"
	"github.com/dockagent/dock-agent/mavlink/transport"
	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"
)

// serialLine is a serial device that reopens itself. Read and Write on a
// line whose device is missing fail at once with an error naming the
// device and the cause, and a later call tries to open it again once the
// backoff has passed (transport.Backoff, the vehicle link's policy): the
// Modbus client's poll loop paces the attempts, so no goroutine is needed
// and nothing spins. It cannot be a transport.Link: a Link's loop reads
// all the time, and here the Modbus master must read its own replies. A USB adapter pulled out (EIO,
// or a pty whose master went away and reads return nothing at once) is
// closed, logged once as lost and once as back.
//
// It satisfies modbus.Port. Read and Write may run concurrently with Close.
type serialLine struct {
	name   string // what the line is for ("bus io"), for errors and logs
	device string
	mode   serial.Mode
	clock  clockwork.Clock
	log    *slog.Logger

	mu          sync.Mutex
	port        *serialport.Port // nil while closed
	readTimeout time.Duration
	backoff     transport.Backoff
	nextTry     time.Time
	lastErr     error
	lost        bool // logged as lost, not yet as back
	emptyReads  int  // zero-byte reads that returned long before their timeout
	closed      bool
	opens       int
}

func newSerialLine(name, device string, mode serial.Mode, clock clockwork.Clock, log *slog.Logger) *serialLine {
	return &serialLine{name: name, device: device, mode: mode, clock: clock, log: log.With("line", name, "device", device), readTimeout: serial.NoTimeout}
}

// openSerial opens a serial device for the agent: the vehicle's radio
// (injected into mavlink/transport) and the RS-485 lines (serialLine) both
// open through here, read and written with raw system calls
// (internal/serialport). An error says what to check; what names the thing
// at the end of the cable ("radio", "RS-485 adapter").
func openSerial(device string, mode serial.Mode, what string) (*serialport.Port, error) {
	p, err := serialport.Open(device, &mode)
	if err != nil {
		// go.bug.st/serial gives a *PortError for some causes and the bare
		// errno for others (a missing device is ENOENT): look at both.
		code := serial.PortErrorCode(-1)
		if pe, ok := errors.AsType[*serial.PortError](err); ok {
			code = pe.Code()
		}
		hint := ""
		switch {
		case code == serial.PermissionDenied || errors.Is(err, fs.ErrPermission):
			hint = " (is the agent's user in group dialout?)"
		case code == serial.PortNotFound || errors.Is(err, fs.ErrNotExist):
			hint = " (is the " + what + " plugged in?)"
		case code == serial.PortBusy:
			hint = " (is another program using it?)"
		}
		return nil, fmt.Errorf("%w%s", err, hint)
	}
	return p, nil
}

// openVehicleSerial is transport.Options.OpenSerial: the radio, 8N1.
func openVehicleSerial(device string, baud int) (io.ReadWriteCloser, error) {
	p, err := openSerial(device, serialMode(baud, "N", 1), "radio")
	if err != nil {
		return nil, err
	}
	return p, nil
}

// errLineClosed is returned after Close.
var errLineClosed = errors.New("serial line closed")

// get returns the open port, opening it when the backoff allows.
func (l *serialLine) get() (*serialport.Port, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("%s %s: %w", l.name, l.device, errLineClosed)
	}
	if l.port != nil {
		return l.port, nil
	}
	now := l.clock.Now()
	if now.Before(l.nextTry) {
		return nil, fmt.Errorf("%s %s unavailable: %w", l.name, l.device, l.lastErr)
	}
	p, err := openSerial(l.device, l.mode, "RS-485 adapter")
	if err == nil && l.readTimeout != serial.NoTimeout {
		if err = p.SetReadTimeout(l.readTimeout); err != nil {
			_ = p.Close()
		}
	}
	if err != nil {
		l.failLocked(fmt.Errorf("open: %w", err))
		return nil, fmt.Errorf("%s %s unavailable: %w", l.name, l.device, l.lastErr)
	}
	l.port = p
	l.opens++
	l.backoff.Reset()
	l.emptyReads = 0
	if l.lost {
		l.lost = false
		l.log.Info("serial device back", "opens", l.opens)
	} else {
		l.log.Debug("serial device open", "baud", l.mode.BaudRate)
	}
	return p, nil
}

// failLocked records err, closes the port and schedules the next attempt.
func (l *serialLine) failLocked(err error) {
	if l.port != nil {
		_ = l.port.Close()
		l.port = nil
	}
	changed := l.lastErr == nil || l.lastErr.Error() != err.Error()
	l.lastErr = err
	wait := l.backoff.Failed()
	l.nextTry = l.clock.Now().Add(wait)
	if !l.lost || changed {
		l.log.Error("serial device failed; reopening with backoff", "err", err, "retry_in", wait)
	}
	l.lost = true
}

// fail handles an IO error of port p (unless the line moved on already).
func (l *serialLine) fail(p *serialport.Port, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.port == p && !l.closed {
		l.failLocked(err)
	}
}

func (l *serialLine) Read(b []byte) (int, error) {
	p, err := l.get()
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	timeout := l.readTimeout
	l.mu.Unlock()
	start := time.Now()
	n, err := p.Read(b)
	if err != nil {
		l.fail(p, fmt.Errorf("read: %w", err))
		return n, fmt.Errorf("%s %s: read: %w", l.name, l.device, err)
	}
	if n == 0 && len(b) > 0 {
		// A timeout gives 0, nil; so does a pty whose other side vanished,
		// but at once. Several instant empty reads in a row mean the latter.
		instant := timeout == serial.NoTimeout || time.Since(start) < timeout/4
		l.mu.Lock()
		if instant {
			l.emptyReads++
		} else {
			l.emptyReads = 0
		}
		dead := l.emptyReads >= 3
		l.mu.Unlock()
		if dead {
			err := errors.New("read: device returns no data at once (hung up)")
			l.fail(p, err)
			return 0, fmt.Errorf("%s %s: %w", l.name, l.device, err)
		}
	} else {
		l.mu.Lock()
		l.emptyReads = 0
		l.mu.Unlock()
	}
	return n, nil
}

func (l *serialLine) Write(b []byte) (int, error) {
	p, err := l.get()
	if err != nil {
		return 0, err
	}
	n, err := p.Write(b)
	if err != nil {
		l.fail(p, fmt.Errorf("write: %w", err))
		return n, fmt.Errorf("%s %s: write: %w", l.name, l.device, err)
	}
	return n, nil
}

// SetReadTimeout sets the timeout of the current and every later port.
func (l *serialLine) SetReadTimeout(d time.Duration) error {
	l.mu.Lock()
	l.readTimeout = d
	p := l.port
	l.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.SetReadTimeout(d); err != nil {
		l.fail(p, fmt.Errorf("set read timeout: %w", err))
		return fmt.Errorf("%s %s: set read timeout: %w", l.name, l.device, err)
	}
	return nil
}

// Up reports whether the device is open now.
func (l *serialLine) Up() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.port != nil
}

// Close closes the port for good; a blocked Read returns.
func (l *serialLine) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.port == nil {
		return nil
	}
	err := l.port.Close()
	l.port = nil
	return err
}

func serialMode(baud int, parity string, stopBits int) serial.Mode {
	m := serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	switch parity {
	case "E":
		m.Parity = serial.EvenParity
	case "O":
		m.Parity = serial.OddParity
	}
	if stopBits == 2 {
		m.StopBits = serial.TwoStopBits
	}
	return m
}
