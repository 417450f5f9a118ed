package sortie_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dockagent/dock-agent/config"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/schedule"
	"github.com/dockagent/dock-agent/dock/sortie"
)

func TestScheduledPatrolMissedWithReason(t *testing.T) {
	r := newRig(t, func(s rigSetup) { s.opts.ScheduleRetry = 10 * time.Second })
	entries := json.RawMessage(`[{"name":"evening","route":"square","time_zone":"UTC","at":["2026-12-05T19:01:00Z"],"grace":"1m"}]`)
	res, err := r.eng.PutSchedule(r.t.Context(), entries)
	if err != nil {
		t.Fatalf("schedule.put = %v", err)
	}
	next := res.(sortie.ScheduleList).Next
	if len(next) != 1 || !next[0].At.Equal(time.Date(2026, 12, 5, 19, 1, 0, 0, time.UTC)) {
		t.Fatalf("schedule.put next = %v, want 19:01", next)
	}
	r.setWeather(func(w *dock.Weather) { w.WindMPS = 14 })
	r.until("schedule.missed", coarse, 3*time.Minute, func() bool { return len(r.ev.of(dock.EventScheduleMissed)) > 0 })
	m := r.ev.of(dock.EventScheduleMissed)[0]
	if m.Fields["entry"] != "evening" || !strings.Contains(m.Fields["reason"].(string), "wind") {
		t.Errorf("schedule.missed = %v, want entry evening with the wind as reason", m.Fields)
	}
	if n := m.Fields["attempts"].(int); n < 2 {
		t.Errorf("attempts = %d, want retries within grace", n)
	}
	if gs, ok := m.Fields["gates"].([]dock.Gate); !ok || gs[0].Name != "wind" {
		t.Errorf("gates = %v, want the wind gate", m.Fields["gates"])
	}
	if got := r.clock.Now(); got.Before(time.Date(2026, 12, 5, 19, 2, 0, 0, time.UTC)) {
		t.Errorf("missed reported at %v, before the end of grace", got)
	}
	if len(r.ev.of(dock.EventSortiePhase)) != 0 {
		t.Errorf("a sortie flew in the wind")
	}
	var last map[string]time.Time
	b, err := os.ReadFile(filepath.Join(r.opts.StateDir, "lastrun.json"))
	if err != nil || json.Unmarshal(b, &last) != nil || !last["evening"].Equal(next[0].At) {
		t.Errorf("lastrun.json = %s (%v), want evening at 19:01", b, err)
	}
}

func TestScheduledPatrolFlies(t *testing.T) {
	r := newRig(t, nil)
	entries := json.RawMessage(`[{"name":"evening","route":"square","time_zone":"UTC","at":["2026-12-05T19:00:30Z"]}]`)
	if _, err := r.eng.PutSchedule(r.t.Context(), entries); err != nil {
		t.Fatalf("schedule.put = %v", err)
	}
	r.until("patrol complete", coarse, 15*time.Minute, func() bool {
		for _, ev := range r.ev.of(dock.EventSortieReport) {
			return ev.Fields["schedule"] == "evening" && ev.Fields["outcome"] == "complete"
		}
		return false
	})
	up := r.veh.Calls()
	var items []dock.MissionItem
	for _, c := range up {
		if c.Name == "UploadMission" {
			items = c.Args[0].([]dock.MissionItem)
		}
	}
	if len(items) < 5 || items[0].Command != dock.MissionTakeoff || items[len(items)-1].Command != dock.MissionReturnToLaunch {
		t.Errorf("mission %v, want take-off, waypoints, RTL", items)
	}
	if r.callCount("StartMission") != 1 {
		t.Errorf("StartMission sent %d times, want 1", r.callCount("StartMission"))
	}
}

