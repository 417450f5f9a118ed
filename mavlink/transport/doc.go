// Package transport carries MAVLink frames over the links a dock uses to reach
// its vehicle: a serial telemetry radio (8N1, opened by Options.OpenSerial),
// UDP as a client (send to host:port, hear the replies) or as a server
// (listen on [host]:port, answer every peer heard recently), and a TCP
// client (e.g. ArduPilot SITL on 5760).
//
// Main type: Link, built by New from a kind and address (config.ParseLink
// parses the link string; the app passes its parts). Link.Run opens the
// link, reads frames through the codec's Parser and hands each to
// Options.OnFrame, and reopens a lost link with capped exponential backoff
// on the injected clock, reporting loss and recovery. Link.Write sends one
// raw frame.
//
// Like all of mavlink/... it imports no package of ours but mavlink (not
// dock, telemetry, config or internal/) and no serial library: the app
// injects the function that opens the device (internal/importrules checks
// this).
package transport
