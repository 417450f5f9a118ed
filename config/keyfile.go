package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"unicode"
	"unicode/utf8"
)

// KeyForm is how a key file was written: its bytes as they are, or a text
// encoding of them. DecodeKey decides it.
type KeyForm int

const (
	// KeyRaw is the file's bytes, byte for byte (nothing trimmed).
	KeyRaw KeyForm = iota
	// KeyHex is hex digits, decoded.
	KeyHex
	// KeyBase64 is standard base64 of KeyLen bytes, decoded.
	KeyBase64
	// KeyText is a line of printable text (a passphrase), used as it is
	// without its line end.
	KeyText
)

// String names the form as -check prints it.
func (f KeyForm) String() string {
	switch f {
	case KeyHex:
		return "hex"
	case KeyBase64:
		return "base64"
	case KeyText:
		return "text"
	default:
		return "raw bytes"
	}
}

// KeyLen is the length of a key written in base64 that DecodeKey decodes:
// a MAVLink 2 signing key is 32 bytes, and 32 bytes is also what an
// HMAC-SHA256 key should be (`openssl rand -base64 32`). Base64 text of any
// other length is taken as raw bytes, so that a text key that only happens
// to be valid base64 is not decoded behind its owner's back.
const KeyLen = 32

// DecodeKey returns the key a key file's content holds and the form it was
// written in. The rule, in order (config/README.md, Conventions):
//
//  1. t is the content without one trailing "\n" or "\r\n" (what an editor
//     or `openssl rand -hex 32 >file` adds); nothing else is trimmed.
//  2. t not empty, of even length and only hex digits (either case): hex,
//     the key is t decoded.
//  3. t is standard base64 with padding (RFC 4648 §4) of exactly KeyLen
//     bytes: base64, the key is t decoded.
//  4. t not empty, valid UTF-8 and without control characters (a
//     passphrase on one line): text, the key is t.
//  5. Otherwise: raw bytes, the key is the content byte for byte, with no
//     whitespace trimmed (a binary key may begin or end with 0x0c or 0x0a).
//
// A random binary key is therefore used byte for byte unless all of it
// happens to be printable text, hex or base64: for 32 random bytes a chance
// below 10^-10.
//
// DecodeKey never fails; the caller checks the key's length for its use.
// The returned slice does not alias content.
func DecodeKey(content []byte) ([]byte, KeyForm) {
	t := content
	if b, ok := bytes.CutSuffix(t, []byte("\n")); ok {
		t, _ = bytes.CutSuffix(b, []byte("\r"))
	}
	if len(t) > 0 && len(t)%2 == 0 && isHex(t) {
		k := make([]byte, len(t)/2)
		if _, err := hex.Decode(k, t); err == nil { // cannot fail on hex digits of even length
			return k, KeyHex
		}
	}
	if len(t) == base64.StdEncoding.EncodedLen(KeyLen) {
		// Decode may write up to DecodedLen bytes (33 here) before it knows
		// how much padding there is: a KeyLen buffer would be overrun.
		k := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
		if n, err := base64.StdEncoding.Strict().Decode(k, t); err == nil && n == KeyLen {
			return k[:n:n], KeyBase64
		}
	}
	if len(t) > 0 && isText(t) {
		return bytes.Clone(t), KeyText
	}
	return bytes.Clone(content), KeyRaw
}

// isText reports whether b is UTF-8 without control characters.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// MinHMACKeyLen is the shortest command-signing key accepted, in bytes
// after decoding.
const MinHMACKeyLen = 16

// ReadHMACKeyFile reads and decodes a command-signing key file (DecodeKey)
// as the agent's Load does, for tools (dockctl) that are given the file on
// their command line. The error names the file and what was wrong.
func ReadHMACKeyFile(path string) ([]byte, KeyForm, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, KeyRaw, fmt.Errorf("read command signing key: %w", err)
	}
	if len(b) > maxSecretBytes {
		return nil, KeyRaw, fmt.Errorf("command signing key %s is larger than %d bytes; is it the right file?", path, maxSecretBytes)
	}
	k, form, err := checkHMACKey(b)
	if err != nil {
		return nil, form, fmt.Errorf("command signing key %s: %w", path, err)
	}
	return k, form, nil
}

// checkHMACKey decodes a command-signing key file's content and checks
// its length.
func checkHMACKey(content []byte) ([]byte, KeyForm, error) {
	k, form := DecodeKey(content)
	if len(k) < MinHMACKeyLen {
		return nil, form, fmt.Errorf("read as %s, holds %d bytes; an HMAC key needs at least %d", form, len(k), MinHMACKeyLen)
	}
	return k, form, nil
}

// checkMAVLinkKey decodes a MAVLink 2 signing key file's content and
// checks that it is 32 bytes.
func checkMAVLinkKey(content []byte) (*[32]byte, KeyForm, error) {
	k, form := DecodeKey(content)
	if len(k) != 32 {
		return nil, form, fmt.Errorf("read as %s, holds %d bytes; a MAVLink signing key is 32 bytes: 64 hex digits, base64 of 32 bytes or the 32 bytes themselves", form, len(k))
	}
	return (*[32]byte)(k), form, nil
}
