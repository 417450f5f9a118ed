// Package sitl runs a real autopilot for the bench: ArduPilot's ArduCopter
// software-in-the-loop binary, which the developer builds from ArduPilot's
// sources on their own machine and names in DOCK_SITL (docs/bench.md).
// The project never ships, builds or downloads it.
//
// Start runs one SITL instance in a directory of its own (it keeps its
// eeprom.bin and logs in its working directory) and returns once its first
// serial port accepts TCP connections; the agent connects there as to a
// flight controller's telemetry port. Params writes extra parameter
// defaults; SetParam changes a parameter in flight through SITL's second
// serial port, as a technician's ground station would (e.g. a smaller
// BATT_CAPACITY to drain the battery's percentage for a recall test).
package sitl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// EnvBinary names the ArduCopter SITL binary; EnvDefaults optionally names
// its default parameter file(s) (comma separated), else copter.parm beside
// the binary is used when present.
const (
	EnvBinary   = "DOCK_SITL"
	EnvDefaults = "DOCK_SITL_DEFAULTS"
)

// Options configure one SITL instance. Binary, Dir and Home are required.
type Options struct {
	Binary string
	// Defaults are parameter files loaded first (ArduPilot's
	// Tools/autotest/default_params/copter.parm).
	Defaults []string
	// Params are written to a file loaded after Defaults.
	Params map[string]float64
	Dir    string
	// Home is where the vehicle stands at boot: lat, lon, alt_m AMSL.
	HomeLat, HomeLon, HomeAltM float64
	// Speedup runs the simulation this many times faster than real time
	// (best effort: a busy machine runs it slower). Default 1.
	Speedup float64
	// Instance shifts SITL's ports by 10 per instance (5760 + 10 × n).
	Instance int
	// Output receives SITL's stdout and stderr (nil: sitl.log in Dir).
	Output io.Writer
}

// SITL is one running instance.
type SITL struct {
	cmd  *exec.Cmd
	done chan error
	port int
	log  *os.File
}

