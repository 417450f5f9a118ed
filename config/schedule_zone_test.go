package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocalZone(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "localtime")
	if err := os.Symlink("/usr/share/zoneinfo/Asia/Shanghai", link); err != nil {
		t.Fatal(err)
	}
	tzfile := filepath.Join(dir, "timezone")
	if err := os.WriteFile(tzfile, []byte("Europe/Berlin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(dir, "none")
	cases := []struct {
		name, tz, localtime, timezone, want string
	}{
		{"TZ wins", "America/New_York", link, tzfile, "America/New_York"},
		{"TZ with colon", ":Europe/Paris", link, tzfile, "Europe/Paris"},
		{"bad TZ falls through to the link", "Mars/Olympus", link, tzfile, "Asia/Shanghai"},
		{"link", "", link, tzfile, "Asia/Shanghai"},
		{"timezone file", "", none, tzfile, "Europe/Berlin"},
		{"nothing: UTC", "", none, none, "UTC"},
	}
	for _, c := range cases {
		if got := localZone(c.tz, c.localtime, c.timezone); got != c.want {
			t.Errorf("%s: localZone = %q, want %q", c.name, got, c.want)
		}
	}
}
