package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// freeAddr returns a loopback address with a port free a moment ago, for
// the agent's metrics listener.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port for the agent's metrics: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// agentMetrics is one scrape of the agent's Prometheus endpoint: each
// metric name with the sum over its label sets.
type agentMetrics map[string]float64

// scrape reads http://addr/metrics.
func scrape(ctx context.Context, addr string) (agentMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape agent metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape agent metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape agent metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the Prometheus text format, summing label sets.
func parseMetrics(r io.Reader) (agentMetrics, error) {
	m := agentMetrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("parse agent metrics line %q: %w", line, err)
		}
		m[strings.TrimSpace(name)] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read agent metrics: %w", err)
	}
	return m, nil
}

// delta is b[name] - a[name].
func delta(a, b agentMetrics, name string) uint64 {
	return uint64(max(0, b[name]-a[name]))
}

// Relay counters of the agent that the drained cut compares.
const (
	metricLinkFrames    = "dock_agent_mavlink_link_frames_in_total"
	metricBridgeOut     = "dock_agent_mavlink_bridge_frames_out_total"
	metricBridgeDropped = "dock_agent_mavlink_bridge_frames_dropped_total"
)

// relayInFlight is the frames the agent's parser read that the MQTT bridge
// has neither published nor dropped yet, at the scrape m: frames between
// the two stages (in a batch not yet flushed, in the bridge's queue, being
// published). The agent reads the bridge's counters before the parser's,
// so this is never below zero while every frame read is relayed or
// counted dropped.
func relayInFlight(m agentMetrics) float64 {
	return m[metricLinkFrames] - m[metricBridgeOut] - m[metricBridgeDropped]
}

// drainWait bounds scrapeDrained's wait for a scrape with nothing in
// flight between the parser and the bridge.
const drainWait = 3 * time.Second

// scrapeDrained scrapes until the relay has nothing in flight between the
// agent's parser and its MQTT bridge, so that the counters of two such
// scrapes cover the same frames at both stages: a scrape taken while
// frames were queued for the bridge counts them read but not published,
// and a window whose first edge fell there showed the bridge publishing
// more frames than the parser read. The vehicle's streams go on, so the
// relay is drained only between frames; under load that can take a few
// tries. A frame lost without being counted dropped never drains: after
// wait the last scrape is returned with what is in flight, which the
// per-stage table then shows as a difference.
func scrapeDrained(ctx context.Context, addr string, wait time.Duration) (agentMetrics, float64, error) {
	deadline := time.Now().Add(wait)
	for {
		m, err := scrape(ctx, addr)
		if err != nil {
			return nil, 0, err
		}
		gap := relayInFlight(m)
		if gap == 0 || time.Now().After(deadline) {
			return m, gap, nil
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return nil, 0, err
		}
	}
}