// FromEnv returns the binary and default files the environment names, or
// "" when DOCK_SITL is not set.
func FromEnv() (binary string, defaults []string) {
	binary = os.Getenv(EnvBinary)
	if binary == "" {
		return "", nil
	}
	if d := os.Getenv(EnvDefaults); d != "" {
		return binary, strings.Split(d, ",")
	}
	if p := filepath.Join(filepath.Dir(binary), "copter.parm"); fileExists(p) {
		return binary, []string{p}
	}
	return binary, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Start runs the instance and waits (bounded by ctx) until its first
// serial port listens.
func Start(ctx context.Context, o Options) (*SITL, error) {
	if o.Binary == "" || o.Dir == "" {
		return nil, errors.New("start sitl: Binary and Dir are required")
	}
	if o.Speedup <= 0 {
		o.Speedup = 1
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("start sitl: %w", err)
	}
	defaults := append([]string(nil), o.Defaults...)
	if len(o.Params) > 0 {
		p := filepath.Join(o.Dir, "dock-bench.parm")
		if err := writeParams(p, o.Params); err != nil {
			return nil, fmt.Errorf("start sitl: %w", err)
		}
		defaults = append(defaults, p)
	}
	args := []string{
		"--model", "quad",
		"--speedup", strconv.FormatFloat(o.Speedup, 'f', -1, 64),
		"--home", fmt.Sprintf("%.7f,%.7f,%.1f,0", o.HomeLat, o.HomeLon, o.HomeAltM),
		"-I", strconv.Itoa(o.Instance),
	}
	if len(defaults) > 0 {
		args = append(args, "--defaults", strings.Join(defaults, ","))
	}
	s := &SITL{port: 5760 + 10*o.Instance, done: make(chan error, 1)}
	out := o.Output
	if out == nil {
		f, err := os.Create(filepath.Join(o.Dir, "sitl.log"))
		if err != nil {
			return nil, fmt.Errorf("start sitl: %w", err)
		}
		s.log, out = f, f
	}
	s.cmd = exec.Command(o.Binary, args...)
	s.cmd.Dir = o.Dir
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		s.closeLog()
		return nil, fmt.Errorf("start sitl %s: %w", o.Binary, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	for {
		c, err := net.DialTimeout("tcp", s.addr(0), time.Second)
		if err == nil {
			// SITL waits for this first connection before it runs; the
			// agent's own connection comes next, so close this probe only
			// once the port accepted.
			_ = c.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			s.closeLog()
			return nil, fmt.Errorf("start sitl: exited before listening on %s: %v (log in %s)", s.addr(0), err, o.Dir)
		case <-ctx.Done():
			_ = s.Close()
			return nil, fmt.Errorf("start sitl: no listener on %s: %w", s.addr(0), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func writeParams(path string, params map[string]float64) error {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, strconv.FormatFloat(params[n], 'f', -1, 64))
	}
	return os.WriteFile(path, []byte(b.String()), 0o640)
}

// addr is the TCP address of SERIAL0 (5760) or SERIAL1 (5762), shifted by
// the instance.
func (s *SITL) addr(serial int) string {
	if serial == 0 {
		return fmt.Sprintf("127.0.0.1:%d", s.port)
	}
	return fmt.Sprintf("127.0.0.1:%d", s.port+2)
}

// URL is the agent's vehicle.url for the instance: its SERIAL0 over TCP.
func (s *SITL) URL() string { return "tcp://" + s.addr(0) }

// SetParam sets a parameter through SITL's SERIAL1 (port 5762 + 10 ×
// instance) with PARAM_SET, as a ground station would, and waits for the
// PARAM_VALUE that confirms it.
func (s *SITL) SetParam(ctx context.Context, name string, v float64) error {
	var id [16]byte
	copy(id[:], name)
	_, err := s.paramExchange(ctx, name, &mavlink.ParamSet{TargetSystem: 1, TargetComponent: 1, ParamID: id, ParamValue: float32(v), ParamType: 9})
	if err != nil {
		return fmt.Errorf("sitl set %s: %w", name, err)
	}
	return nil
}

// GetParam reads a parameter through SITL's SERIAL1 (PARAM_REQUEST_READ).
func (s *SITL) GetParam(ctx context.Context, name string) (float64, error) {
	var id [16]byte
	copy(id[:], name)
	v, err := s.paramExchange(ctx, name, &mavlink.ParamRequestRead{TargetSystem: 1, TargetComponent: 1, ParamID: id, ParamIndex: -1})
	if err != nil {
		return 0, fmt.Errorf("sitl read %s: %w", name, err)
	}
	return v, nil
}

// paramExchange sends req once a second until the PARAM_VALUE of name
// arrives (ctx bounds it).
func (s *SITL) paramExchange(ctx context.Context, name string, req mavlink.Message) (float64, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.addr(1))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	frame, err := mavlink.AppendMessage(nil, mavlink.Header{SysID: 250, CompID: 190}, req, nil)
	if err != nil {
		return 0, err
	}
	p := mavlink.NewParser(mavlink.ParserOptions{})
	var buf []byte
	tmp := make([]byte, 4096)
	var last time.Time
	for {
		if time.Since(last) > time.Second {
			if _, err := c.Write(frame); err != nil {
				return 0, err
			}
			last = time.Now()
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(tmp)
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, err
		}
		buf = append(buf, tmp[:n]...)
		for len(buf) > 0 {
			var f mavlink.Frame
			used, ferr := p.Next(buf, false, &f)
			if used == 0 {
				break
			}
			if ferr == nil && f.MsgID == 22 {
				var pv mavlink.ParamValue
				if mavlink.DecodeMessage(&f, &pv) == nil && strings.TrimRight(string(pv.ParamID[:]), "\x00") == name {
					return float64(pv.ParamValue), nil
				}
			}
			buf = buf[used:]
		}
		buf = append([]byte(nil), buf...)
	}
}

// Close stops the instance and waits for it.
func (s *SITL) Close() error {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	err := <-s.done
	s.done <- err
	s.closeLog()
	return nil
}

func (s *SITL) closeLog() {
	if s.log != nil {
		_ = s.log.Close()
		s.log = nil
	}
}
