package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/tlog"
)

func testFrames(t *testing.T) [][]byte {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	signer := mavlink.NewSigner(mavlink.SignerOptions{Key: [32]byte{5}, Clock: clk})
	var st mavlink.Statustext
	copy(st.Text[:], "PreArm: Battery low")
	st.Severity = mavlink.MAV_SEVERITY_WARNING
	enc := func(h mavlink.Header, m mavlink.Message, s *mavlink.Signer) []byte {
		b, err := mavlink.AppendMessage(nil, h, m, s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// An id outside the table (12345), framed as v2 with a valid layout.
	unknown := []byte{0xfd, 3, 0, 0, 9, 1, 1, 0x39, 0x30, 0x00, 0xaa, 0xbb, 0xcc, 0x12, 0x34}
	return [][]byte{
		enc(mavlink.Header{Seq: 1, SysID: 1, CompID: 1}, &mavlink.GlobalPositionInt{Lat: 481234567, Lon: 115678901, RelativeAlt: 25000, Hdg: 9000}, nil),
		enc(mavlink.Header{Version: 1, Seq: 2, SysID: 1, CompID: 1}, &mavlink.Attitude{Roll: 0.25}, nil),
		enc(mavlink.Header{Seq: 3, SysID: 1, CompID: 1}, &st, signer),
		enc(mavlink.Header{Seq: 4, SysID: 1, CompID: 1}, &mavlink.BatteryStatus{Voltages: [10]uint16{4000, 4100}}, nil),
		unknown,
	}
}

var wantDump = []string{
	`{"v":2,"seq":1,"sysid":1,"compid":1,"msgid":33,"name":"GLOBAL_POSITION_INT","signed":false,"fields":{"time_boot_ms":0,"lat":481234567,"lon":115678901,"alt":0,"relative_alt":25000,"vx":0,"vy":0,"vz":0,"hdg":9000}}`,
	`{"v":1,"seq":2,"sysid":1,"compid":1,"msgid":30,"name":"ATTITUDE","signed":false,"fields":{"time_boot_ms":0,"roll":0.25,"pitch":0,"yaw":0,"rollspeed":0,"pitchspeed":0,"yawspeed":0}}`,
	`{"v":2,"seq":3,"sysid":1,"compid":1,"msgid":253,"name":"STATUSTEXT","signed":true,"fields":{"severity":4,"text":"PreArm: Battery low","id":0,"chunk_seq":0}}`,
	`{"v":2,"seq":4,"sysid":1,"compid":1,"msgid":147,"name":"BATTERY_STATUS","signed":false,"fields":{"id":0,"battery_function":0,"type":0,"temperature":0,"voltages":[4000,4100,0,0,0,0,0,0,0,0],"current_battery":0,"current_consumed":0,"energy_consumed":0,"battery_remaining":0,"time_remaining":0,"charge_state":0,"voltages_ext":[0,0,0,0],"mode":0,"fault_bitmask":0}}`,
	`{"v":2,"seq":9,"sysid":1,"compid":1,"msgid":12345,"name":null,"signed":false,"payload_hex":"aabbcc"}`,
}

func TestDumpTlog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flight.tlog")
	var buf bytes.Buffer
	w := tlog.NewWriter(&buf, tlog.WriterOptions{})
	t0 := time.Date(2026, 12, 5, 19, 0, 0, 123456000, time.UTC)
	for i, f := range testFrames(t) {
		if err := w.WriteFrame(t0.Add(time.Duration(i)*time.Second), f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"dump", path}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("dump exit %d, stderr %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(wantDump) {
		t.Fatalf("dump printed %d lines, want %d:\n%s", len(lines), len(wantDump), stdout.String())
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, l)
		}
		wantTime := t0.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000Z07:00")
		if m["time"] != wantTime {
			t.Errorf("line %d time = %v, want %s", i, m["time"], wantTime)
		}
		want := `{"time":"` + wantTime + `",` + wantDump[i][1:]
		if diff := cmp.Diff(want, l); diff != "" {
			t.Errorf("line %d (-want +got):\n%s", i, diff)
		}
	}
	if !strings.Contains(stderr.String(), "5 frames, 0 bad CRC") || !strings.Contains(stderr.String(), "1 unknown") {
		t.Errorf("summary = %q, want 5 frames, 0 bad CRC, 1 unknown", stderr.String())
	}
}

