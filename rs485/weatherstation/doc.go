// Package weatherstation is the driver of a Modbus RTU weather station on
// the dock's RS-485 bus: where each value sits (register table, address),
// how its words encode it (type, word order, scale, offset), and a poller
// that reads them and feeds each good reading on.
//
// It decides nothing about the dock: what a reading means (wind and rain
// limits) and when an old one is stale belong to the dock controller, which
// receives the plain Reading values Station feeds. A failed poll feeds
// nothing; it is logged on change (the first failure, then the recovery).
//
// Station reads through a RegisterReader, which rs485/modbus's Client fits.
// The package imports no package of ours, no serial library and no net.
package weatherstation
