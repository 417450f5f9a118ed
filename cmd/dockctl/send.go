package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dockagent/dock-agent/telemetry/contract"
	"github.com/jonboulle/clockwork"
)

// runSend implements "dockctl send NAME [key=value ...|-json FILE]": it
// builds the command, sends it on dock/<id>/cmd/NAME with a fresh id, waits
// for the reply carrying that id and prints it. Exit status: 0 for an ok
// reply, 1 for an error reply, a timeout or a connection problem, 2 for bad
// usage.
func runSend(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("send", usage{
		synopsis: "dockctl send [flags] NAME [key=value ...]",
		about: "Send command NAME to the dock with a fresh id, wait for its reply and print it; exit 0 for\n" +
			"an ok reply, 1 for an error reply, a timeout or a connection problem, 2 for bad usage.\n" +
			"Values parse as JSON when they can (lat=53.55, dry_run=true, waypoints='[...]'), else as strings.",
		examples: []string{
			"dockctl send dispatch lat=53.5511 lon=9.9937 priority=alarm ref=INC-4411",
			"dockctl send mode mode=maintenance",
			"dockctl send lid action=open -follow 60s   # print its progress until it ends",
			"dockctl send route.put -json oldtown.json",
			"dockctl send reset",
		},
	}, stderr)
	bf := addBrokerFlags(fs)
	jsonFile := fs.String("json", "", "read the command's arguments from a JSON object in `FILE` (- for stdin); key=value pairs are added on top")
	id := fs.String("id", "", "request `id` (default: a fresh dockctl-... id); repeat an id to get its first reply again")
	follow := fs.Duration("follow", 0, "after an ok reply, print the command.progress events of this request until it ends ok (exit 0) or failed/canceled/timeout (exit 1), for at most this `duration` (lid, arms, charger, dispatch, patrol)")
	expires := fs.Duration("expires", 0, "refuse execution if the command arrives later than this `duration` from now (adds \"expires\")")
	fs.StringVar(&bf.signKeyFile, "sign-key", "", "shared HMAC `file` for command signing (default: mqtt.command_signing.key_file of the config)")
	var positional []string
	if code, stop := parseFlags(fs, stdout, stderr, func() (err error) {
		positional, err = parseInterleaved(fs, args)
		return err
	}); stop {
		return code
	}
	var err error
	if len(positional) == 0 {
		fs.Usage()
		return 2
	}
	name := positional[0]
	cmd := map[string]any{}
	if *jsonFile != "" {
		var data []byte
		if *jsonFile == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(*jsonFile)
		}
		if err == nil {
			err = json.Unmarshal(data, &cmd)
		}
		if err != nil {
			fmt.Fprintf(stderr, "dockctl send: read arguments from %s: %v\n", *jsonFile, err)
			return 2
		}
	}
	for _, kv := range positional[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "dockctl send: argument %q: want key=value\n", kv)
			return 2
		}
		cmd[k] = parseValue(v)
	}
	s, err := bf.resolve(true)
	if err != nil {
		fmt.Fprintf(stderr, "dockctl send: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return send(ctx, s, sendRequest{name: name, args: cmd, id: *id, expires: *expires, follow: *follow}, clockwork.NewRealClock(), stdout, stderr)
}

// parseInterleaved parses flags that may come before and after positional
// arguments ("send dispatch lat=1 -dock d1").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		i := 0
		for i < len(rest) && (!strings.HasPrefix(rest[i], "-") || rest[i] == "-") {
			positional = append(positional, rest[i])
			i++
		}
		if i == len(rest) {
			return positional, nil
		}
		args = rest[i:]
	}
}

// parseValue reads v as JSON when it is valid JSON, else as a string.
func parseValue(v string) any {
	var x any
	if err := json.Unmarshal([]byte(v), &x); err == nil {
		return x
	}
	return v
}

type sendRequest struct {
	name    string
	args    map[string]any
	id      string
	expires time.Duration
	follow  time.Duration // 0: do not wait for command.progress
}

