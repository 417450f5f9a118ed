package agentproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// NotifySocket is a unixgram socket that receives sd_notify datagrams, as
// systemd's notify socket does. Messages arrive on C, one datagram a line
// split into its assignments ("READY=1", "STATUS=...").
type NotifySocket struct {
	Path string
	conn *net.UnixConn
	msgs chan string
	wg   sync.WaitGroup
}

// ListenNotify opens a notify socket in dir.
func ListenNotify(dir string) (*NotifySocket, error) {
	path := filepath.Join(dir, "notify.sock")
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("listen on notify socket %s: %w", path, err)
	}
	n := &NotifySocket{Path: path, conn: conn, msgs: make(chan string, 256)}
	n.wg.Add(1)
	go n.read()
	return n, nil
}

func (n *NotifySocket) read() {
	defer n.wg.Done()
	defer close(n.msgs)
	buf := make([]byte, 4096)
	for {
		k, _, err := n.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(buf[:k]), "\n") {
			if line == "" {
				continue
			}
			select {
			case n.msgs <- line:
			default: // a reader that does not keep up loses old WATCHDOG lines only
			}
		}
	}
}

// C returns the channel of received assignments; it is closed by Close.
func (n *NotifySocket) C() <-chan string { return n.msgs }

// WaitFor waits until an assignment equal to want (e.g. "READY=1") arrives
// and returns the assignments seen before it.
func (n *NotifySocket) WaitFor(ctx context.Context, want string) ([]string, error) {
	var seen []string
	for {
		select {
		case <-ctx.Done():
			return seen, fmt.Errorf("wait for %s on notify socket: %w (saw %q)", want, ctx.Err(), seen)
		case m, ok := <-n.msgs:
			if !ok {
				return seen, errors.New("notify socket closed")
			}
			if m == want {
				return seen, nil
			}
			seen = append(seen, m)
		}
	}
}

// Close closes the socket and waits for its reader.
func (n *NotifySocket) Close() error {
	err := n.conn.Close()
	n.wg.Wait()
	_ = os.Remove(n.Path)
	return err
}
