package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/testbench/broker"
	"github.com/dockagent/dock-agent/testbench/world"
)

// The MQTT cases of issue 21, against the real agent and the real
// mosquitto broker: a burst of commands is fully answered, and a retained
// dispatch is never flown again after broker and agent restarts.

// startMosquitto starts mosquitto for a case in o.Dir/name/mosquitto (or a
// temporary directory) and returns it with its cleanup.
func startMosquitto(o Options, name string) (*broker.Mosquitto, func(), error) {
	var dir string
	var err error
	if o.Dir != "" {
		dir = filepath.Join(o.Dir, name+"-mosquitto")
		err = os.MkdirAll(dir, 0o700)
	} else {
		dir, err = os.MkdirTemp("", "campaign-mosquitto-")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: mosquitto directory: %w", name, err)
	}
	m, err := broker.StartMosquitto(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, func() {
		_ = m.Stop()
		if o.Dir == "" {
			_ = os.RemoveAll(dir)
		}
	}, nil
}

// client connects a plain paho client (the command centre's publisher).
func client(ctx context.Context, url, id string, clean bool) (mqtt.Client, error) {
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(false).SetConnectRetry(false).SetMaxResumePubInFlight(0))
	tok := c.Connect()
	select {
	case <-tok.Done():
		if tok.Error() != nil {
			return nil, fmt.Errorf("connect %s as %s: %w", url, id, tok.Error())
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("connect %s as %s: %w", url, id, ctx.Err())
	}
	return c, nil
}

// replies returns the replies on topic (without prefix) whose id starts
// with idPrefix, by id, the last one of each id winning.
func replies(obs *world.Observer, topic, idPrefix string) map[string]world.Reply {
	out := map[string]world.Reply{}
	for _, m := range obs.Messages(topic) {
		var r world.Reply
		if json.Unmarshal(m.Payload, &r) == nil && strings.HasPrefix(r.ID, idPrefix) {
			out[r.ID] = r
		}
	}
	return out
}

func replyCode(r world.Reply) string {
	if r.OK {
		return "ok"
	}
	if r.Error != nil {
		return r.Error.Code
	}
	return "?"
}

// BurstResult is what RunBurst measured. Timing is reported, never a
// pass condition (STYLE.md §7): Pass asks for every command answered, ok
// or busy.
type BurstResult struct {
	Sent, Answered int
	Codes          map[string]int
	// Elapsed is wall time from the first publish to the last reply.
	Elapsed time.Duration
	// TelemetryGap is the longest wall time between two telemetry
	// messages from the first publish to the last reply (the observer's
	// arrival times); TelemetryPeriod is the configured one in wall time.
	TelemetryGap, TelemetryPeriod time.Duration
	Speed                         float64
	Load                          string // /proc/loadavg when the burst ended
}

// Pass reports whether every command got a reply, each ok or busy.
func (r BurstResult) Pass() bool {
	if r.Answered != r.Sent {
		return false
	}
	for code := range r.Codes {
		if code != "ok" && code != "busy" {
			return false
		}
	}
	return true
}

func (r BurstResult) String() string {
	codes := make([]string, 0, len(r.Codes))
	for code, n := range r.Codes {
		codes = append(codes, fmt.Sprintf("%s %d", code, n))
	}
	sort.Strings(codes)
	return fmt.Sprintf("burst: %d status commands, %d answered (%s) in %s; longest telemetry gap %s (period %s, speed x%g); load average %s\n",
		r.Sent, r.Answered, strings.Join(codes, ", "), r.Elapsed.Round(time.Millisecond), r.TelemetryGap.Round(time.Millisecond),
		r.TelemetryPeriod.Round(time.Millisecond), r.Speed, r.Load)
}

// RunBurst publishes n `status` commands at once (QoS 1, not waiting for
// each) to the real agent through mosquitto and waits up to 60 s for every
// reply, measuring the time to the last one and the longest gap in the
// agent's telemetry meanwhile (issue 21: 1000 commands -> 1000 replies
// within 10 s, telemetry gap < 1 s).
func RunBurst(ctx context.Context, o Options, n int) (BurstResult, error) {
	res := BurstResult{Sent: n, Codes: map[string]int{}, Speed: o.speed()}
	m, stopM, err := startMosquitto(o, "burst")
	if err != nil {
		return res, err
	}
	defer stopM()
	c, closeFn, err := startWith(ctx, o, "burst", func(wo *world.Options) { wo.BrokerURL = m.URL() })
	if err != nil {
		return res, err
	}
	defer closeFn()
	res.TelemetryPeriod = time.Duration(float64(time.Second) / c.W.Config.MQTT.TelemetryRateHz / o.speed())
	pub, err := client(ctx, m.URL(), fmt.Sprintf("campaign-burst-%d", time.Now().UnixNano()), true)
	if err != nil {
		return res, err
	}
	defer pub.Disconnect(100)

	topic := c.W.Prefix() + "cmd/status"
	idPrefix := fmt.Sprintf("burst-%d-", time.Now().UnixNano())
	start := time.Now()
	toks := make([]mqtt.Token, n)
	for i := range n {
		toks[i] = pub.Publish(topic, 1, false, fmt.Appendf(nil, `{"id":"%s%d"}`, idPrefix, i))
	}
	for i, tok := range toks {
		select {
		case <-tok.Done():
			if tok.Error() != nil {
				return res, fmt.Errorf("burst: publish command %d: %w", i, tok.Error())
			}
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last time.Time
	_ = c.Obs.Wait(wctx, func() bool {
		got := replies(c.Obs, "cmd/status/reply", idPrefix)
		res.Answered = len(got)
		return res.Answered == n
	})
	for _, msg := range c.Obs.Messages("cmd/status/reply") {
		var r world.Reply
		if json.Unmarshal(msg.Payload, &r) == nil && strings.HasPrefix(r.ID, idPrefix) && msg.Real.After(last) {
			last = msg.Real
		}
	}
	for _, r := range replies(c.Obs, "cmd/status/reply", idPrefix) {
		res.Codes[replyCode(r)]++
	}
	if last.IsZero() {
		last = time.Now()
	}
	res.Elapsed = last.Sub(start)
	prev := start
	for _, msg := range c.Obs.Messages("telemetry") {
		if msg.Real.Before(start) {
			prev = start
			continue
		}
		if msg.Real.After(last) {
			break
		}
		res.TelemetryGap = max(res.TelemetryGap, msg.Real.Sub(prev))
		prev = msg.Real
	}
	res.TelemetryGap = max(res.TelemetryGap, last.Sub(prev))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return res, nil
}

// RetainedResult is what RunRetained saw.
type RetainedResult struct {
	Sortie string // the one sortie the live delivery started
	// Stale is whether the delivery after the restarts was answered stale.
	Stale bool
	// Sorties are the distinct sortie ids in sortie.phase events.
	Sorties []string
	Steps   []string // what happened, for the report
	// Violations are invariant violations the world's witness counted.
	Violations int
}

// Pass reports whether the retained dispatch flew once and was answered
// stale after the restarts, with no invariant broken.
func (r RetainedResult) Pass() bool {
	return r.Sortie != "" && r.Stale && len(r.Sorties) == 1 && r.Violations == 0
}

func (r RetainedResult) String() string {
	return "retained: " + strings.Join(r.Steps, "; ") + "\n"
}

// RunRetained is issue 21's stale alarm against the real agent and a
// persistent mosquitto: a dispatch published retained flies once; the
// sortie ends; the agent stops, mosquitto restarts (the retained message
// survives in its database), the agent's session is purged and the agent
// starts again once its dedupe window (set to the 1 min minimum, plus the
// 5 min clock-skew margin, simulated) has passed. The retained dispatch it
// is handed again must be answered stale and start no sortie.
func RunRetained(ctx context.Context, o Options) (RetainedResult, error) {
	var res RetainedResult
	step := func(format string, args ...any) {
		res.Steps = append(res.Steps, fmt.Sprintf(format, args...))
		if o.Log != nil {
			o.Log("retained: "+format, args...)
		}
	}
	m, stopM, err := startMosquitto(o, "retained")
	if err != nil {
		return res, err
	}
	defer stopM()
	const dedupe = time.Minute
	c, closeFn, err := startWith(ctx, o, "retained", func(wo *world.Options) {
		wo.BrokerURL = m.URL()
		wo.Edit = func(cfg *config.Config) { cfg.MQTT.DedupeWindow = dedupe }
	})
	if err != nil {
		return res, err
	}
	defer closeFn()
	pub, err := client(ctx, m.URL(), fmt.Sprintf("campaign-retained-%d", time.Now().UnixNano()), true)
	if err != nil {
		return res, err
	}
	defer pub.Disconnect(100)

	wait := func(d time.Duration, what string, cond func() bool) error {
		wctx, cancel := c.within(ctx, d)
		defer cancel()
		if err := c.Obs.Wait(wctx, cond); err != nil {
			return fmt.Errorf("retained: %s: not within %s simulated: %w", what, d, err)
		}
		return nil
	}
	topic := c.W.Prefix() + "cmd/dispatch"
	// A gate may still refuse the first dispatch on a loaded machine (a
	// reading not yet fresh): then a new id is published retained, which
	// replaces the refused one on the broker, up to 5 times.
	var id string
	var first world.Reply
	for try := 1; ; try++ {
		id = fmt.Sprintf("retained-%d", time.Now().UnixNano())
		payload, _ := json.Marshal(map[string]any{"id": id, "lat": 24.3560, "lon": 102.5480, "loiter_s": 10, "priority": "alarm", "ref": "CAMPAIGN-RETAINED"})
		if tok := pub.Publish(topic, 1, true, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return res, fmt.Errorf("retained: publish the retained dispatch: %v", tok.Error())
		}
		if err := wait(time.Minute, "the live delivery's reply", func() bool {
			r, ok := replies(c.Obs, "cmd/dispatch/reply", id)[id]
			first = r
			return ok
		}); err != nil {
			return res, err
		}
		if first.OK {
			break
		}
		msg := replyCode(first)
		if first.Error != nil {
			msg += ": " + first.Error.Message
		}
		if try == 5 {
			return res, fmt.Errorf("retained: the live delivery was answered %s 5 times, want ok", msg)
		}
		step("live delivery refused (%s); trying again", msg)
		if err := c.sleepSim(ctx, 15*time.Second); err != nil {
			return res, err
		}
	}
	var sr struct {
		SortieID string `json:"sortie_id"`
	}
	_ = json.Unmarshal(first.Result, &sr)
	res.Sortie = sr.SortieID
	answeredAt := c.W.Clock().Now()
	step("live delivery answered ok, sortie %s", res.Sortie)
	sortieEnded := func() bool {
		for _, ev := range c.Obs.Events() {
			if ev.Type == "sortie.phase" && ev.Fields["sortie_id"] == res.Sortie && (ev.Fields["phase"] == "complete" || ev.Fields["phase"] == "aborted" || ev.Fields["phase"] == "failed") {
				return true
			}
		}
		return false
	}
	if err := wait(10*time.Minute, "sortie "+res.Sortie+" to end", func() bool { return sortieEnded() && endState(c.Obs.State()) == "secured" }); err != nil {
		return res, err
	}
	step("sortie ended, dock secured")

	if err := c.W.StopAgent(ctx); err != nil {
		return res, fmt.Errorf("retained: stop agent: %w", err)
	}
	if err := m.Restart(); err != nil {
		return res, fmt.Errorf("retained: restart mosquitto: %w", err)
	}
	step("agent stopped, mosquitto restarted")
	purge, err := client(ctx, m.URL(), c.W.Config.MQTT.ClientID, true)
	if err != nil {
		return res, fmt.Errorf("retained: purge the agent's session: %w", err)
	}
	purge.Disconnect(50)
	// Past the dedupe window and its clock-skew margin (telemetry
	// maxClockSkew, 5 min) since the id was stored, in the agent's
	// (simulated) time.
	until := answeredAt.Add(dedupe + 5*time.Minute + 10*time.Second)
	if d := until.Sub(c.W.Clock().Now()); d > 0 {
		if err := c.sleepSim(ctx, d); err != nil {
			return res, err
		}
	}
	step("session purged, dedupe window past")
	if err := c.W.StartAgent(ctx); err != nil {
		return res, fmt.Errorf("retained: start agent: %w", err)
	}
	if err := wait(time.Minute, "a stale reply after the restarts", func() bool {
		return replyCode(replies(c.Obs, "cmd/dispatch/reply", id)[id]) == "stale"
	}); err != nil {
		return res, err
	}
	res.Stale = true
	step("the retained dispatch redelivered to the restarted agent was answered stale")
	// Given the time a wrongly started sortie would take to report its
	// first phase.
	if err := c.sleepSim(ctx, 10*time.Second); err != nil {
		return res, err
	}
	seen := map[string]bool{}
	for _, ev := range c.Obs.Events() {
		if s, _ := ev.Fields["sortie_id"].(string); ev.Type == "sortie.phase" && s != "" && !seen[s] {
			seen[s] = true
			res.Sorties = append(res.Sorties, s)
		}
	}
	step("sorties seen: %d (%s)", len(res.Sorties), strings.Join(res.Sorties, ", "))
	c.W.Witness().Check()
	res.Violations = len(c.W.Witness().Violations())
	step("invariant violations: %d", res.Violations)
	return res, nil
}
