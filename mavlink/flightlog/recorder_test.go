package flightlog

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/tlog"
	"github.com/jonboulle/clockwork"
)

var t0 = time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)

func position(t testing.TB, seq uint8, signer *mavlink.Signer) []byte {
	t.Helper()
	b, err := mavlink.AppendMessage(nil, mavlink.Header{Seq: seq, SysID: 1, CompID: 1},
		&mavlink.GlobalPositionInt{TimeBootMS: uint32(seq), Lat: 525200000, Lon: 134050000}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readLog decodes a .tlog file as dockctl dump does and returns its frames'
// sequence numbers, failing on any damaged record or frame.
func readLog(t *testing.T, path string) (seqs []uint8, times []time.Time) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := tlog.NewReader(f)
	p := mavlink.NewParser(mavlink.ParserOptions{})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: record %d: %v", path, len(seqs), err)
		}
		var fr mavlink.Frame
		if _, err := p.Next(rec.Frame, true, &fr); err != nil {
			t.Fatalf("%s: record %d holds a bad frame: %v", path, len(seqs), err)
		}
		if fr.Signed() {
			t.Fatalf("%s: record %d is still signed", path, len(seqs))
		}
		seqs = append(seqs, fr.Seq)
		times = append(times, rec.Time)
	}
	if s := p.Stats(); s.BadCRC != 0 || s.BytesSkipped != 0 {
		t.Fatalf("%s: parser stats %+v, want no bad frames", path, s)
	}
	return seqs, times
}

func TestSortieLog(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	dir := t.TempDir()
	r, err := New(Options{Dir: filepath.Join(dir, "logs"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r.Write(position(t, 0, nil)) // not recording: ignored
	path, err := r.Start("s-20261205/patrol 1")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "s-20261205_patrol_1.tlog" {
		t.Fatalf("Start() = %s, want a safe file name", path)
	}
	signer := mavlink.NewSigner(mavlink.SignerOptions{Key: [32]byte{1}, Clock: clk})
	var wg sync.WaitGroup
	for i := range 2 { // the reader and a sender write at once
		wg.Go(func() {
			for j := range 50 {
				var s *mavlink.Signer
				if i == 1 {
					s = signer
				}
				r.Write(position(t, uint8(j), s))
			}
		})
	}
	wg.Wait()
	clk.Advance(1500 * time.Millisecond)
	r.Write(position(t, 200, nil))
	files, err := r.Stop()
	if err != nil || len(files) != 1 || files[0] != path {
		t.Fatalf("Stop() = %v, %v; want [%s]", files, err, path)
	}
	seqs, times := readLog(t, path)
	if len(seqs) != 101 || seqs[100] != 200 {
		t.Fatalf("log holds %d frames, want 101 ending with seq 200", len(seqs))
	}
	if !times[0].Equal(t0) || !times[100].Equal(t0.Add(1500*time.Millisecond)) {
		t.Fatalf("record times %v .. %v, want %v .. +1.5 s", times[0], times[100], t0)
	}
	if _, err := r.Stop(); !errors.Is(err, ErrNotRecording) {
		t.Fatalf("second Stop() = %v, want ErrNotRecording", err)
	}
	// The same sortie name again does not overwrite the first log.
	p2, err := r.Start("s-20261205/patrol 1")
	if err != nil || p2 == path {
		t.Fatalf("Start() again = %s, %v; want a new file", p2, err)
	}
	r.Stop()
}

func TestRotationAndBudget(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	dir := t.TempDir()
	frameLen := int64(8 + len(position(t, 0, nil)))
	perFile := int64(20)
	r, err := New(Options{Dir: dir, Clock: clk, MaxFileBytes: perFile * frameLen, MaxTotalBytes: 5 * perFile * frameLen})
	if err != nil {
		t.Fatal(err)
	}
	var all [][]string
	for sortie := range 4 {
		if _, err := r.Start("sortie-" + string(rune('a'+sortie))); err != nil {
			t.Fatal(err)
		}
		for i := range 50 { // 2.5 files per sortie
			r.Write(position(t, uint8(i), nil))
		}
		files, err := r.Stop()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, files)
		clk.Advance(time.Minute)
	}
	last := all[3]
	if len(last) != 3 {
		t.Fatalf("last sortie has files %v, want 3 parts", last)
	}
	var n int
	for _, f := range last {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > perFile*frameLen {
			t.Errorf("%s has %d bytes, bound %d", f, info.Size(), perFile*frameLen)
		}
		seqs, _ := readLog(t, f)
		for _, s := range seqs {
			if int(s) != n {
				t.Fatalf("%s: frame seq %d, want %d (parts continue in order)", f, s, n)
			}
			n++
		}
	}
	if n != 50 {
		t.Fatalf("last sortie's parts hold %d frames, want 50", n)
	}
	entries, _ := os.ReadDir(dir)
	var total int64
	for _, e := range entries {
		info, _ := e.Info()
		total += info.Size()
	}
	if total > 5*perFile*frameLen {
		t.Fatalf("directory holds %d bytes, budget %d", total, 5*perFile*frameLen)
	}
	if _, err := os.Stat(all[0][0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("oldest sortie's log %s still exists (stat %v), want it pruned", all[0][0], err)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"": "sortie", "..": "sortie", "../../etc/passwd": "_.._etc_passwd", "abc-1_2.x": "abc-1_2.x"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
