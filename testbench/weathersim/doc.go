// Package weathersim simulates the dock's weather station: a Modbus RTU
// slave on a pty answering functions 0x03 and 0x04 with readings a
// scenario sets at run time.
//
// Register map (input registers, 0x04; the holding registers, 0x03,
// mirror it), unit id 2 by default:
//
//	0  wind speed     m/s x10, unsigned
//	1  gust speed     m/s x10, unsigned
//	2  wind direction degrees 0..359, unsigned
//	3  temperature    degC x10, signed (two's complement)
//	4  humidity       % x10, unsigned
//	5  rain           0 dry, 1 raining
//	6  inside temp    degC x10, signed
//
// Reads past register 6 get exception 0x02. Faults: CRC errors and silence
// through SetFaults; unplugging through the pty.Pair.
//
// Part of testbench: imported only by the bench and tests.
package weathersim
