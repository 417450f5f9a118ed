package sortie

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// store keeps the engine's durable state as JSON files in one directory.
// Every write is atomic: a temporary file in the same directory, fsync,
// rename, fsync of the directory, so a crash leaves the old or the new
// content, never a torn file.
type store struct{ dir string }

// File names in the state directory.
const (
	fileRoutes    = "routes.json"
	fileSchedules = "schedules.json"
	fileLastRun   = "lastrun.json"
	fileBattery   = "battery.json"
	fileLaunch    = "launch.json"
	fileActive    = "active.json"
	fileQueue     = "queue.json"
	dirSorties    = "sorties"
)

func newStore(dir string) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, dirSorties), 0o750); err != nil {
		return nil, fmt.Errorf("create sortie store in %s: %w", dir, err)
	}
	return &store{dir: dir}, nil
}

// write stores v as JSON under name (relative to the directory).
func (s *store) write(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("store %s: encode: %w", name, err)
	}
	path := filepath.Join(s.dir, name)
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store %s: %w", name, werr)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename is durable once the directory is synced
		_ = d.Close()
	}
	return nil
}

// read decodes name into v; ok is false when the file does not exist.
func (s *store) read(name string, v any) (ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w", filepath.Join(s.dir, name), err)
	}
	return true, nil
}

// remove deletes name; a missing file is no error.
func (s *store) remove(name string) error {
	err := os.Remove(filepath.Join(s.dir, name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// quarantine moves a damaged file aside (name.damaged) so that the next
// write does not destroy what a person may want to look at.
func (s *store) quarantine(name string) error {
	p := filepath.Join(s.dir, name)
	if err := os.Rename(p, p+".damaged"); err != nil {
		return fmt.Errorf("move damaged %s aside: %w", name, err)
	}
	return nil
}
