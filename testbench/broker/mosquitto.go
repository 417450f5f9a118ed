package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"syscall"
	"time"
)

// Mosquitto is the mosquitto binary on a free 127.0.0.1 port with
// persistence in a directory: retained messages and sessions survive
// Restart, as on a field broker. The bench's campaign cases run the agent
// against it (the real broker CI installs).
type Mosquitto struct {
	bin, conf, dir string
	port           int
	cmd            *exec.Cmd
	exited         chan struct{} // closed when cmd has been waited for
}

// mosquittoWait bounds how long mosquitto may take to listen or to write
// its database and exit.
const mosquittoWait = 10 * time.Second

// StartMosquitto starts mosquitto with its config, database and log in dir.
// It fails when mosquitto is not installed (apt install mosquitto).
func StartMosquitto(dir string) (*Mosquitto, error) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		return nil, fmt.Errorf("mosquitto: %w (apt install mosquitto)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mosquitto: pick a port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Started as root, mosquitto drops to user mosquitto, which may not
	// write the database into dir: SIGTERM would then save nothing and a
	// restart lose the retained messages. It stays our user (no effect
	// when we are not root).
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	m := &Mosquitto{bin: bin, dir: dir, port: port, conf: filepath.Join(dir, "mosquitto.conf")}
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence true\npersistence_location %s/\nmax_queued_messages 10000\nlog_dest file %s\n",
		port, u.Username, dir, filepath.Join(dir, "mosquitto.log"))
	if err := os.WriteFile(m.conf, []byte(body), 0o600); err != nil {
		return nil, fmt.Errorf("mosquitto: write config: %w", err)
	}
	if err := m.start(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mosquitto) start() error {
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("mosquitto: start: %w", err)
	}
	m.exited = make(chan struct{})
	cmd, exited := m.cmd, m.exited
	go func() { _ = cmd.Wait(); close(exited) }() // ends when the process does; Stop waits for it
	deadline := time.Now().Add(mosquittoWait)
	for {
		c, err := net.Dial("tcp", m.Addr())
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("mosquitto: exited at start (see %s)", filepath.Join(m.dir, "mosquitto.log"))
		case <-time.After(20 * time.Millisecond): // polling a real process's port
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mosquitto: not listening on %s after %s", m.Addr(), mosquittoWait)
		}
	}
}

// Stop ends mosquitto with SIGTERM, which writes its database, and waits
// for it to exit. Stopping a stopped broker is a no-op.
func (m *Mosquitto) Stop() error {
	if m.cmd == nil {
		return nil
	}
	cmd, exited := m.cmd, m.exited
	m.cmd = nil
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("mosquitto: stop: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(mosquittoWait):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("mosquitto: did not exit within %s of SIGTERM; killed", mosquittoWait)
	}
}

// Restart stops mosquitto (writing its database) and starts it again on
// the same port and database.
func (m *Mosquitto) Restart() error {
	if err := m.Stop(); err != nil {
		return err
	}
	return m.start()
}

// Addr is 127.0.0.1:port.
func (m *Mosquitto) Addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

// URL is tcp://127.0.0.1:port.
func (m *Mosquitto) URL() string { return "tcp://" + m.Addr() }
