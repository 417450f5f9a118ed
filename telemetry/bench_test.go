package telemetry

import (
	bolt "go.etcd.io/bbolt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/dockagent/dock-agent/dock"
	"github.com/jonboulle/clockwork"
)

func BenchmarkDecodeCommand(b *testing.B) {
	specs := commandSpecs()
	cases := []struct{ name, cmd, payload string }{
		{"dispatch", "dispatch", `{"id":"c-17","expires":"2026-12-05T19:01:00Z","lat":53.5511,"lon":9.9937,"alt_m":60,"priority":"alarm","ref":"INC-2026-4411"}`},
		{"status", "status", `{"id":"c-18"}`},
		{"rejected", "dispatch", `{"id":"c-19","lat":91,"lon":2}`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := []byte(c.payload)
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				decodeCommand(specs, c.cmd, in)
			}
		})
	}
}

func BenchmarkTelemetryPayload(b *testing.B) {
	v := dock.VehicleState{Lat: 53.5511, Lon: 9.9937, AltM: 72.4, RelAltM: 40.1, Mode: "AUTO", Armed: true, BatteryPct: 78, GPSFix: 3, Sats: 17}
	b.ReportAllocs()
	for b.Loop() {
		telemetryPayload(v, testStart)
	}
}

// BenchmarkOutboxEmit includes bbolt's fsync per event: the disk bound.
func BenchmarkOutboxEmit(b *testing.B) {
	db, err := openBenchDB(b)
	if err != nil {
		b.Fatal(err)
	}
	ob, err := openOutbox(db, DefaultMaxEvents, clockwork.NewFakeClockAt(testStart), testLoggerB())
	if err != nil {
		b.Fatal(err)
	}
	ev := dock.Event{Type: dock.EventSortiePhase, Fields: map[string]any{"sortie_id": "s-1", "phase": "airborne"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := ob.Emit(ev); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
}

func openBenchDB(b *testing.B) (*bolt.DB, error) {
	return bolt.Open(filepath.Join(b.TempDir(), "bench.db"), 0o600, nil)
}

func testLoggerB() *slog.Logger { return slog.New(slog.DiscardHandler) }
