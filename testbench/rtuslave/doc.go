// Package rtuslave is the Modbus RTU slave the bench's simulated devices
// (the I/O module and the weather station) share: it frames requests off a
// pty, answers one unit id through a Device's callbacks, and injects the
// faults scenarios ask for (CRC errors, silence).
//
// Framing follows RTU: a frame ends with silence on the line, and its
// length is also told by its function code, so back-to-back requests and
// leading noise are both handled (a frame whose CRC fails is slid over one
// byte at a time).
//
// Part of testbench: imported only by the bench's simulators and tests.
package rtuslave
