package schema

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func validator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatalf("NewValidator() = %v", err)
	}
	return v
}

// TestAsyncAPIRefersToSchemas: every channel's payload names a schema file
// that exists, and every command file has a channel and a result.
func TestAsyncAPIRefersToSchemas(t *testing.T) {
	b, err := fs.ReadFile(FS(), "asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Channels map[string]struct {
			Address  string `yaml:"address"`
			Messages map[string]struct {
				Payload struct {
					Schema struct {
						Ref string `yaml:"$ref"`
					} `yaml:"schema"`
				} `yaml:"payload"`
			} `yaml:"messages"`
		} `yaml:"channels"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	addresses := map[string]bool{}
	for name, ch := range doc.Channels {
		addresses[ch.Address] = true
		for m, msg := range ch.Messages {
			p := strings.TrimPrefix(msg.Payload.Schema.Ref, "./")
			if _, err := fs.Stat(FS(), p); err != nil {
				t.Errorf("channel %s message %s: schema %q: %v", name, m, msg.Payload.Schema.Ref, err)
			}
		}
	}
	cmds, err := fs.Glob(FS(), "cmd/*.json")
	if err != nil || len(cmds) == 0 {
		t.Fatalf("no command schemas: %v", err)
	}
	for _, c := range cmds {
		name := strings.TrimSuffix(strings.TrimPrefix(c, "cmd/"), ".json")
		if !addresses["dock/{dockId}/cmd/"+name] || !addresses["dock/{dockId}/cmd/"+name+"/reply"] {
			t.Errorf("command %s has no channel or reply channel in asyncapi.yaml", name)
		}
		if _, err := fs.Stat(FS(), "result/"+name+".json"); err != nil {
			t.Errorf("command %s has no result schema: %v", name, err)
		}
	}
}

// fence opens a documented example: ```json <topic>.
var fence = regexp.MustCompile("^```json ([a-z_./]+)$")

// TestDocsExamplesValidate: every example in docs/mqtt-api.md tagged with
// its topic validates against the schema (an events block holds one event
// per line).
func TestDocsExamplesValidate(t *testing.T) {
	v := validator(t)
	f, err := os.Open("../../docs/mqtt-api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var topic string
	var block []string
	n := 0
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		switch {
		case topic == "":
			if m := fence.FindStringSubmatch(l); m != nil {
				topic, block = m[1], nil
			}
		case l == "```":
			msgs := []string{strings.Join(block, "\n")}
			if topic == "events" {
				msgs = block
			}
			for _, m := range msgs {
				n++
				if err := v.Check(topic, []byte(m)); err != nil {
					t.Errorf("docs/mqtt-api.md example ending at line %d: %v", line, err)
				}
			}
			topic = ""
		default:
			block = append(block, l)
		}
	}
	if n < 10 {
		t.Errorf("%d tagged examples in docs/mqtt-api.md, want the status, state, telemetry, events and replies", n)
	}
}

// TestCheckRefuses: the schemas catch what the contract forbids.
func TestCheckRefuses(t *testing.T) {
	v := validator(t)
	for _, c := range []struct{ topic, payload, want string }{
		{"telemetry", `{"ts":"2026-12-05T19:00:00.123456789Z","lat":1,"lon":2,"alt_m":3,"rel_alt_m":0,"heading_deg":0,
			"ground_speed_mps":0,"climb_mps":0,"roll_deg":0,"pitch_deg":0,"mode":"GUIDED","armed":false,
			"battery":{"pct":null,"voltage_v":0,"current_a":0},"gps":{"fix":3,"sats":9,"hdop":1},"link":{"loss_pct":0,"rssi":0}}`, "ts"},
		{"cmd/dispatch", `{"id":"x","lat":1,"lon":2,"speed":9}`, "speed"},
		{"cmd/alert", `{"id":"x","lat":1}`, "lon"},
		{"cmd/quote/reply", `{"id":"x","ok":true,"result":{"eta_s":1}}`, "distance_m"},
		{"cmd/quote/reply", `{"id":"x","ok":false,"error":{"code":"nope","message":"m"}}`, "code"},
		{"events", `{"seq":1,"ts":"2026-12-05T19:00:00.000Z","type":"sortie.phase","sortie_id":"d-1","phase":"flying"}`, "phase"},
		{"status", `{"online":true}`, "version"},
	} {
		err := v.Check(c.topic, []byte(c.payload))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s, %s) = %v, want an error naming %q", c.topic, c.payload, err, c.want)
		}
	}
	if err := v.Check("mavlink/out", []byte("\xfd")); !errors.Is(err, ErrNoSchema) {
		t.Errorf("Check(mavlink/out) = %v, want ErrNoSchema", err)
	}
}
