// Package drone simulates a quadcopter running ArduCopter as seen from its
// telemetry port: MAVLink v2 (v1 on request) through the project's codec,
// with ArduPilot's habits where a dock agent can tell the difference.
//
// A [Sim] holds the vehicle and its world (position, battery, GPS, wind) on
// an injected clockwork.Clock: the bench passes testbench/simclock, tests a
// fake clock. [Sim.Run] drives the world in fixed ticks (20 ms of clock
// time by default) and emits every telemetry stream; [Sim.Serve] attaches
// one link (the master of a testbench/pty pair, a UDP or TCP conn) and may
// be called again for a new link while the world keeps flying.
//
// What it does, each as ArduCopter does it (docs/drone-sim.md has the full
// list with the sources of each fact):
//   - HEARTBEAT at 1 Hz and nothing else until asked: streams are set per
//     link with SET_MESSAGE_INTERVAL, REQUEST_DATA_STREAM (ArduPilot's
//     stream groups) and MAV_CMD_REQUEST_MESSAGE one-shots.
//   - Commands over COMMAND_LONG and COMMAND_INT with COMMAND_ACK: modes,
//     arming with pre-arm checks, take-off, guided go-to, mission start,
//     loiter, RTL, land, home, message intervals; parameters.
//   - The mission protocol (item 0 is home, requests re-sent after 1 s)
//     and mission execution with MISSION_CURRENT and MISSION_ITEM_REACHED.
//   - Kinematics: ArduCopter's speeds (WPNAV_SPEED for go-tos whatever
//     DO_REPOSITION asks, DO_CHANGE_SPEED in GUIDED, AUTO and RTL only),
//     straight 3D legs, acceleration, wind drift, battery drain by flight
//     time and wind, seeded GPS noise, battery and GPS failsafes.
//   - A pilot who is not there: the throttle stick rests at its low end,
//     so ALT_HOLD, LOITER and POSHOLD descend to the ground and STABILIZE
//     falls, and the land detector and DISARM_DELAY disarm the vehicle
//     where it came down ([Sim.SetPilotThrottle] gives a pilot).
//   - Failure injection for scenarios and an extra load stream for load
//     tests; [Sim.State] and Options.OnFrameWritten for invariant checks
//     and latency measurements.
//
// Part of testbench: imported only by the bench command and tests.
package drone
