// Package router forwards the vehicle's MAVLink traffic to ground-station
// endpoints and theirs back, like a small mavlink-router, so an operator's
// QGroundControl works through the dock.
//
// Main type: Router. Endpoints are UDP clients (udp://host:port, e.g.
// QGroundControl at 127.0.0.1:14550) or UDP servers (udpin://:port) that
// answer every client heard within the last 10 s. Frames pass byte for byte
// (unknown message ids too); per-endpoint filters allow or block by message
// id and source system; a frame arriving twice over redundant links within
// a short window is forwarded once. A Sender that is also a GateSender
// judges every endpoint frame before it goes anywhere: a refused one reaches
// neither the vehicle nor the other endpoints, and its answer (a
// COMMAND_ACK saying no) goes back to its sender alone. The router itself
// knows no policy. Counters per endpoint.
//
// Like all of mavlink/... it must not import dock, telemetry or config.
package router
