package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// binaryKey is a 32-byte key whose first byte is 0x0c (form feed, which
// strings.TrimSpace removes) and whose last is 0x0a (newline), the bytes a
// trimming reader loses (issue 21).
var binaryKey = func() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(0x80 + i*7)
	}
	k[0], k[1], k[31] = 0x0c, 0x20, 0x0a
	return k
}()

func TestDecodeKey(t *testing.T) {
	hexKey := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8)
	b64 := base64.StdEncoding.EncodeToString(hexKey)
	b64of16 := base64.StdEncoding.EncodeToString(hexKey[:16])
	tests := []struct {
		name     string
		content  []byte
		wantKey  []byte
		wantForm KeyForm
	}{
		{"binary, first byte 0x0c, last 0x0a", binaryKey, binaryKey, KeyRaw},
		{"binary with a second trailing newline", append(bytes.Clone(binaryKey), '\n'), append(bytes.Clone(binaryKey), '\n'), KeyRaw},
		{"hex", []byte(hex.EncodeToString(hexKey)), hexKey, KeyHex},
		{"hex with newline", []byte(hex.EncodeToString(hexKey) + "\n"), hexKey, KeyHex},
		{"hex with CRLF", []byte(hex.EncodeToString(hexKey) + "\r\n"), hexKey, KeyHex},
		{"upper-case hex", []byte(strings.ToUpper(hex.EncodeToString(hexKey)) + "\n"), hexKey, KeyHex},
		{"hex of 16 bytes", []byte(hex.EncodeToString(hexKey[:16]) + "\n"), hexKey[:16], KeyHex},
		{"base64 of 32 bytes", []byte(b64 + "\n"), hexKey, KeyBase64},
		// Only base64 of KeyLen bytes is decoded; other lengths are text.
		{"base64 of 16 bytes is text", []byte(b64of16 + "\n"), []byte(b64of16), KeyText},
		{"base64 without padding is text", []byte(strings.TrimRight(b64, "=")), []byte(strings.TrimRight(b64, "=")), KeyText},
		{"odd number of hex digits is text", []byte("0123456789abcdef0\n"), []byte("0123456789abcdef0"), KeyText},
		{"passphrase", []byte("a-shared-hmac-key-of-enough-length\n"), []byte("a-shared-hmac-key-of-enough-length"), KeyText},
		{"passphrase keeps its spaces", []byte(" two words \n"), []byte(" two words "), KeyText},
		{"two trailing newlines are raw", []byte("passphrase\n\n"), []byte("passphrase\n\n"), KeyRaw},
		{"hex with two trailing newlines is raw", []byte(hex.EncodeToString(hexKey) + "\n\n"), []byte(hex.EncodeToString(hexKey) + "\n\n"), KeyRaw},
		{"tab inside is raw", []byte("pass\tphrase\n"), []byte("pass\tphrase\n"), KeyRaw},
		{"invalid UTF-8 is raw", []byte("pass\xffphrase"), []byte("pass\xffphrase"), KeyRaw},
		{"only a newline", []byte("\n"), []byte("\n"), KeyRaw},
		{"empty", nil, []byte{}, KeyRaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Clone(tt.content)
			key, form := DecodeKey(in)
			if form != tt.wantForm || !bytes.Equal(key, tt.wantKey) {
				t.Errorf("DecodeKey(%q) = %x, %s; want %x, %s", tt.content, key, form, tt.wantKey, tt.wantForm)
			}
			if len(key) > 0 && len(in) > 0 {
				key[0] ^= 0xff
				if !bytes.Equal(in, tt.content) {
					t.Errorf("DecodeKey(%q) returned a key that aliases its input", tt.content)
				}
			}
		})
	}
}