func TestDumpRawCapture(t *testing.T) {
	var capture []byte
	for _, f := range testFrames(t) {
		capture = append(capture, 0x00, 0xfe, 0x13) // line noise and a false start
		capture = append(capture, f...)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"dump", "-format", "raw", "-"}, bytes.NewReader(capture), &stdout, &stderr); code != 0 {
		t.Fatalf("dump exit %d, stderr %s", code, stderr.String())
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if diff := cmp.Diff(wantDump, got); diff != "" {
		t.Errorf("dump output (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr.String(), "5 frames") || !strings.Contains(stderr.String(), "bytes skipped") {
		t.Errorf("summary = %q", stderr.String())
	}
}

// TestDumpFormatHint: a flight log read as a raw capture, or a capture read
// as a flight log, gets a warning naming the other format; a file read in
// its own format gets none.
func TestDumpFormatHint(t *testing.T) {
	var tl bytes.Buffer
	w := tlog.NewWriter(&tl, tlog.WriterOptions{})
	t0 := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	for i := range 40 {
		for _, f := range testFrames(t)[:2] {
			if err := w.WriteFrame(t0.Add(time.Duration(i)*time.Second), f); err != nil {
				t.Fatal(err)
			}
		}
	}
	var raw []byte
	for range 40 {
		for _, f := range testFrames(t) {
			raw = append(raw, f...)
		}
	}
	tests := []struct {
		name     string
		args     []string
		in       []byte
		wantCode int
		want     string // in stderr; "" means no warning at all
	}{
		{"tlog as tlog", []string{"-format", "tlog"}, tl.Bytes(), 0, ""},
		{"raw as raw", []string{"-format", "raw"}, raw, 0, ""},
		{"tlog as raw", []string{"-format", "raw"}, tl.Bytes(), 0, "file starts with a .tlog timestamp (2026-12-05T19:00:00Z): is this a .tlog flight log? try -format tlog"},
		{"raw as tlog", []string{"-format", "tlog"}, raw, 1, "is this a raw MAVLink capture? try -format raw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append(append([]string{"dump"}, tc.args...), "-"), bytes.NewReader(tc.in), &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("dump exit %d, want %d; stderr %s", code, tc.wantCode, stderr.String())
			}
			switch {
			case tc.want == "" && strings.Contains(stderr.String(), "warning"):
				t.Errorf("stderr = %q, want no warning", stderr.String())
			case tc.want != "" && !strings.Contains(stderr.String(), tc.want):
				t.Errorf("stderr = %q, want %q", stderr.String(), tc.want)
			}
		})
	}
}

// TestHelp: every way of asking for help prints usage on stdout and exits
// 0; every subcommand's -h has examples.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}} {
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage: dockctl COMMAND") || errb.Len() != 0 {
			t.Errorf("dockctl %s = %d, stdout %q, stderr %q; want 0 and usage on stdout", args[0], code, out.String(), errb.String())
		}
	}
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}} {
			var out, errb bytes.Buffer
			code := run(args, nil, &out, &errb)
			if code != 0 || !strings.Contains(out.String(), "usage: dockctl "+c.name) || !strings.Contains(out.String(), "examples:\n  dockctl "+c.name) {
				t.Errorf("dockctl %s = %d, stdout %q, stderr %q; want 0 and usage with examples on stdout", strings.Join(args, " "), code, out.String(), errb.String())
			}
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"fly"}, 2},
		{"help for an unknown command", []string{"help", "fly"}, 2},
		{"bad flag", []string{"dump", "-nope", "x.tlog"}, 2},
		{"dump without file", []string{"dump"}, 2},
		{"dump bad format", []string{"dump", "-format", "csv", "-"}, 2},
		{"dump missing file", []string{"dump", filepath.Join(t.TempDir(), "nope.tlog")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(tc.args, bytes.NewReader(nil), &out, &errb); got != tc.want {
				t.Errorf("run(%q) = %d, want %d (stderr %s)", tc.args, got, tc.want, errb.String())
			}
		})
	}
}
