// Package dockpage is the dock page (issue 18): a small self-contained web
// page an operator opens on the dock's LAN, served on the metrics address
// when http.page is true. It shows the dock id, state and readiness, the
// active faults, the last events, the vehicle's telemetry and an SVG map of
// the dock, its 1/3/5-minute circles, the geofence, the routes, the vehicle
// and the active target, kept live over server-sent events.
//
// Main types: Page (NewPage, Handler, Run, EventSink) and Map, the fixed
// geometry the wiring takes from the config.
//
// The page, its script and its style are embedded (go:embed): no outside
// scripts, tiles or fonts, so it works on a LAN without internet. The
// stream is fed from the same state subscription and event flow the MQTT
// publisher gets and never blocks them: each client has a small queue, and a
// client that falls behind is dropped (its browser reconnects).
//
// Like its parent telemetry, dockpage must not import mavlink or
// go.bug.st/serial: vehicle telemetry arrives as dock.VehicleState.
package dockpage
