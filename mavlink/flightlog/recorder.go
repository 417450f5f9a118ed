package flightlog

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/mavlink/tlog"
	"github.com/jonboulle/clockwork"
)

// Defaults of Options.
const (
	DefaultMaxFileBytes  = 64 << 20
	DefaultMaxTotalBytes = 1 << 30
	DefaultFlushInterval = time.Second
)

// ErrNotRecording is returned by Stop when no sortie is being recorded.
var ErrNotRecording = errors.New("no flight log is being recorded")

// Options configures a Recorder.
type Options struct {
	// Dir holds the .tlog files (created if missing); required.
	Dir string
	// MaxFileBytes bounds one file: a sortie's log continues in a new part
	// file when the next record would pass it. 0 means 64 MiB.
	MaxFileBytes int64
	// MaxTotalBytes bounds all .tlog files in Dir: the oldest are removed
	// when a file is opened or rotated. 0 means 1 GiB.
	MaxTotalBytes int64
	// FlushInterval bounds how long a record may sit in the write buffer
	// (checked on each Write); 0 means 1 s.
	FlushInterval time.Duration
	Clock         clockwork.Clock // stamps records; nil means the real clock
	Log           *slog.Logger    // nil discards
}

// Recorder writes the sortie logs. Safe for concurrent use: Write may be
// called from the transport's reader and from senders at once.
type Recorder struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	name      string   // current sortie, "" when idle
	files     []string // current sortie's files, full paths
	f         *os.File
	bw        *bufio.Writer
	tw        *tlog.Writer
	size      int64 // bytes in the open file
	lastFlush time.Time
	frames    uint64
	errs      uint64
	lastErr   error
}

// New returns a Recorder writing into opts.Dir.
func New(opts Options) (*Recorder, error) {
	if opts.Dir == "" {
		return nil, errors.New("flight log: no directory given")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create flight log directory: %w", err)
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.MaxTotalBytes <= 0 {
		opts.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{opts: opts, log: log.With("component", "flightlog")}, nil
}

// Start begins recording a sortie into <name>.tlog (name is made safe for
// a file name; a taken name gets a numbered part). A sortie still being
// recorded is stopped first. It returns the file's path.
func (r *Recorder) Start(name string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.name != "" {
		r.stopLocked()
	}
	r.name = safeName(name)
	r.files = nil
	if err := r.openLocked(); err != nil {
		r.name = ""
		return "", err
	}
	r.log.Info("flight log started", "file", r.files[0])
	return r.files[0], nil
}

// Write records one raw frame stamped with the clock's time; it does
// nothing while no sortie is recorded. Write errors are counted and logged
// once (the flight goes on without its log), see Err.
func (r *Recorder) Write(raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tw == nil {
		return
	}
	now := r.opts.Clock.Now()
	if r.size > 0 && r.size+8+int64(len(raw)) > r.opts.MaxFileBytes {
		r.closeLocked()
		if err := r.openLocked(); err != nil {
			r.fail(err)
			return
		}
	}
	if err := r.tw.WriteFrame(now, raw); err != nil {
		r.fail(err)
		return
	}
	r.frames++
	if now.Sub(r.lastFlush) >= r.opts.FlushInterval {
		r.lastFlush = now
		if err := r.bw.Flush(); err != nil {
			r.fail(err)
		}
	}
}

func (r *Recorder) fail(err error) {
	r.errs++
	if r.lastErr == nil {
		r.log.Error("flight log write failed", "sortie", r.name, "err", err)
	}
	r.lastErr = err
}

// Err returns the last write error of the current or last sortie, nil if
// none.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// Frames returns how many frames were recorded since New.
func (r *Recorder) Frames() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// Stop ends the sortie and returns its files (full paths, oldest first)
// that still exist.
func (r *Recorder) Stop() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.name == "" {
		return nil, ErrNotRecording
	}
	return r.stopLocked()
}

func (r *Recorder) stopLocked() ([]string, error) {
	err := r.closeLocked()
	var files []string
	for _, f := range r.files {
		if _, serr := os.Stat(f); serr == nil {
			files = append(files, f)
		}
	}
	r.log.Info("flight log stopped", "sortie", r.name, "files", len(files))
	r.name, r.files = "", nil
	if err == nil {
		err = r.lastErr
	}
	r.lastErr = nil
	return files, err
}

// openLocked opens the sortie's next part file and prunes the directory.
func (r *Recorder) openLocked() error {
	var path string
	for part := len(r.files) + 1; ; part++ {
		base := r.name
		if part > 1 {
			base += "." + strconv.Itoa(part)
		}
		path = filepath.Join(r.opts.Dir, base+".tlog")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("open flight log: %w", err)
	}
	r.f = f
	r.bw = bufio.NewWriterSize(f, 64<<10)
	r.tw = tlog.NewWriter(countWriter{r}, tlog.WriterOptions{StripSignatures: true})
	r.size = 0
	r.lastFlush = r.opts.Clock.Now()
	r.files = append(r.files, path)
	r.pruneLocked()
	return nil
}

// countWriter counts the bytes written into the open file.
type countWriter struct{ r *Recorder }

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.r.bw.Write(b)
	c.r.size += int64(n)
	return n, err
}

func (r *Recorder) closeLocked() error {
	if r.f == nil {
		return nil
	}
	err := r.bw.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f, r.bw, r.tw = nil, nil, nil
	if err != nil {
		return fmt.Errorf("close flight log: %w", err)
	}
	return nil
}

// pruneLocked removes the oldest .tlog files until all fit MaxTotalBytes,
// other sorties' files first, never the open file.
func (r *Recorder) pruneLocked() {
	entries, err := os.ReadDir(r.opts.Dir)
	if err != nil {
		r.log.Warn("flight log directory not pruned", "err", err)
		return
	}
	type file struct {
		path   string
		size   int64
		mod    time.Time
		ours   bool
		isOpen bool
	}
	var files []file
	var total int64
	open := r.files[len(r.files)-1]
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tlog") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		p := filepath.Join(r.opts.Dir, e.Name())
		files = append(files, file{path: p, size: info.Size(), mod: info.ModTime(), ours: slices.Contains(r.files, p), isOpen: p == open})
		total += info.Size()
	}
	// Other sorties oldest first, then our closed parts oldest first.
	slices.SortStableFunc(files, func(a, b file) int {
		if a.ours != b.ours {
			if a.ours {
				return 1
			}
			return -1
		}
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	// Leave room for the open file to grow to its bound.
	budget := r.opts.MaxTotalBytes - r.opts.MaxFileBytes
	for _, f := range files {
		if total <= budget {
			break
		}
		if f.isOpen {
			continue
		}
		if err := os.Remove(f.path); err != nil {
			r.log.Warn("old flight log not removed", "file", f.path, "err", err)
			continue
		}
		r.log.Info("old flight log removed", "file", f.path, "bytes", f.size)
		total -= f.size
	}
}

// safeName keeps letters, digits, '-', '_' and '.', replacing the rest.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '_'
		}
	}
	s = strings.Trim(string(b), ".")
	if s == "" {
		s = "sortie"
	}
	return s
}
