package rawio

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TCPConn reads and writes a real TCP connection, keeps the net package's
// deadline and end-of-stream behaviour paho relies on.
func TestTCPConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewTCPConn(nc)
	if err != nil {
		t.Fatalf("NewTCPConn() = %v", err)
	}
	defer c.Close()
	peer := <-accepted
	if peer == nil {
		t.Fatal("no connection accepted")
	}

	big := make([]byte, 4<<20) // more than the socket buffers: Write waits for the reader
	for i := range big {
		big[i] = byte(i)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(big))))
		got <- b
	}()
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write(4 MiB) = %d, %v", n, err)
	}
	if b := <-got; len(b) != len(big) || b[len(b)-1] != big[len(big)-1] {
		t.Fatalf("peer read %d bytes, want %d", len(b), len(big))
	}

	if _, err := peer.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := io.ReadFull(c, buf[:4]); n != 4 || err != nil || string(buf[:4]) != "pong" {
		t.Fatalf("Read() = %q, %v, want pong", buf[:n], err)
	}

	if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read() past the deadline = %v, want a net timeout", err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}

	peer.Close()
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatalf("Read() after the peer closed = %v, want io.EOF", err)
	}
	// Writing to a closed peer fails (at the latest on the second write,
	// after the peer's reset) and names the connection.
	var werr error
	for range 3 {
		if _, werr = c.Write([]byte("x")); werr != nil {
			break
		}
	}
	var oe *net.OpError
	if !errors.As(werr, &oe) || oe.Op != "write" {
		t.Fatalf("Write() to a closed peer = %v, want a *net.OpError write", werr)
	}
}
