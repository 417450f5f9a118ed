package config

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// fileNote is what Load found out about one file the config names.
type fileNote struct {
	Path    string // key path
	File    string
	Missing bool
}

// maxSecretBytes bounds what is read from a secret file.
const maxSecretBytes = 64 << 10

// checkFiles checks the files c names and reads the secrets into c.
func checkFiles(c *Config, v *validator, opts LoadOptions) {
	// open stats (and for secrets opens) one file; it returns nil when the
	// file is missing and that is allowed, or when a problem was recorded.
	open := func(path, file string, secret bool) *os.File {
		fi, err := os.Stat(file)
		if errors.Is(err, fs.ErrNotExist) && opts.AllowMissingSecrets {
			c.files = append(c.files, fileNote{Path: path, File: file, Missing: true})
			return nil
		}
		if err != nil {
			v.errf(path, "%v", err)
			return nil
		}
		if fi.IsDir() {
			v.errf(path, "%s is a directory, want a file", file)
			return nil
		}
		if secret && fi.Mode().Perm()&0o004 != 0 {
			v.errf(path, "%s is readable by everyone (mode %04o): run chmod 600 %s", file, fi.Mode().Perm(), file)
			return nil
		}
		c.files = append(c.files, fileNote{Path: path, File: file})
		f, err := os.Open(file)
		if err != nil {
			v.errf(path, "%v (is the file readable by the agent's user?)", err)
			return nil
		}
		return f
	}
	// readBytes returns the file's content as it is: key files are
	// decoded by DecodeKey, which decides what whitespace means.
	readBytes := func(path, file string) ([]byte, bool) {
		f := open(path, file, true)
		if f == nil {
			return nil, false
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
		if err != nil {
			v.errf(path, "read %s: %v", file, err)
			return nil, false
		}
		if len(b) > maxSecretBytes {
			v.errf(path, "%s is larger than %d bytes; is it the right file?", file, maxSecretBytes)
			return nil, false
		}
		if len(b) == 0 {
			v.errf(path, "%s is empty", file)
			return nil, false
		}
		return b, true
	}
	// read returns a text secret (a password) with surrounding whitespace
	// trimmed.
	read := func(path, file string) (string, bool) {
		b, ok := readBytes(path, file)
		if !ok {
			return "", false
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			v.errf(path, "%s is empty", file)
			return "", false
		}
		return s, true
	}
	check := func(path, file string, secret bool) {
		if f := open(path, file, secret); f != nil {
			f.Close()
		}
	}

	m := &c.MQTT
	if m.PasswordFile != "" {
		if s, ok := read("mqtt.password_file", m.PasswordFile); ok {
			sec := Secret(s)
			m.passwordFromFile = &sec
		}
	}
	if t := m.TLS; t != nil {
		if t.CAFile != "" {
			check("mqtt.tls.ca_file", t.CAFile, false)
		}
		if t.CertFile != "" {
			check("mqtt.tls.cert_file", t.CertFile, false)
		}
		if t.KeyFile != "" {
			check("mqtt.tls.key_file", t.KeyFile, true)
		}
	}
	if s := m.CommandSigning; s != nil && s.KeyFile != "" {
		if b, ok := readBytes("mqtt.command_signing.key_file", s.KeyFile); ok {
			if k, form, err := checkHMACKey(b); err != nil {
				v.errf("mqtt.command_signing.key_file", "%s: %v", s.KeyFile, err)
			} else {
				sec := Secret(k)
				s.key, s.keyForm = &sec, form
			}
		}
	}
	if s := c.Vehicle.Signing; s != nil && s.KeyFile != "" {
		if b, ok := readBytes("vehicle.signing.key_file", s.KeyFile); ok {
			if key, form, err := checkMAVLinkKey(b); err != nil {
				v.errf("vehicle.signing.key_file", "%s: %v", s.KeyFile, err)
			} else {
				s.key, s.keyForm = key, form
			}
		}
	}
	for _, name := range sortedKeys(v, "routes.", c.Routes) {
		if f := c.Routes[name].PlanFile; f != "" {
			fi, err := os.Stat(f)
			if err != nil {
				v.errf("routes."+name+".plan_file", "%v", err)
			} else if fi.IsDir() {
				v.errf("routes."+name+".plan_file", "%s is a directory, want a .plan file", f)
			}
		}
	}
}