// reply is the agent's answer on .../cmd/NAME/reply.
type reply struct {
	ID     *string         `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

func send(ctx context.Context, s *session, r sendRequest, clock clockwork.Clock, stdout, stderr io.Writer) int {
	if r.id == "" {
		r.id = fmt.Sprintf("dockctl-%d-%s", clock.Now().UnixMilli(), randomHex(3))
	}
	now := clock.Now().UTC()
	r.args["id"] = r.id
	if r.expires > 0 {
		r.args["expires"] = contract.FormatTime(now.Add(r.expires))
	}
	if len(s.signKey) > 0 {
		if _, ok := r.args["ts"]; !ok {
			r.args["ts"] = contract.FormatTime(now)
		}
	}
	payload, err := json.Marshal(r.args)
	if err != nil {
		fmt.Fprintf(stderr, "dockctl send: encode command: %v\n", err)
		return 2
	}
	if len(s.signKey) > 0 {
		if payload, err = contract.Sign(s.signKey, payload); err != nil {
			fmt.Fprintf(stderr, "dockctl send: %v\n", err)
			return 2
		}
	}
	c, err := s.connect(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "dockctl send: %v\n", err)
		return 1
	}
	defer c.close()
	topic := contract.CommandTopic(s.prefix, contract.Command(r.name))
	// Subscribe before sending so neither the reply nor an early progress
	// event can slip past.
	topics := []string{contract.ReplyTopic(s.prefix, contract.Command(r.name))}
	if r.follow > 0 {
		topics = append(topics, s.prefix+"events")
	}
	if err := c.subscribe(ctx, topics...); err != nil {
		fmt.Fprintf(stderr, "dockctl send: %v\n", err)
		return 1
	}
	if err := c.publish(ctx, topic, payload); err != nil {
		fmt.Fprintf(stderr, "dockctl send: %v\n", err)
		return 1
	}
	wait, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var early []progress // progress events that came before the reply
	for {
		select {
		case <-wait.Done():
			if errors.Is(wait.Err(), context.DeadlineExceeded) {
				fmt.Fprintf(stderr, "dockctl send: no reply to %s %s within %s (is the agent online? dockctl watch shows %sstatus)\n", r.name, r.id, s.timeout, s.prefix)
			}
			return 1
		case m := <-c.msgs:
			if m.topic == s.prefix+"events" {
				if p, ok := progressOf(m.payload, r.id); ok {
					early = append(early, p)
				}
				continue
			}
			var rep reply
			if json.Unmarshal(m.payload, &rep) != nil || rep.ID == nil || *rep.ID != r.id {
				continue // another client's reply
			}
			var pretty bytes.Buffer
			if json.Indent(&pretty, m.payload, "", "  ") != nil {
				pretty.Reset()
				pretty.Write(m.payload)
			}
			fmt.Fprintln(stdout, pretty.String())
			if !rep.OK {
				code, msg := "unknown", ""
				if rep.Error != nil {
					code, msg = rep.Error.Code, rep.Error.Message
				}
				fmt.Fprintf(stderr, "dockctl send: %s refused: %s: %s\n", r.name, code, msg)
				return 1
			}
			if r.follow <= 0 {
				return 0
			}
			return followProgress(ctx, c, s.prefix, r, early, stdout, stderr)
		}
	}
}

// progress is one command.progress event of our request.
type progress struct {
	Seq     float64 `json:"seq"`
	TS      string  `json:"ts"`
	ID      string  `json:"id"`
	Status  string  `json:"status"`
	Step    string  `json:"step"`
	Percent float64 `json:"percent"`
	Error   string  `json:"error"`
}

func progressOf(payload []byte, id string) (progress, bool) {
	var p struct {
		Type string `json:"type"`
		progress
	}
	if json.Unmarshal(payload, &p) != nil || p.Type != "command.progress" || p.ID != id {
		return progress{}, false
	}
	return p.progress, true
}

// followProgress prints the request's progress until a final status.
func followProgress(ctx context.Context, c *conn, prefix string, r sendRequest, early []progress, stdout, stderr io.Writer) int {
	wait, cancel := context.WithTimeout(ctx, r.follow)
	defer cancel()
	seen := map[float64]bool{} // delivery is at least once: drop repeated seqs
	show := func(p progress) (int, bool) {
		if seen[p.Seq] {
			return 0, false
		}
		seen[p.Seq] = true
		line := fmt.Sprintf("%s %-11s %3.0f%% %s", p.TS, p.Status, p.Percent, p.Step)
		if p.Error != "" {
			line += ": " + p.Error
		}
		fmt.Fprintln(stdout, line)
		switch p.Status {
		case "in_progress":
			return 0, false
		case "ok":
			return 0, true
		}
		fmt.Fprintf(stderr, "dockctl send: %s %s ended %s\n", r.name, r.id, p.Status)
		return 1, true
	}
	for _, p := range early {
		if code, done := show(p); done {
			return code
		}
	}
	for {
		select {
		case <-wait.Done():
			if errors.Is(wait.Err(), context.DeadlineExceeded) {
				fmt.Fprintf(stderr, "dockctl send: %s %s still running after %s (follow it with dockctl watch)\n", r.name, r.id, r.follow)
			}
			return 1
		case m := <-c.msgs:
			if m.topic != prefix+"events" {
				continue
			}
			if p, ok := progressOf(m.payload, r.id); ok {
				if code, done := show(p); done {
					return code
				}
			}
		}
	}
}
