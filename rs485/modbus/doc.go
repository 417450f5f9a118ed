// Package modbus is a small Modbus RTU master for the dock's RS-485 bus:
// the weather station and the relay-and-input I/O module.
//
// Client speaks the RTU framing (CRC-16/MODBUS, inter-frame silence,
// per-request timeout, retries) over a Port, which a go.bug.st/serial port
// fits, and serialises the requests of every caller, so several devices
// (unit ids) share one bus safely. Failures come in three kinds a caller can
// tell apart: ErrTimeout (the unit stayed silent), *FrameError (a damaged or
// unexpected reply: bad CRC, short frame, wrong unit or function) and
// *ExceptionError (the unit refused the request); anything else is the port
// itself failing (an unplugged adapter).
//
// Module presents the coils and discrete inputs of an I/O module as
// periph.io/x/conn/v3/gpio pins: inputs are polled in one request per cycle,
// outputs are written at once, and Health tells whether the polled levels
// are fresh.
//
// It is a driver, not domain: it lives beside the serial line (rs485/)
// rather than under dock, which receives its pins and registers through
// interfaces it declares. The package must not import go.bug.st/serial or
// net (the app opens the line and hands it a Port) nor any package of ours
// but internal/pinedge (the polled inputs' edges, shared with the bench's
// simulated pins); it depends only on periph conn and clockwork.
package modbus
