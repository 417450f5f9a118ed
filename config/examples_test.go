package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The examples load on a clean checkout (secret files allowed missing), as
// `dock-agent -check -config config/examples/dock.yaml` does.
func TestExamplesLoad(t *testing.T) {
	tests := []struct {
		file        string
		wantSummary []string
	}{
		{"examples/dock.yaml", []string{
			"dock:      yx-north-01 at 24.350400, 102.542000, 1648.2 m AMSL",
			"ssl://mqtt1.police.example:8883, ssl://mqtt2.police.example:8883",
			"vehicle:   /dev/ttyAMA0 at 921600 baud, we are 245/191, target system 1",
			"signals:   15 (8 outputs, 7 inputs; 9 on GPIO, 6 on Modbus)",
			"weather:   bus weather unit 1, function 3, every 1s",
			"schedule:  old-town-night: route old-town, every 2h between 20:00-05:00 (Asia/Shanghai)",
			"schedule:  market-noon: route market, cron 0 12 * * * (Asia/Shanghai)",
			"schedule:  match-day: route stadium, every 30m between 16:00-23:00, active 2026-12-05..2026-12-05 (Asia/Shanghai)",
			"state dir: /var/lib/dock-agent",
		}},
		{"examples/bench.yaml", []string{
			"dock:      bench-1 at",
			"mqtt:      tcp://127.0.0.1:1883 (no auth), client dock-agent-bench-1, topics dock/bench-1/*",
			"signals:   16 (8 outputs, 8 inputs; 0 on GPIO, 16 on Modbus)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := LoadWithOptions(tt.file, LoadOptions{AllowMissingSecrets: true})
			if err != nil {
				t.Fatalf("Load(%s) = %v", tt.file, err)
			}
			s := c.Summary()
			for _, w := range tt.wantSummary {
				if !strings.Contains(s, w) {
					t.Errorf("Summary() lacks %q:\n%s", w, s)
				}
			}
		})
	}
}

// Without AllowMissingSecrets the dock example names the files it lacks.
func TestExampleDockNeedsSecrets(t *testing.T) {
	if _, err := os.Stat("/etc/dock-agent"); err == nil {
		t.Skip("/etc/dock-agent exists on this machine")
	}
	_, err := Load("examples/dock.yaml")
	if err == nil {
		t.Fatal("Load(examples/dock.yaml) = nil, want missing secret files")
	}
	got := problems(t, err)
	for _, key := range []string{"mqtt.password_file", "mqtt.tls.ca_file", "mqtt.tls.key_file",
		"mqtt.command_signing.key_file", "vehicle.signing.key_file"} {
		found := false
		for _, p := range got {
			found = found || strings.Contains(p, ": "+key+": stat /etc/dock-agent/")
		}
		if !found {
			t.Errorf("Load() problems lack %s:\n%s", key, strings.Join(got, "\n"))
		}
	}
}

// A copy of the dock example with its secrets in place (mode 0600; git
// does not keep modes, so they are made here) loads fully.
func TestExampleDockWithSecrets(t *testing.T) {
	data, err := os.ReadFile("examples/dock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc := strings.ReplaceAll(string(data), "/etc/dock-agent/", "secrets/")
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"ca.crt": "-----BEGIN CERTIFICATE-----\n", "client.crt": "-----BEGIN CERTIFICATE-----\n",
		"client.key": "-----BEGIN PRIVATE KEY-----\n", "mqtt.password": "pw\n",
		"command.key": "0123456789abcdef0123456789abcdef\n", "mavlink.key": testKeyHex + "\n",
	} {
		writeSecret(t, filepath.Join(dir, "secrets", name), content, 0o600)
	}
	path := filepath.Join(dir, "dock.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load(copy with secrets) = %v", err)
	}
	if len(c.Vehicle.Signing.Key()) != 32 || c.MQTT.PasswordSecret() != "pw" {
		t.Errorf("Load() did not read the secrets: key %d bytes, password set %t",
			len(c.Vehicle.Signing.Key()), c.MQTT.PasswordSecret() != "")
	}
	if strings.Contains(c.Summary(), "missing:") {
		t.Errorf("Summary() reports missing files:\n%s", c.Summary())
	}
	if got := c.Schedules[2].Every; got != 30*time.Minute {
		t.Errorf("match-day every = %v, want 30m", got)
	}
}
