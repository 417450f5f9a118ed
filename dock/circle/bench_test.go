package circle

import (
	"testing"

	"github.com/dockagent/dock-agent/dock/route"
)

// BenchmarkETA measures one dispatch's ETA and the per-state circles.
func BenchmarkETA(b *testing.B) {
	p := testParams()
	target := route.Destination(dock, 40, 2500)
	w := route.Wind{SpeedMPS: 7, FromDeg: 250}
	b.Run("eta", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _, _ = p.ETA(target, w)
		}
	})
	b.Run("geojson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = p.GeoJSON(w, 0)
		}
	})
}
