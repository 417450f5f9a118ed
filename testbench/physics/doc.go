// Package physics is the simulated dock: lid and centering arms that move
// with realistic travel times, limit switches that follow them, the
// charger, heater, fan and strobe relays, the e-stop button, mains power
// and the rain sensor, all on an injected clockwork clock. It is also a
// safety witness: it records every signal change with its time and every
// forbidden output combination (both motors of a pair on).
//
// The parts move as internal/motorsim has them, the model the unit tests'
// fake hardware (dock/docktest) shares, so a motion takes as long in a
// unit test as on the bench.
//
// Dock.Pin gives each signal as an in-memory gpio.PinIO, for unit tests of
// package dock (in package dock_test) and for the bench's simulated Modbus
// I/O module (testbench/iomodule). Every signal is active-high here: a
// limit switch reads High when reached, estop High while pressed, mains
// High while present, rain High while raining; active-low wiring is the
// business of the pin wrappers under test.
//
// Faults: a stuck lid or arms (the motor runs, nothing moves), a limit
// switch stuck at a level, a slow motor (travel multiplied), power loss
// (no mains: motors do nothing, the charger does not charge). The e-stop
// button is only an input: cutting the outputs is the agent's job, and the
// history shows whether it did.
//
// Part of testbench: imported only by the bench and tests.
package physics
