package config

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeDock writes a config to dir/dock.yaml: the base config plus the
// extra mqtt and vehicle keys, and returns its path.
func writeDock(t *testing.T, dir, mqttExtra, vehicleExtra string) string {
	t.Helper()
	doc := strings.Replace(baseYAML, "  brokers: [tcp://127.0.0.1:1883]\n", "  brokers: [tcp://127.0.0.1:1883]\n"+mqttExtra, 1)
	doc = strings.Replace(doc, "  baud: 57600\n", "  baud: 57600\n"+vehicleExtra, 1)
	path := filepath.Join(dir, "dock.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeSecret(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is masked by umask
		t.Fatal(err)
	}
}

var testKeyHex = strings.Repeat("0123456789abcdef", 4)

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	writeSecret(t, filepath.Join(dir, "mqtt.pw"), "s3cret\n", 0o600)
	writeSecret(t, filepath.Join(dir, "open.pw"), "s3cret\n", 0o644)
	writeSecret(t, filepath.Join(dir, "empty.pw"), "\n", 0o600)
	writeSecret(t, filepath.Join(dir, "cmd.key"), "a-shared-hmac-key-of-enough-length", 0o600)
	writeSecret(t, filepath.Join(dir, "short.key"), "short", 0o600)
	writeSecret(t, filepath.Join(dir, "mav.key"), testKeyHex+"\n", 0o600)
	writeSecret(t, filepath.Join(dir, "bad.key"), "not hex", 0o600)
	mqtt := func(pw string) string { return "  username: u\n  password_file: " + pw + "\n" }
	signing := func(key string) string { return "  signing: {key_file: " + key + ", link_id: 1}\n" }

	tests := []struct {
		name          string
		mqtt, vehicle string
		allowMissing  bool
		want          []string // problems; %s is the temp dir
	}{
		{name: "relative password file", mqtt: mqtt("mqtt.pw")},
		{name: "absolute key files", mqtt: mqtt(filepath.Join(dir, "mqtt.pw")) +
			"  command_signing: {key_file: cmd.key}\n", vehicle: signing(filepath.Join(dir, "mav.key"))},
		{
			name: "world-readable password file",
			mqtt: mqtt("open.pw"),
			want: []string{"%[1]s/dock.yaml:6: mqtt.password_file: %[1]s/open.pw is readable by everyone (mode 0644): run chmod 600 %[1]s/open.pw"},
		},
		{
			name: "world-readable even when missing files are allowed",
			mqtt: mqtt("open.pw"), allowMissing: true,
			want: []string{"%[1]s/dock.yaml:6: mqtt.password_file: %[1]s/open.pw is readable by everyone (mode 0644): run chmod 600 %[1]s/open.pw"},
		},
		{
			name: "missing password file",
			mqtt: mqtt("nope.pw"),
			want: []string{"%[1]s/dock.yaml:6: mqtt.password_file: stat %[1]s/nope.pw: no such file or directory"},
		},
		{name: "missing password file allowed", mqtt: mqtt("nope.pw"), allowMissing: true},
		{
			name: "empty password file",
			mqtt: mqtt("empty.pw"),
			want: []string{"%[1]s/dock.yaml:6: mqtt.password_file: %[1]s/empty.pw is empty"},
		},
		{
			name: "short hmac key",
			mqtt: "  command_signing: {key_file: short.key}\n",
			want: []string{"%[1]s/dock.yaml:5: mqtt.command_signing.key_file: %[1]s/short.key: read as text, holds 5 bytes; an HMAC key needs at least 16"},
		},
		{
			name:    "bad mavlink key",
			vehicle: signing("bad.key"),
			want:    []string{"%[1]s/dock.yaml:8: vehicle.signing.key_file: %[1]s/bad.key: read as text, holds 7 bytes; a MAVLink signing key is 32 bytes: 64 hex digits, base64 of 32 bytes or the 32 bytes themselves"},
		},
		{
			name: "world-readable tls key",
			mqtt: "  tls: {key_file: open.pw, cert_file: mqtt.pw}\n",
			want: []string{"%[1]s/dock.yaml:5: mqtt.tls: set, but no broker uses ssl://, tls://, mqtts://, tcps:// or wss://", "%[1]s/dock.yaml:5: mqtt.tls.key_file: %[1]s/open.pw is readable by everyone (mode 0644): run chmod 600 %[1]s/open.pw"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeDock(t, dir, tt.mqtt, tt.vehicle)
			c, err := LoadWithOptions(path, LoadOptions{AllowMissingSecrets: tt.allowMissing})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load() = %v, nil; want problems", c)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = fmt.Sprintf(w, dir)
			}
			if diff := cmp.Diff(want, problems(t, err)); diff != "" {
				t.Errorf("Load() problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadReadsSecrets(t *testing.T) {
	dir := t.TempDir()
	writeSecret(t, filepath.Join(dir, "mqtt.pw"), "s3cret\n", 0o600)
	writeSecret(t, filepath.Join(dir, "cmd.key"), "a-shared-hmac-key-of-enough-length\n", 0o600)
	writeSecret(t, filepath.Join(dir, "mav.key"), testKeyHex, 0o600)
	path := writeDock(t, dir, "  username: u\n  password_file: mqtt.pw\n  command_signing: {key_file: cmd.key}\n",
		"  signing: {key_file: mav.key}\n")
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	wantKey, _ := hex.DecodeString(testKeyHex)
	if got := string(c.MQTT.PasswordSecret()); got != "s3cret" {
		t.Errorf("PasswordSecret() = %q, want s3cret", got)
	}
	if got := string(c.MQTT.CommandSigning.Key()); got != "a-shared-hmac-key-of-enough-length" {
		t.Errorf("CommandSigning.Key() = %q", got)
	}
	if got := c.Vehicle.Signing.Key(); !bytes.Equal(got, wantKey) {
		t.Errorf("Signing.Key() = %x, want %x", got, wantKey)
	}
	if got, want := c.MQTT.PasswordFile, filepath.Join(dir, "mqtt.pw"); got != want {
		t.Errorf("PasswordFile = %q, want resolved %q", got, want)
	}

	// Nothing prints or logs the secrets.
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s", c, c.MQTT, c.MQTT, c.MQTT.PasswordSecret())
	slog.New(slog.NewJSONHandler(&out, nil)).Info("cfg", "pw", c.MQTT.PasswordSecret(), "mqtt", c.MQTT)
	slog.New(slog.NewTextHandler(&out, nil)).Info("cfg", "pw", c.MQTT.PasswordSecret(), "key", c.MQTT.CommandSigning.Key())
	for _, secret := range []string{"s3cret", "a-shared-hmac-key"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("printed config shows secret %q:\n%s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Errorf("printed config has no [redacted]:\n%s", out.String())
	}
}
