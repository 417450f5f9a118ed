// Package transport carries MAVLink frames over the links a dock uses to reach
// its vehicle: a serial telemetry radio (go.bug.st/serial, 8N1), UDP as a
// client (udp://host:port: send there, hear the replies) or as a server
// (udpin://:port: listen, answer every peer heard recently), and a TCP
// client (tcp://host:port, e.g. ArduPilot SITL on 5760).
//
// Main type: Link, built by New from a link string in the forms config
// accepts. Link.Run opens the link, reads frames through the codec's Parser
// and hands each to Options.OnFrame, and reopens a lost link with capped
// exponential backoff on the injected clock, reporting loss and recovery.
// Link.Write sends one raw frame.
//
// This is the only package of ours that imports go.bug.st/serial; like all of
// mavlink/... it must not import dock, telemetry or config.
package transport
