package schedule

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeEntries(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, es []Entry)
	}{
		{"cron", `[{"name":"a","route":"r","cron":"0 */2 * * *","time_zone":"Europe/Berlin","grace":"10m"}]`, func(t *testing.T, es []Entry) {
			if es[0].Cron != "0 */2 * * *" || es[0].Grace != 10*time.Minute || es[0].Location().String() != "Europe/Berlin" {
				t.Errorf("entry = %+v", es[0])
			}
		}},
		{"window", `[{"name":"a","route":"r","every":"2h","between":"20:00-05:00","time_zone":"Europe/Berlin"}]`, func(t *testing.T, es []Entry) {
			if es[0].Every != 2*time.Hour || es[0].Between != (Window{20 * time.Hour, 5 * time.Hour}) {
				t.Errorf("entry = %+v", es[0])
			}
		}},
		{"when event day", `[{"name":"match","route":"stadium","when":"2026-12-05 16:00 to 2026-12-05 23:00 every 30m","time_zone":"Europe/Berlin"}]`, func(t *testing.T, es []Entry) {
			want := Range{time.Date(2026, 12, 5, 16, 0, 0, 0, loc), time.Date(2026, 12, 5, 23, 0, 0, 0, loc)}
			if es[0].Every != 30*time.Minute || !es[0].Active.From.Equal(want.From) || !es[0].Active.To.Equal(want.To) {
				t.Errorf("entry = %+v", es[0])
			}
			if n := len(Upcoming(es, want.From.Add(-time.Hour), 100)); n != 15 {
				t.Errorf("%d fire times on the event day, want 15 (16:00..23:00 every 30m)", n)
			}
		}},
		{"at local and rfc3339", `[{"name":"a","route":"r","at":["2026-12-05 18:00","2026-12-05T16:00:00Z"],"time_zone":"Europe/Berlin","active":{"to":"2026-12-31 00:00"}}]`, func(t *testing.T, es []Entry) {
			if len(es[0].At) != 2 || !es[0].At[0].Equal(time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)) || !es[0].At[1].Equal(time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)) {
				t.Errorf("at = %v", es[0].At)
			}
		}},
		{"empty list", `[]`, func(t *testing.T, es []Entry) {
			if len(es) != 0 {
				t.Errorf("entries = %v", es)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := DecodeEntries(json.RawMessage(tt.in))
			if err != nil {
				t.Fatalf("DecodeEntries() = %v", err)
			}
			tt.check(t, es)
			// Encoding and decoding again gives the same fire times.
			b, err := json.Marshal(es)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeEntries(b)
			if err != nil {
				t.Fatalf("DecodeEntries(%s) = %v", b, err)
			}
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			if a, b := Upcoming(es, now, 20), Upcoming(again, now, 20); len(a) != len(b) {
				t.Errorf("after round trip %d fire times, want %d", len(b), len(a))
			}
		})
	}
}

func TestDecodeEntriesErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantIndex int
		wantField string
		wantText  string
	}{
		{"unknown field", `[{"name":"a","route":"r","cron":"@daily","evry":"2h"}]`, -1, "", `unknown field "evry"`},
		{"not an array", `{"name":"a"}`, -1, "", "cannot unmarshal"},
		{"null", `null`, -1, "", "want an array"},
		{"trailing", `[] []`, -1, "", "trailing data"},
		{"bad zone second", `[{"name":"a","route":"r","cron":"@daily"},{"name":"b","route":"r","cron":"@daily","time_zone":"Europe/Berln"}]`, 1, "time_zone", `unknown time zone "Europe/Berln"`},
		{"duplicate name", `[{"name":"a","route":"r","cron":"@daily"},{"name":"a","route":"r","cron":"@hourly"}]`, 1, "name", "already used by entries[0]"},
		{"bad cron", `[{"name":"a","route":"r","cron":"0 25 * * *"}]`, 0, "cron", "parse"},
		{"every fractional", `[{"name":"a","route":"r","every":"90.5s"}]`, 0, "every", "whole seconds"},
		{"every not minutes", `[{"name":"a","route":"r","every":"90s"}]`, 0, "every", "whole minutes"},
		{"every not a duration", `[{"name":"a","route":"r","every":7200}]`, -1, "", "cannot unmarshal number"},
		{"every words", `[{"name":"a","route":"r","every":"2 hours"}]`, 0, "every", "not a duration"},
		{"old zone", `[{"name":"a","route":"r","cron":"@daily","zone":"UTC"}]`, 0, "zone", "renamed time_zone"},
		{"old every_s", `[{"name":"a","route":"r","every_s":7200}]`, 0, "every_s", "renamed every"},
		{"old grace_s", `[{"name":"a","route":"r","cron":"@daily","grace_s":600}]`, 0, "grace_s", "renamed grace"},
		{"bad window", `[{"name":"a","route":"r","every":"10m","between":"20:00"}]`, 0, "between", "HH:MM-HH:MM"},
		{"bad at", `[{"name":"a","route":"r","at":["tomorrow"]}]`, 0, "at[0]", "RFC 3339"},
		{"bad active", `[{"name":"a","route":"r","cron":"@daily","active":{"from":"x"}}]`, 0, "active.from", "RFC 3339"},
		{"when with every", `[{"name":"a","route":"r","when":"every 1h","every":"10m"}]`, 0, "when", "excludes"},
		{"bad when", `[{"name":"a","route":"r","when":"every 2 hours"}]`, 0, "when", "whole minutes"},
		{"negative grace", `[{"name":"a","route":"r","cron":"@daily","grace":"-1s"}]`, 0, "grace", "out of range"},
		{"no kind", `[{"name":"a","route":"r"}]`, 0, "cron", "exactly one"},
		{"missing route", `[{"name":"a","cron":"@daily"}]`, 0, "route", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEntries(json.RawMessage(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("DecodeEntries() = %v, want containing %q", err, tt.wantText)
			}
			var fe *FieldError
			if tt.wantField == "" {
				return
			}
			if !errors.As(err, &fe) || fe.Index != tt.wantIndex || fe.Field != tt.wantField {
				t.Errorf("DecodeEntries() = %v, want *FieldError entries[%d].%s", err, tt.wantIndex, tt.wantField)
			}
		})
	}
}

