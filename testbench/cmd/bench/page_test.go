package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

func TestMain(m *testing.M) {
	world.MaybeRunAgent() // the world re-executes this binary as the agent
	os.Exit(m.Run())
}

// TestDockPageOnTheBench: the real agent process with -page serves the
// page with the dock's id, its map and the start-up events, and its
// stream shows a state change a command makes within 2 s.
func TestDockPageOnTheBench(t *testing.T) {
	// The agent needs a fixed port in its config: take a free one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	w, err := world.Start(ctx, world.Options{Dir: t.TempDir(), BrokerAddr: "127.0.0.1:0", GCS: "none", Edit: pageOn(addr),
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatalf("start the bench: %v", err)
	}
	defer w.Close()
	base := "http://" + addr

	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `<span id="dock-id">bench-1</span>`) {
		t.Fatalf("GET / = %s, want the page of bench-1:\n%s", res.Status, body)
	}

	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/page/stream", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /page/stream: %v", err)
	}
	defer res.Body.Close()
	msgs := make(chan [2]string, 64)
	go func() {
		defer close(msgs)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "event: "); ok {
				name = n
			} else if d, ok := strings.CutPrefix(line, "data: "); ok {
				msgs <- [2]string{name, d}
			}
		}
	}()
	var init struct {
		DockID string `json:"dock_id"`
		Map    struct {
			Routes []struct{ Name string } `json:"routes"`
		} `json:"map"`
		State struct {
			Dock struct{ Mode string } `json:"dock"`
		} `json:"state"`
		Events []struct{ Type string } `json:"events"`
	}
	first := <-msgs
	if err := json.Unmarshal([]byte(first[1]), &init); first[0] != "init" || err != nil {
		t.Fatalf("first stream message %q %v, want init", first[0], err)
	}
	var selftest bool
	for _, e := range init.Events {
		selftest = selftest || e.Type == "selftest"
	}
	if init.DockID != "bench-1" || len(init.Map.Routes) == 0 || init.Map.Routes[0].Name != "demo" || init.State.Dock.Mode != "auto" || !selftest {
		t.Errorf("init = %+v, want bench-1, route demo, mode auto, the selftest event", init)
	}

	obs, err := w.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	if rep, err := obs.Send(ctx, "mode", map[string]any{"mode": "maintenance"}); err != nil || !rep.OK {
		t.Fatalf("mode maintenance = %+v, %v", rep, err)
	}
	sent := time.Now()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("stream ended before the mode change")
			}
			if m[0] == "state" && strings.Contains(m[1], `"mode":"maintenance"`) {
				t.Logf("mode change on the page stream %v after the reply", time.Since(sent).Round(time.Millisecond))
				return
			}
		case <-deadline:
			t.Fatalf("no state with mode maintenance on the page stream within 2s")
		}
	}
}
