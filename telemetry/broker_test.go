package telemetry

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// testBroker is a real MQTT broker a test can stop and start again on the
// same address.
type testBroker interface {
	url() string
	stop()
	start()
}

// mochiBroker is the embedded mochi-mqtt server on 127.0.0.1.
type mochiBroker struct {
	t    *testing.T
	addr string
	tls  *tls.Config
	srv  *mochi.Server
}

func startMochi(t *testing.T, tc *tls.Config) *mochiBroker {
	t.Helper()
	b := &mochiBroker{t: t, addr: "127.0.0.1:0", tls: tc}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *mochiBroker) start() {
	b.t.Helper()
	srv := mochi.New(&mochi.Options{InlineClient: false, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		b.t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: b.addr, TLSConfig: b.tls})
	if err := srv.AddListener(l); err != nil {
		b.t.Fatalf("mochi listen on %s: %v", b.addr, err)
	}
	if err := srv.Serve(); err != nil {
		b.t.Fatal(err)
	}
	b.addr = l.Address()
	b.srv = srv
}

func (b *mochiBroker) stop() {
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

func (b *mochiBroker) url() string {
	if b.tls != nil {
		return "ssl://" + b.addr
	}
	return "tcp://" + b.addr
}

// mosquittoBroker runs the mosquitto binary on a free port.
type mosquittoBroker struct {
	t         *testing.T
	port      int
	bin, conf string
	cmd       *exec.Cmd
}

func startMosquitto(t *testing.T) *mosquittoBroker { return startMosquittoConf(t, false) }

// startMosquittoPersistent runs mosquitto with persistence in a temporary
// directory: retained messages and sessions survive restart (a SIGTERM,
// which writes the database).
func startMosquittoPersistent(t *testing.T) *mosquittoBroker { return startMosquittoConf(t, true) }

func startMosquittoConf(t *testing.T, persist bool) *mosquittoBroker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		t.Skip("mosquitto not installed (apt install mosquitto); CI runs these tests against it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port)
	if persist {
		// mosquitto started as root drops to user mosquitto, which cannot
		// write the database into our 0700 temporary directory: SIGTERM then
		// saves nothing and a restart loses the retained messages. Staying
		// the test's own user keeps it able to (no effect when not root).
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		body = fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence true\npersistence_location %s/\n", port, u.Username, filepath.Dir(conf))
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &mosquittoBroker{t: t, port: port, bin: bin, conf: conf}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *mosquittoBroker) start() {
	b.t.Helper()
	b.cmd = exec.Command(b.bin, "-c", b.conf)
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	waitFor(b.t, "mosquitto listening", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (b *mosquittoBroker) stop() {
	if b.cmd != nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
		b.cmd = nil
	}
}

func (b *mosquittoBroker) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }

// forEachBroker runs f against the embedded mochi broker and mosquitto.
func forEachBroker(t *testing.T, f func(t *testing.T, b testBroker)) {
	t.Run("mochi", func(t *testing.T) { f(t, startMochi(t, nil)) })
	t.Run("mosquitto", func(t *testing.T) { f(t, startMosquitto(t)) })
}

// proxy forwards TCP to a broker so a test can cut the agent's connection
// abruptly (no DISCONNECT: the broker publishes the will).
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool // refuse connections (the agent sees a broker outage)
	conns  []net.Conn
	wg     sync.WaitGroup
}

// setDown refuses (true) or forwards (false) new connections.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(func() { l.Close(); p.kill(); p.wg.Wait() })
	return p
}

func (p *proxy) url() string { return "tcp://" + p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(u, c); u.Close() })
		p.wg.Go(func() { io.Copy(c, u); c.Close() })
	}
}

// kill closes every proxied connection at once (RST where possible).
func (p *proxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	p.conns = nil
}

// watcher is a plain paho client subscribed to a topic filter that records
// every message, as a command centre would.
type watcher struct {
	t      *testing.T
	client mqtt.Client
	mu     sync.Mutex
	msgs   []pubMsg
}

func newWatcher(t *testing.T, url, filter string, tc *tls.Config) *watcher {
	t.Helper()
	w := &watcher{t: t}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("watcher-%d", time.Now().UnixNano())).
		SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(true)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	w.client = mqtt.NewClient(o)
	if tok := w.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect to %s: %v", url, tok.Error())
	}
	// A "prefix/#" filter becomes the agent's topics under prefix, exact
	// or with a wildcard only where nothing is retained: mochi-mqtt v2.7.9
	// reads a topic's retained marker without its lock while a wildcard
	// subscription scans for retained messages, a data race the race
	// detector reports when the agent publishes retained state then.
	filters := map[string]byte{filter: 1}
	if prefix, ok := strings.CutSuffix(filter, "#"); ok {
		filters = map[string]byte{}
		for _, t := range []string{"status", "state", "telemetry", "events", "cmd/+/reply", "mavlink/out"} {
			filters[prefix+t] = 1
		}
	}
	tok := w.client.SubscribeMultiple(filters, func(_ mqtt.Client, m mqtt.Message) {
		w.mu.Lock()
		w.msgs = append(w.msgs, pubMsg{m.Topic(), m.Qos(), m.Retained(), string(m.Payload())})
		w.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher subscribe %s: %v", filter, tok.Error())
	}
	t.Cleanup(func() { w.client.Disconnect(50) })
	return w
}

func (w *watcher) messages(topic string) []pubMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []pubMsg
	for _, m := range w.msgs {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// last waits until a message on topic satisfies ok and returns it.
func (w *watcher) waitMsg(topic string, ok func(pubMsg) bool) pubMsg {
	w.t.Helper()
	var found pubMsg
	waitFor(w.t, "a message on "+topic, 15*time.Second, func() bool {
		for _, m := range w.messages(topic) {
			if ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// send publishes a command as the command centre does (QoS 1).
func (w *watcher) send(topic string, payload []byte) {
	w.t.Helper()
	if tok := w.client.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		w.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}
