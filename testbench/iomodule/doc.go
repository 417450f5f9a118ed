// Package iomodule simulates the dock's Modbus RTU relay-and-input module
// on a pty: its coils drive the outputs of a physics.Dock, its discrete
// inputs report the dock's inputs, by a configurable index map.
//
// Default map (DefaultCoils, DefaultInputs), unit id 1:
//
//	coil 0 lid_open_motor      input 0 lid_open_limit
//	coil 1 lid_close_motor     input 1 lid_closed_limit
//	coil 2 arms_release_motor  input 2 arms_released_limit
//	coil 3 arms_clamp_motor    input 3 arms_clamped_limit
//	coil 4 charger_enable      input 4 estop
//	coil 5 heater              input 5 mains
//	coil 6 fan                 input 6 rain
//	coil 7 strobe              input 7 charger_status
//
// Faults: SetFaults injects CRC errors and silence; unplugging is done on
// the pty.Pair the module runs on (Unplug/Replug).
//
// Part of testbench: imported only by the bench and tests.
package iomodule
