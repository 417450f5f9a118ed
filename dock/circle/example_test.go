package circle_test

import (
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/dock/circle"
	"github.com/dockagent/dock-agent/dock/route"
)

func ExampleParams_ETA() {
	p := circle.Params{
		Dock:        route.Point{Lat: 52.52, Lon: 13.405},
		AirspeedMPS: 15, ClimbMPS: 5, PatrolAltM: 60, // 12 s climb
		Launch: 13 * time.Second,
	}
	fmt.Printf("radii %.0f m\n", p.Radii())
	target := route.Destination(p.Dock, 90, 2000) // 2 km east
	for _, w := range []route.Wind{{}, {SpeedMPS: 5, FromDeg: 90}, {SpeedMPS: 8, FromDeg: 90}} {
		eta, dist, min, ok := p.ETA(target, w)
		circle := "none"
		if min != nil {
			circle = fmt.Sprint(*min, " min")
		}
		fmt.Printf("wind %g m/s from %g: eta %v, %.0f m, circle %s, ok %v\n", w.SpeedMPS, w.FromDeg, eta.Round(time.Second), dist, circle, ok)
	}
	// Output:
	// radii [525 2325 4125] m
	// wind 0 m/s from 0: eta 2m38s, 2000 m, circle 3 min, ok true
	// wind 5 m/s from 90: eta 3m45s, 2000 m, circle 5 min, ok true
	// wind 8 m/s from 90: eta 5m11s, 2000 m, circle none, ok true
}
