package pty

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.bug.st/serial"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readFull reads len(want) bytes from r with a per-read timeout, failing
// the test after 2 s.
func readFull(t *testing.T, r func([]byte) (int, error), n int) []byte {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	var got []byte
	buf := make([]byte, 64)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("read %d bytes: got only %q before the deadline", n, got)
		}
		k, err := r(buf[:n-len(got)])
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got = append(got, buf[:k]...)
	}
	return got
}

func openSerial(t *testing.T, path string) serial.Port {
	t.Helper()
	sp, err := serial.Open(path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatalf("serial.Open(%s) = %v", path, err)
	}
	if err := sp.SetReadTimeout(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestPairBytesFlowBothWaysRaw(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetReadTimeout(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sp := openSerial(t, p.Path())
	defer sp.Close()

	// Bytes a cooked tty would mangle: CR, LF, ^C, ^D, ^S, DEL, 0xFF.
	frame := []byte{0x01, '\r', '\n', 0x03, 0x04, 0x13, 0x7f, 0xff, 0x00}
	if _, err := sp.Write(frame); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, p.Read, len(frame)); !bytes.Equal(got, frame) {
		t.Errorf("master read %x, want %x", got, frame)
	}
	if _, err := p.Write(frame); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, sp.Read, len(frame)); !bytes.Equal(got, frame) {
		t.Errorf("serial read %x, want %x", got, frame)
	}
	// No echo: the master must not see its own bytes back.
	n, err := p.Read(make([]byte, 16))
	if n != 0 || err != nil {
		t.Errorf("Read after own write = %d, %v; want 0, nil (no echo, timeout)", n, err)
	}
}

func TestPairReadTimeoutAndCloseWakes(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetReadTimeout(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Read(make([]byte, 4)); n != 0 || err != nil {
		t.Fatalf("Read on a silent line = %d, %v; want 0, nil", n, err)
	}
	if err := p.SetReadTimeout(0); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := p.Read(make([]byte, 4))
		done <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Read after Close = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not wake a blocked Read within 2 s")
	}
}

func TestPairSurvivesAgentAbsence(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetReadTimeout(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sp := openSerial(t, p.Path())
	sp.Close()
	// The agent went away: the master must read silence, not EIO.
	if n, err := p.Read(make([]byte, 4)); n != 0 || err != nil {
		t.Fatalf("Read with the agent gone = %d, %v; want 0, nil", n, err)
	}
	if err := p.ClearExclusive(); err != nil {
		t.Fatalf("ClearExclusive() = %v", err)
	}
	sp = openSerial(t, p.Path())
	defer sp.Close()
	if _, err := sp.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, p.Read, 1); string(got) != "x" {
		t.Errorf("read after reopen = %q, want x", got)
	}
}

func TestPairUnplugReplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyIO")
	p, err := Open(Options{Link: link})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetReadTimeout(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sp := openSerial(t, link)
	defer sp.Close()
	old := p.SlavePath()

	if err := p.Unplug(); err != nil {
		t.Fatalf("Unplug() = %v", err)
	}
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("link after Unplug: Lstat = %v, want not exist", err)
	}
	// The agent's open port now fails instead of reading silence.
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := sp.Read(make([]byte, 4)); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("agent's port read no error within 2 s of Unplug")
		}
	}
	if n, err := p.Read(make([]byte, 4)); n != 0 || err != nil {
		t.Errorf("simulator Read while unplugged = %d, %v; want 0, nil", n, err)
	}
	if n, err := p.Write([]byte("lost")); n != 4 || err != nil {
		t.Errorf("simulator Write while unplugged = %d, %v; want 4, nil", n, err)
	}

	if err := p.Replug(); err != nil {
		t.Fatalf("Replug() = %v", err)
	}
	target, err := os.Readlink(link)
	if err != nil || target != p.SlavePath() {
		t.Errorf("link after Replug -> %q, %v; want %q", target, err, p.SlavePath())
	}
	t.Logf("slave %s replugged as %s", old, p.SlavePath())
	sp2 := openSerial(t, link)
	defer sp2.Close()
	if _, err := sp2.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, p.Read, 4); string(got) != "back" {
		t.Errorf("read after Replug = %q, want back", got)
	}
}
