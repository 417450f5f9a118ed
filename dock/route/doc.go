// Package route holds patrol routes and what is needed to accept one: the
// waypoint and QGroundControl .plan decoders for `route.put`, the geodesy
// helpers (great-circle distance, bearing, destination point, local
// east/north offsets), the geofence (a circle around the dock or a polygon)
// and the battery model that estimates the charge a route needs against the
// wind.
//
// Everything here is pure and deterministic: no clock, no IO, no goroutines.
// The sortie engine in package dock stores routes and calls Check before it
// accepts or flies one.
//
// route must not import package dock (dock imports route) nor anything else
// of ours; it uses the standard library only.
package route
