package drone

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/jonboulle/clockwork"
)

// TestServeTCPReconnect serves a TCP peer (as SITL's tcp:5760): the peer
// leaving ends Serve with an error, a new connection is served by a new
// Serve with the vehicle as it was, and the end of ctx ends Serve.
func TestServeTCPReconnect(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	sim, err := New(Options{Logger: testLogger(t)}, clk)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { _ = sim.Run(ctx) })

	serve := func() (net.Conn, chan error) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		srv, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		wg.Go(func() {
			done <- sim.Serve(ctx, srv)
			srv.Close()
		})
		deadline := time.Now().Add(ioWait)
		for len(sim.Links()) != 1 {
			if time.Now().After(deadline) {
				t.Fatal("link not served")
			}
			time.Sleep(time.Millisecond) // polling a condition with a deadline
		}
		return c, done
	}
	// heartbeat advances the clock until a heartbeat arrives on c.
	heartbeat := func(c net.Conn) mavlink.Heartbeat {
		t.Helper()
		rd := mavlink.NewReader(c, nil)
		var f mavlink.Frame
		for range 5 {
			if err := clk.BlockUntilContext(ctx, 1); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Second)
			_ = c.SetReadDeadline(time.Now().Add(ioWait))
			for {
				if err := rd.ReadFrame(&f); err != nil {
					t.Fatalf("read from the simulator: %v", err)
				}
				if f.MsgID == 0 {
					var hb mavlink.Heartbeat
					if err := mavlink.DecodeMessage(&f, &hb); err != nil {
						t.Fatal(err)
					}
					return hb
				}
			}
		}
		t.Fatal("no heartbeat")
		return mavlink.Heartbeat{}
	}

	c1, done1 := serve()
	heartbeat(c1)
	sim.mu.Lock()
	sim.enterMode(clk.Now(), ModeGuided)
	sim.arm(clk.Now())
	sim.mu.Unlock()
	c1.Close()
	select {
	case err := <-done1:
		if !errors.Is(err, io.EOF) {
			t.Errorf("Serve after the peer left = %v, want io.EOF", err)
		}
	case <-time.After(ioWait):
		t.Fatal("Serve did not return after the peer left")
	}

	c2, done2 := serve()
	defer c2.Close()
	if hb := heartbeat(c2); Mode(hb.CustomMode) != ModeGuided || hb.BaseMode&mavlink.MAV_MODE_FLAG_SAFETY_ARMED == 0 {
		t.Errorf("after reconnect: mode %v base %#x, want GUIDED and armed", Mode(hb.CustomMode), hb.BaseMode)
	}
	cancel()
	select {
	case err := <-done2:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(ioWait):
		t.Fatal("Serve did not return after cancel")
	}
}
