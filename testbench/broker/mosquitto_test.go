package broker

import (
	"os/exec"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestMosquittoRetainedAcrossRestart: a retained message survives Restart
// (SIGTERM writes the database, also when the tests run as root and
// mosquitto would otherwise drop to a user that cannot write it), and the
// broker listens on the same port afterwards.
func TestMosquittoRetainedAcrossRestart(t *testing.T) {
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Skip("mosquitto not installed (apt install mosquitto); CI runs this test against it")
	}
	m, err := StartMosquitto(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	connect := func(id string) mqtt.Client {
		t.Helper()
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.URL()).SetClientID(id).SetAutoReconnect(false))
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect %s: %v", m.URL(), tok.Error())
		}
		return c
	}
	c := connect("pub")
	if tok := c.Publish("dock/x/cmd/dispatch", 1, true, "alarm"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish retained: %v", tok.Error())
	}
	c.Disconnect(50)

	if err := m.Restart(); err != nil {
		t.Fatalf("Restart() = %v", err)
	}
	s := connect("sub")
	defer s.Disconnect(50)
	got := make(chan string, 1)
	tok := s.Subscribe("dock/x/cmd/dispatch", 1, func(_ mqtt.Client, msg mqtt.Message) {
		if msg.Retained() {
			select {
			case got <- string(msg.Payload()):
			default:
			}
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "alarm" {
			t.Errorf("retained payload after Restart() = %q, want alarm", p)
		}
	case <-time.After(5 * time.Second): // bounds a wait on a real broker
		t.Fatal("no retained message within 5 s of subscribing after Restart(): the database was not written or not read")
	}
	if err := m.Stop(); err != nil {
		t.Errorf("Stop() = %v", err)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("Stop() of a stopped broker = %v, want nil", err)
	}
}
