package tlog

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/mavlink"
)

func TestWriteRead(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	signer := mavlink.NewSigner(mavlink.SignerOptions{Key: [32]byte{1}, Clock: clk})
	hb, _ := mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1}, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR}, nil)
	v1, _ := mavlink.AppendMessage(nil, mavlink.Header{Version: 1, SysID: 1, CompID: 1}, &mavlink.Attitude{Roll: 0.5}, nil)
	signed, _ := mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1}, &mavlink.Heartbeat{Type: mavlink.MAV_TYPE_QUADROTOR}, signer)
	setup, _ := mavlink.AppendPayload(nil, mavlink.Header{SysID: 255, CompID: 1}, 256, make([]byte, 42), nil)
	tests := []struct {
		name  string
		strip bool
		in    [][]byte
		want  [][]byte
	}{
		{"as given", false, [][]byte{hb, v1, signed}, [][]byte{hb, v1, signed}},
		{"stripped", true, [][]byte{hb, signed}, [][]byte{hb, hb}},
		{"setup signing never logged", false, [][]byte{hb, setup, hb}, [][]byte{hb, hb}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, WriterOptions{StripSignatures: tc.strip})
			t0 := clk.Now()
			for i, f := range tc.in {
				if err := w.WriteFrame(t0.Add(time.Duration(i)*time.Millisecond), f); err != nil {
					t.Fatal(err)
				}
			}
			r := NewReader(&buf)
			for i, want := range tc.want {
				rec, err := r.Next()
				if err != nil {
					t.Fatalf("Next() #%d = %v", i, err)
				}
				if !bytes.Equal(rec.Frame, want) {
					t.Errorf("record %d frame = %x, want %x", i, rec.Frame, want)
				}
				if rec.Time.Before(t0) {
					t.Errorf("record %d time %v before %v", i, rec.Time, t0)
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next() at end = %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	hb, _ := mavlink.AppendMessage(nil, mavlink.Header{SysID: 1, CompID: 1}, &mavlink.Heartbeat{}, nil)
	rec := append(make([]byte, 8), hb...)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"cut record", rec[:len(rec)-3], io.ErrUnexpectedEOF},
		{"not a frame", append(make([]byte, 8), 0x00, 0x01), ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewReader(bytes.NewReader(tc.in)).Next(); !errors.Is(err, tc.want) {
				t.Errorf("Next() = %v, want %v", err, tc.want)
			}
		})
	}
}