func TestRoutesAndSchedulesPersist(t *testing.T) {
	r := newRig(t, nil)
	wps := json.RawMessage(`[{"lat":52.521,"lon":13.401,"alt_m":40,"hold_s":10},{"lat":52.522,"lon":13.399,"alt_m":40}]`)
	if _, err := r.eng.PutRoute(r.t.Context(), "market", wps, nil); err != nil {
		t.Fatalf("route.put = %v", err)
	}
	_, err := r.eng.PutRoute(r.t.Context(), "far", json.RawMessage(`[{"lat":52.7,"lon":13.4,"alt_m":40}]`), nil)
	if !errors.Is(err, dock.ErrInvalidArgument) || !strings.Contains(err.Error(), "geofence") {
		t.Errorf("route.put outside the fence = %v, want invalid_argument naming the geofence", err)
	}
	plan := json.RawMessage(`{"fileType":"Plan","version":1,"mission":{"version":2,"plannedHomePosition":[52.52,13.40,40],"items":[
		{"type":"SimpleItem","command":22,"frame":3,"params":[0,0,0,null,0,0,30]},
		{"type":"SimpleItem","command":16,"frame":3,"params":[5,0,0,null,52.523,13.402,30]},
		{"type":"SimpleItem","command":20,"frame":2,"params":[0,0,0,0,0,0,0]}]}}`)
	if _, err := r.eng.PutRoute(r.t.Context(), "plan1", nil, plan); err != nil {
		t.Fatalf("route.put plan = %v", err)
	}
	entries := json.RawMessage(`[{"name":"noon","route":"market","time_zone":"Europe/Berlin","cron":"0 12 * * *"}]`)
	if _, err := r.eng.PutSchedule(r.t.Context(), entries); err != nil {
		t.Fatalf("schedule.put = %v", err)
	}
	_, err = r.eng.PutSchedule(r.t.Context(), json.RawMessage(`[{"name":"x","route":"nope","time_zone":"UTC","cron":"0 1 * * *"}]`))
	if !errors.Is(err, dock.ErrInvalidArgument) {
		t.Errorf("schedule.put with an unknown route = %v, want invalid_argument", err)
	}
	if err := r.eng.DeleteRoute(r.t.Context(), "market"); !errors.Is(err, dock.ErrPrecondition) {
		t.Errorf("route.delete of a scheduled route = %v, want precondition_failed", err)
	}
	if err := r.eng.DeleteRoute(r.t.Context(), "square"); !errors.Is(err, dock.ErrPrecondition) {
		t.Errorf("route.delete of a config route = %v, want precondition_failed", err)
	}

	list := func() ([]string, []schedule.Entry, []schedule.Fire) {
		res, err := r.eng.Routes(r.t.Context())
		if err != nil {
			t.Fatalf("route.list = %v", err)
		}
		var names []string
		for _, ri := range res.(map[string]any)["routes"].([]sortie.RouteInfo) {
			names = append(names, ri.Name+":"+ri.Source)
		}
		sl, err := r.eng.Schedules(r.t.Context())
		if err != nil {
			t.Fatalf("schedule.list = %v", err)
		}
		return names, sl.(sortie.ScheduleList).Entries, sl.(sortie.ScheduleList).Next
	}
	names, ents, next := list()
	want := []string{"market:stored", "plan1:stored", "square:config"}
	if !slices.Equal(names, want) {
		t.Errorf("route.list = %v, want %v", names, want)
	}
	if len(ents) != 1 || len(next) == 0 || !next[0].At.Equal(time.Date(2026, 12, 6, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("schedule.list = %v next %v, want noon Berlin = 11:00 UTC tomorrow", ents, next)
	}

	// A restart of the engine finds them again.
	r.stopEngine()
	r.startEngine()
	names2, ents2, next2 := list()
	if !slices.Equal(names2, want) || len(ents2) != 1 || ents2[0].Name != "noon" || !next2[0].At.Equal(next[0].At) {
		t.Errorf("after restart: routes %v entries %v next %v", names2, ents2, next2)
	}
	if _, err := r.eng.PutSchedule(r.t.Context(), json.RawMessage(`[]`)); err != nil {
		t.Fatalf("schedule.put [] = %v", err)
	}
	if err := r.eng.DeleteRoute(r.t.Context(), "market"); err != nil {
		t.Errorf("route.delete = %v", err)
	}
	r.stopEngine()
	r.startEngine()
	names3, ents3, _ := list()
	if !slices.Equal(names3, []string{"plan1:stored", "square:config"}) || len(ents3) != 0 {
		t.Errorf("after delete and restart: routes %v entries %v", names3, ents3)
	}
}

func TestBatteryModeChargerHysteresis(t *testing.T) {
	r := newRig(t, nil)
	steps := []struct {
		mode string
		pct  float64
		want bool
	}{
		{"", 85, true},         // ready: below 90 -> on
		{"", 94, true},         // inside the band: stays on
		{"", 95, false},        // at 95 -> off
		{"", 91, false},        // inside the band: stays off
		{"", 89, true},         // below 90 -> on
		{"storage", 89, false}, // storage holds 55-60: off
		{"", 57, false},
		{"", 54, true},
		{"", 58, true},
		{"", 60, false},
	}
	for i, s := range steps {
		if s.mode != "" {
			if err := r.eng.SetBattery(r.t.Context(), s.mode); err != nil {
				t.Fatalf("battery %s = %v", s.mode, err)
			}
		}
		r.veh.Set(func(v *dock.VehicleState) { v.BatteryPct = s.pct })
		if r.hw.Charger.On() != s.want {
			r.until(fmt.Sprintf("step %d: charger %v at %.0f %%", i, s.want, s.pct), coarse, 5*time.Second,
				func() bool { return r.hw.Charger.On() == s.want })
		}
		for range 3 { // and it stays so
			r.step(time.Second)
		}
		if got := r.hw.Charger.On(); got != s.want {
			t.Errorf("step %d: battery %.0f %% (mode %q): charger %v, want %v", i, s.pct, s.mode, got, s.want)
		}
	}
	if err := r.eng.SetBattery(r.t.Context(), "full"); !errors.Is(err, dock.ErrInvalidArgument) {
		t.Errorf("battery full = %v, want invalid_argument", err)
	}
	r.stopEngine()
	r.startEngine()
	if m := r.sync().BatteryMode; m != "storage" {
		t.Errorf("battery mode after restart = %q, want storage", m)
	}
}

// TestScheduleDefaultsAgree: a schedule without grace means the same from
// the YAML config and over MQTT.
func TestScheduleDefaultsAgree(t *testing.T) {
	// The bench example's schedule gives no grace: the config's default.
	cfg, err := config.Parse(config.BenchExample(), "bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Schedules) == 0 || bytes.Contains(config.BenchExample(), []byte("grace:")) {
		t.Fatal("the bench example no longer has a schedule without grace; pick another")
	}
	if g := cfg.Schedules[0].Grace; g != schedule.DefaultGrace {
		t.Errorf("config default grace %s, schedule.put default %s", g, schedule.DefaultGrace)
	}
}
