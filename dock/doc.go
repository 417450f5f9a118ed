// Package dock is the domain core of Dock Agent: the dock hardware behind
// small interfaces (periph.io gpio pins, byte streams), actuator sequencing
// with timeouts and interlocks (the safety invariants of DESIGN.md §4), what
// a weather reading means (limits, staleness), the sortie engine, the
// scheduler and dispatcher. The drivers that speak to the devices (the
// Modbus RTU master, the weather station's registers) are not here: they
// live in rs485/ and the app feeds their pins and plain readings in.
//
// The types in state.go, phase.go, event.go, errors.go, command.go and
// vehicle.go are what dock offers its neighbours: telemetry publishes State
// snapshots and Events, calls the controller's and the sortie engine's
// typed command methods with the plain requests of command.go, and maps
// the typed errors of errors.go to the wire contract's codes
// (telemetry/contract); the app wires a MAVLink vehicle client behind
// Vehicle.
//
// dock must not import paho, go.bug.st/serial, net, mavlink or telemetry
// (internal/importrules checks this): it talks to the outside only through the interfaces it
// declares here.
package dock