// TestLoadBinaryKeys: the agent's Load and dockctl's ReadHMACKeyFile use a
// binary key file byte for byte (the 0x0c case of issue 21), decode hex,
// and -check's summary says which form each key was read in.
func TestLoadBinaryKeys(t *testing.T) {
	dir := t.TempDir()
	writeSecret(t, filepath.Join(dir, "cmd.key"), string(binaryKey), 0o600)
	writeSecret(t, filepath.Join(dir, "mav.key"), string(binaryKey), 0o600)
	path := writeDock(t, dir, "  command_signing: {key_file: cmd.key}\n", "  signing: {key_file: mav.key}\n")
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if got := []byte(c.MQTT.CommandSigning.Key()); !bytes.Equal(got, binaryKey) {
		t.Errorf("CommandSigning.Key() = %x, want the file's bytes %x", got, binaryKey)
	}
	if got := c.Vehicle.Signing.Key(); !bytes.Equal(got, binaryKey) {
		t.Errorf("Signing.Key() = %x, want the file's bytes %x", got, binaryKey)
	}
	sum := c.Summary()
	for _, want := range []string{
		fmt.Sprintf("commands signed (HMAC, key %s read as raw bytes, 32 bytes, window 30s)", filepath.Join(dir, "cmd.key")),
		fmt.Sprintf("MAVLink 2 signing (key %s read as raw bytes, 32 bytes, require false)", filepath.Join(dir, "mav.key")),
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summary() lacks %q:\n%s", want, sum)
		}
	}
	if strings.Contains(sum, string(binaryKey[2:10])) {
		t.Errorf("Summary() shows key bytes:\n%s", sum)
	}

	k, form, err := ReadHMACKeyFile(filepath.Join(dir, "cmd.key"))
	if err != nil || form != KeyRaw || !bytes.Equal(k, binaryKey) {
		t.Errorf("ReadHMACKeyFile(binary) = %x, %s, %v; want %x, raw bytes, nil", k, form, err, binaryKey)
	}

	// The same keys in hex: same bytes, and the summary says hex.
	writeSecret(t, filepath.Join(dir, "cmd.key"), hex.EncodeToString(binaryKey)+"\n", 0o600)
	writeSecret(t, filepath.Join(dir, "mav.key"), base64.StdEncoding.EncodeToString(binaryKey)+"\n", 0o600)
	c, err = Load(path)
	if err != nil {
		t.Fatalf("Load() with text keys = %v", err)
	}
	if got := []byte(c.MQTT.CommandSigning.Key()); !bytes.Equal(got, binaryKey) {
		t.Errorf("CommandSigning.Key() from hex = %x, want %x", got, binaryKey)
	}
	if got := c.Vehicle.Signing.Key(); !bytes.Equal(got, binaryKey) {
		t.Errorf("Signing.Key() from base64 = %x, want %x", got, binaryKey)
	}
	sum = c.Summary()
	for _, want := range []string{"read as hex, 32 bytes, window", "read as base64, 32 bytes, require"} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summary() lacks %q:\n%s", want, sum)
		}
	}
}

func TestReadHMACKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	writeSecret(t, short, "00112233445566778899\n", 0o600) // 10 bytes in hex
	_, _, err := ReadHMACKeyFile(short)
	if want := "command signing key " + short + ": read as hex, holds 10 bytes; an HMAC key needs at least 16"; err == nil || err.Error() != want {
		t.Errorf("ReadHMACKeyFile(short) = %v, want %q", err, want)
	}
	_, _, err = ReadHMACKeyFile(filepath.Join(dir, "absent.key"))
	if err == nil || !strings.Contains(err.Error(), "read command signing key: open "+filepath.Join(dir, "absent.key")) {
		t.Errorf("ReadHMACKeyFile(absent) = %v, want a read error naming the file", err)
	}
}

// FuzzDecodeKey: any content decodes without panic, and the key re-encodes
// in its form to exactly the bytes it was read from.
func FuzzDecodeKey(f *testing.F) {
	f.Add(binaryKey)
	f.Add([]byte(testKeyHex + "\n"))
	f.Add([]byte(base64.StdEncoding.EncodeToString(binaryKey) + "\r\n"))
	f.Add([]byte("a-shared-hmac-key-of-enough-length\n"))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		key, form := DecodeKey(content)
		t1 := content // the content without one line end, as DecodeKey's rule 1
		if b, ok := bytes.CutSuffix(content, []byte("\n")); ok {
			t1, _ = bytes.CutSuffix(b, []byte("\r"))
		}
		var got []byte
		switch form {
		case KeyRaw:
			got = key
			t1 = content
		case KeyHex:
			got = []byte(hex.EncodeToString(key))
			t1 = bytes.ToLower(t1)
		case KeyBase64:
			if len(key) != KeyLen {
				t.Fatalf("DecodeKey(%q) = base64 of %d bytes, want %d", content, len(key), KeyLen)
			}
			got = []byte(base64.StdEncoding.EncodeToString(key))
		case KeyText:
			got = key
		default:
			t.Fatalf("DecodeKey(%q) form = %d", content, form)
		}
		if !bytes.Equal(got, t1) {
			t.Fatalf("DecodeKey(%q) = %x as %s, re-encoded %q, want %q", content, key, form, got, t1)
		}
	})
}
