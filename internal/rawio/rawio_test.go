package rawio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

func pipe(t *testing.T) (r, w *os.File, rc, wc syscall.RawConn) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if rc, err = r.SyscallConn(); err != nil {
		t.Fatal(err)
	}
	if wc, err = w.SyscallConn(); err != nil {
		t.Fatal(err)
	}
	return r, w, rc, wc
}

// Write waits in the netpoller while the pipe is full and writes all of
// b; Read returns what arrived; both keep the order of the bytes.
func TestReadWrite(t *testing.T) {
	_, w, rc, wc := pipe(t)
	big := make([]byte, 1<<20) // 16 pipe buffers: Write must wait for the reader
	for i := range big {
		big[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		var out []byte
		buf := make([]byte, 4096)
		for len(out) < len(big) {
			n, err := Read(rc, buf)
			if err != nil {
				break
			}
			out = append(out, buf[:n]...)
		}
		got <- out
	}()
	if n, err := Write(wc, big); n != len(big) || err != nil {
		t.Fatalf("Write(1 MiB) = %d, %v", n, err)
	}
	if out := <-got; !bytes.Equal(out, big) {
		t.Fatalf("read %d bytes, not the %d written in order", len(out), len(big))
	}
	if n, err := Read(rc, nil); n != 0 || err != nil {
		t.Errorf("Read(empty) = %d, %v, want 0, nil", n, err)
	}
	w.Close()
	if _, err := Read(rc, make([]byte, 8)); err != io.EOF {
		t.Errorf("Read() after the writer closed = %v, want io.EOF", err)
	}
}

// The file's read deadline bounds Read; a write to a pipe nobody reads
// gives the system error.
func TestDeadlineAndErrno(t *testing.T) {
	r, _, rc, wc := pipe(t)
	if err := r.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(rc, make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read() past the deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	r.Close()
	if _, err := Write(wc, []byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write() with the reader closed = %v, want EPIPE", err)
	}
}
