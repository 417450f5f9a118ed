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
