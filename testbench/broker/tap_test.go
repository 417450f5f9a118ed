package broker

import (
	"context"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestTapAcrossRestart: the tap sees what a client publishes, with no
// subscriber, before and after a Stop/Start.
func TestTapAcrossRestart(t *testing.T) {
	b := New("127.0.0.1:0", nil)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	got := make(chan string, 10)
	b.Tap(func(topic string, payload []byte) { got <- topic + "=" + string(payload) })

	publish := func(payload string) {
		t.Helper()
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("tap-test"))
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect %s: %v", b.URL(), tok.Error())
		}
		defer c.Disconnect(50)
		if tok := c.Publish("dock/x/events", 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	expect := func(want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("tap saw %q, want %q", g, want)
			}
		case <-ctx.Done():
			t.Fatalf("tap saw nothing, want %q", want)
		}
	}
	publish("one")
	expect("dock/x/events=one")
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	publish("two")
	expect("dock/x/events=two")
}
