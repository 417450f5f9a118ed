// Package vehicle is the agent's MAVLink client of one autopilot (ArduPilot
// or PX4): it sends our ground-station heartbeat, discovers the vehicle and
// tracks the link, sets up the telemetry streams after every (re)discovery
// and reboot, keeps a typed State, and runs the command, parameter and
// mission protocols behind plain methods (Arm, SetMode, Takeoff, GoTo,
// UploadMission ...).
//
// Main type: Client. It sits on any frame in/out pair: it writes raw frames
// to a Sender (a transport.Link, or the router's vehicle side) and is fed
// every frame heard from the vehicle through Handle. Options.OnSend lets the
// owner observe every frame the client sends (router, flight log, metrics).
//
// Like all of mavlink/... it must not import dock, telemetry or config, and
// it knows no serial or network code: that is package transport.
package vehicle
