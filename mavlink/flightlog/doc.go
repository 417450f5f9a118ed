// Package flightlog records every MAVLink frame of a sortie into .tlog files
// (mavlink/tlog: 8-byte big-endian µs timestamp + frame, signatures
// stripped), readable by QGroundControl, MAVExplorer and dockctl dump.
//
// Main type: Recorder. Start(name) opens <name>.tlog in the log directory,
// Write records a frame (from the vehicle, the agent or a ground station),
// Stop closes the sortie and returns its file names for the sortie report.
// A file that reaches Options.MaxFileBytes continues in <name>.2.tlog, and
// the oldest .tlog files of the directory are removed to keep all of them
// under Options.MaxTotalBytes.
//
// Like all of mavlink/... it must not import dock, telemetry or config.
package flightlog
