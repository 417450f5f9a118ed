// Command traffic measures what an idle dock sends over MQTT: the real
// agent on the bench, its drone docked and charged, watched for a span of
// simulated time; it prints messages and bytes per topic projected to a
// day, counting what crosses the dock's link (each PUBLISH with its MQTT
// header, the broker's PUBACK for QoS 1, the keep-alive pings), and exits
// 1 when the day's total is over the budget.
//
// Usage:
//
//	go run ./testbench/cmd/traffic [-speed N] [-minutes M] [-budget-mb B]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/dockagent/dock-agent/testbench/world"
)

func main() {
	world.MaybeRunAgent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// qos is the QoS the agent publishes each topic with (docs/mqtt-api.md).
var qos = map[string]int{"status": 1, "state": 1, "circles": 1, "telemetry": 0, "events": 1}

// topicUse is what one topic cost over the window.
type topicUse struct {
	topic       string
	msgs, bytes int
}

// report is a traffic measurement, projected to a day.
type report struct {
	window time.Duration
	topics []topicUse
	pings  int // keep-alive PINGREQ/PINGRESP pairs in the window
}

func (r report) perDay(n int) float64 { return float64(n) * float64(24*time.Hour) / float64(r.window) }

// totalBytes is the link's bytes in the window, pings included.
func (r report) totalBytes() int {
	n := r.pings * 4 // PINGREQ and PINGRESP are 2 bytes each
	for _, t := range r.topics {
		n += t.bytes
	}
	return n
}

// wireBytes is one PUBLISH of payload on topic as it crosses the link:
// fixed header, remaining length, topic, packet id for QoS 1, payload, and
// the PUBACK coming back.
func wireBytes(topic string, payload, qos int) int {
	rest := 2 + len(topic) + payload
	if qos > 0 {
		rest += 2
	}
	n := 1 + rest
	for l := rest; l >= 128; l >>= 7 {
		n++
	}
	n++
	if qos > 0 {
		n += 4
	}
	return n
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("traffic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	speed := fs.Float64("speed", 30, "run the world and the agent `N` times faster")
	minutes := fs.Float64("minutes", 60, "simulated `minutes` to watch the idle dock")
	budget := fs.Float64("budget-mb", 20, "the day's budget in `MB` (10^6 bytes); over it exits 1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*minutes/(*speed)*float64(time.Minute))+2*time.Minute)
	defer cancel()
	rep, err := measure(ctx, *speed, time.Duration(*minutes*float64(time.Minute)))
	if err != nil {
		fmt.Fprintf(stderr, "traffic: %v\n", err)
		return 1
	}
	total := rep.perDay(rep.totalBytes()) / 1e6
	fmt.Fprintf(stdout, "idle dock, %s simulated at x%g: per day\n", rep.window, *speed)
	fmt.Fprintf(stdout, "  %-10s %10s %12s\n", "topic", "messages", "MB")
	for _, t := range rep.topics {
		fmt.Fprintf(stdout, "  %-10s %10.0f %12.3f\n", t.topic, rep.perDay(t.msgs), rep.perDay(t.bytes)/1e6)
	}
	fmt.Fprintf(stdout, "  %-10s %10.0f %12.3f\n", "pings", rep.perDay(rep.pings), rep.perDay(rep.pings*4)/1e6)
	fmt.Fprintf(stdout, "  %-10s %10s %12.3f (budget %g)\n", "total", "", total, *budget)
	if total > *budget {
		fmt.Fprintf(stdout, "traffic: over budget by %.3f MB a day\n", total-*budget)
		return 1
	}
	return 0
}

// measure starts the bench, waits until the drone sits docked and linked,
// lets the first state after that settle, then counts window of
// simulated time.
func measure(ctx context.Context, speed float64, window time.Duration) (report, error) {
	w, err := world.Start(ctx, world.Options{Speed: speed, GCS: "none", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return report{}, err
	}
	defer w.Close()
	obs, err := w.Observe(ctx)
	if err != nil {
		return report{}, err
	}
	defer obs.Close()
	docked := func() bool {
		return obs.ReadyToFly() && world.Lookup(obs.State(), "vehicle.docked") == true
	}
	if err := obs.Wait(ctx, docked); err != nil {
		return report{}, fmt.Errorf("the drone never sat docked and linked: %w", err)
	}
	clock := w.Clock()
	from := clock.Now().Add(time.Minute) // past the start-up's changes
	to := from.Add(window)
	if err := obs.Wait(ctx, func() bool { return !clock.Now().Before(to) }); err != nil {
		return report{}, fmt.Errorf("watching the idle dock: %w", err)
	}
	byTopic := map[string]*topicUse{}
	for _, topic := range []string{"status", "state", "circles", "telemetry", "events"} {
		u := &topicUse{topic: topic}
		full := w.Prefix() + topic
		for _, m := range obs.Messages(topic) {
			if m.At.Before(from) || !m.At.Before(to) {
				continue
			}
			u.msgs++
			u.bytes += wireBytes(full, len(m.Payload), qos[topic])
		}
		byTopic[topic] = u
	}
	rep := report{window: window, pings: int(window / w.Config.MQTT.Keepalive)}
	for _, u := range byTopic {
		rep.topics = append(rep.topics, *u)
	}
	slices.SortFunc(rep.topics, func(a, b topicUse) int { return b.bytes - a.bytes })
	return rep, nil
}
