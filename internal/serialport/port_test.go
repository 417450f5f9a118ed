package serialport

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/pty"
	"go.bug.st/serial"
)

func openPair(t *testing.T) (*pty.Pair, *Port) {
	t.Helper()
	pair, err := pty.Open(pty.Options{Link: filepath.Join(t.TempDir(), "tty")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pair.Close() })
	p, err := Open(pair.Path(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatalf("Open(%s) = %v", pair.Path(), err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if !p.Polled() {
		t.Fatal("Polled() = false on a pty, want reads through the netpoller")
	}
	return pair, p
}

func TestReadWrite(t *testing.T) {
	pair, p := openPair(t)
	if _, err := pair.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	got := 0
	for got < 4 {
		n, err := p.Read(buf[got:])
		if err != nil {
			t.Fatalf("Read() = %v", err)
		}
		got += n
	}
	if !bytes.Equal(buf[:got], []byte("ping")) {
		t.Fatalf("Read() = %q, want ping", buf[:got])
	}
	if _, err := p.Write([]byte("pong")); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	if err := pair.SetReadTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	got = 0
	for got < 4 {
		n, err := pair.Read(buf[got:])
		if err != nil || n == 0 {
			t.Fatalf("pty Read() = %d, %v", n, err)
		}
		got += n
	}
	if !bytes.Equal(buf[:got], []byte("pong")) {
		t.Fatalf("the other side read %q, want pong", buf[:got])
	}
}

// A read timeout gives 0, nil (the go.bug.st/serial habit the Modbus client
// relies on), and a later byte is still read.
func TestReadTimeout(t *testing.T) {
	pair, p := openPair(t)
	if err := p.SetReadTimeout(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := p.Read(buf)
	if n != 0 || err != nil {
		t.Fatalf("Read() on a silent line = %d, %v, want 0, nil", n, err)
	}
	if err := p.SetReadTimeout(0); err != nil { // rounds up to 1 ms
		t.Fatal(err)
	}
	if n, err := p.Read(buf); n != 0 || err != nil {
		t.Fatalf("Read() with timeout 0 = %d, %v, want 0, nil", n, err)
	}
	if err := p.SetReadTimeout(-5); err == nil {
		t.Fatal("SetReadTimeout(-5) = nil, want an error")
	}
	if err := p.SetReadTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := pair.Write([]byte{0x42}); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Read(buf); n != 1 || err != nil || buf[0] != 0x42 {
		t.Fatalf("Read() = % x, %v, want 42", buf[:n], err)
	}
}

// Close from another goroutine wakes a Read waiting without a timeout.
func TestCloseWakesRead(t *testing.T) {
	_, p := openPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 8))
		done <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Read() after Close = nil error, want one")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read() still blocked 5 s after Close")
	}
}

// The peer hanging up (a USB adapter pulled out; here the pty's master
// closed) is an error, not an endless stream of empty reads.
func TestHangUpIsAnError(t *testing.T) {
	pair, p := openPair(t)
	if err := pair.Unplug(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(make([]byte, 8)); err == nil {
		t.Fatal("Read() after the other side hung up = nil error, want one")
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing"), &serial.Mode{BaudRate: 9600})
	if pe, ok := errors.AsType[*serial.PortError](err); !errors.Is(err, fs.ErrNotExist) && (!ok || pe.Code() != serial.PortNotFound) {
		t.Fatalf("Open(missing) = %v, want not found", err)
	}
}
