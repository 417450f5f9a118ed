// Package sortie is the dock's sortie engine: it turns `dispatch` and
// `patrol` commands and the patrol schedule into safe flights, running the
// phases of DESIGN.md §4 (queued, preflight, launching, airborne,
// on_station, returning, landing, landed, securing, complete, or aborted /
// failed with a reason).
//
// The Engine runs the sortie commands of the MQTT contract through typed
// methods (Dispatch, Patrol, Recall, Abort, SetBattery, the route and
// schedule commands, Status; commands.go), which telemetry calls; the
// dock's own commands (lid, arms, charger, mode, reset) go from telemetry
// straight to the controller. One goroutine, the
// one running Engine.Run, owns all sortie state; vehicle commands and
// motions that wait run in helper goroutines of Run that report back to it.
//
// Safety: the engine arms only after Hardware.ArmPermitted (invariant 2),
// closes the lid only through the controller, which refuses it over a
// vehicle that is neither docked nor clear (invariant 1), and opens the lid
// in time for a returning vehicle or tells it to hold (invariant 7).
//
// Like all of dock, it must not import paho, go.bug.st/serial, net,
// mavlink, telemetry or bbolt; state is kept in JSON files written
// atomically in the state directory.
package sortie