func TestParseWhen(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		in      string
		want    When
		wantErr string
	}{
		{"every 2h between 20:00 and 05:00", When{Every: 2 * time.Hour, Between: Window{20 * time.Hour, 5 * time.Hour}}, ""},
		{"Every 30m", When{Every: 30 * time.Minute}, ""},
		{"2026-12-05 16:00 to 2026-12-05 23:00 every 30m", When{Every: 30 * time.Minute, Active: Range{time.Date(2026, 12, 5, 16, 0, 0, 0, loc), time.Date(2026, 12, 5, 23, 0, 0, 0, loc)}}, ""},
		{"every 1h30m from 2026-12-05 16:00 to 2026-12-06 02:00 between 18:00 and 01:00", When{Every: 90 * time.Minute, Between: Window{18 * time.Hour, time.Hour},
			Active: Range{time.Date(2026, 12, 5, 16, 0, 0, 0, loc), time.Date(2026, 12, 6, 2, 0, 0, 0, loc)}}, ""},
		{"between 20:00 and 05:00", When{}, "missing every"},
		{"every", When{}, "needs a duration"},
		{"every 10s", When{}, "whole minutes"},
		{"every 2h every 3h", When{}, "given twice"},
		{"every 2h between 20:00 and 25:00", When{}, "HH:MM"},
		{"every 2h between 20:00", When{}, "between HH:MM and HH:MM"},
		{"2026-12-05 23:00 to 2026-12-05 16:00 every 30m", When{}, "ends before it starts"},
		{"every 2h on mondays", When{}, "unexpected"},
		{"", When{}, "missing every"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWhen(tt.in, loc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseWhen() = %+v, %v, want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWhen() = %v", err)
			}
			if got.Every != tt.want.Every || got.Between != tt.want.Between || !got.Active.From.Equal(tt.want.Active.From) || !got.Active.To.Equal(tt.want.Active.To) {
				t.Errorf("ParseWhen() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestUpcoming(t *testing.T) {
	es, err := DecodeEntries([]byte(`[
		{"name":"night","route":"oldtown","when":"every 2h between 20:00 and 05:00","time_zone":"Europe/Berlin"},
		{"name":"market","route":"market","cron":"0 12 * * 1-5","time_zone":"Europe/Berlin"},
		{"name":"same","route":"x","cron":"0 20 * * *","time_zone":"Europe/Berlin"}]`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC) // Friday 11:00 Berlin
	got := Upcoming(es, now, 5)
	want := []string{"market 11:00", "night 19:00", "same 19:00", "night 21:00", "night 23:00"}
	if len(got) != len(want) {
		t.Fatalf("Upcoming() = %v", got)
	}
	for i, f := range got {
		if s := f.Entry + " " + f.At.UTC().Format("15:04"); s != want[i] {
			t.Errorf("Upcoming()[%d] = %s, want %s", i, s, want[i])
		}
	}
	if Upcoming(es, now, 0) != nil {
		t.Error("Upcoming(n=0) not empty")
	}
}

func FuzzDecodeEntries(f *testing.F) {
	f.Add([]byte(`[{"name":"a","route":"r","cron":"0 */2 * * *","time_zone":"Europe/Berlin","grace":"10m"}]`))
	f.Add([]byte(`[{"name":"a","route":"r","every":"2h","between":"20:00-05:00","time_zone":"Europe/Berlin"}]`))
	f.Add([]byte(`[{"name":"m","route":"s","when":"2026-12-05 16:00 to 2026-12-05 23:00 every 30m","time_zone":"Europe/Berlin"}]`))
	f.Add([]byte(`[{"name":"a","route":"r","at":["2026-03-29 02:30"],"time_zone":"Europe/Berlin","active":{"from":"2026-01-01 00:00"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := DecodeEntries(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(es)
		if err != nil {
			t.Fatalf("marshal decoded entries: %v", err)
		}
		again, err := DecodeEntries(b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		b2, err := json.Marshal(again)
		if err != nil || string(b) != string(b2) {
			t.Fatalf("re-encoding differs:\n%s\n%s", b, b2)
		}
		// Next must move forward and terminate for whatever was accepted.
		now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
		for _, e := range again {
			prev := now
			for range 5 {
				next := e.Next(prev)
				if next.IsZero() {
					break
				}
				if !next.After(prev) {
					t.Fatalf("%s: Next(%v) = %v", e.Name, prev, next)
				}
				prev = next
			}
		}
	})
}

// TestDecodeStoredEntriesOldNames: a schedule file an earlier agent stored
// with zone, every_s and grace_s still loads, to the same entries as the
// new names give.
func TestDecodeStoredEntriesOldNames(t *testing.T) {
	old, err := DecodeStoredEntries(json.RawMessage(`[{"name":"n","route":"r","every_s":7200,"between":"20:00-05:00","zone":"Europe/Berlin","grace_s":600}]`))
	if err != nil {
		t.Fatal(err)
	}
	now, err := DecodeEntries(json.RawMessage(`[{"name":"n","route":"r","every":"2h","between":"20:00-05:00","time_zone":"Europe/Berlin","grace":"10m"}]`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(old)
	b, _ := json.Marshal(now)
	if string(a) != string(b) || old[0].Every != 2*time.Hour || old[0].Grace != 10*time.Minute || old[0].Zone != "Europe/Berlin" {
		t.Errorf("stored old names = %s, new names = %s", a, b)
	}
	if _, err := DecodeEntries(json.RawMessage(`[{"name":"n","route":"r","cron":"@daily","zone":"UTC"}]`)); err == nil {
		t.Error("DecodeEntries accepted the old name zone")
	}
}

// TestDefaultGraceMatchesConfig: an entry without grace waits as long as
// the YAML config's default.
func TestDefaultGraceIsFiveMinutes(t *testing.T) {
	if DefaultGrace != 5*time.Minute {
		t.Errorf("DefaultGrace = %s, want the config's 5m", DefaultGrace)
	}
}
