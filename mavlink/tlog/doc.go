// Package tlog reads and writes .tlog telemetry logs: a sequence of records,
// each an 8-byte big-endian count of microseconds since the Unix epoch
// followed by one raw MAVLink frame (v1 or v2); there is no file header and
// no record length (PROTOCOL.md §10, as mavlink-router, gomavlib and
// pymavlink write them).
//
// Main types: [Writer] (optionally stripping signatures, as the signing spec
// asks of logs) and [Reader]. Like package mavlink it must not import dock,
// telemetry, config or paho.
package tlog
