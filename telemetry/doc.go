// Package telemetry is Dock Agent's face toward the command centre: the MQTT
// side of the contract in DESIGN.md §5 (docs/mqtt-api.md).
//
// A Service owns one paho client and runs, until its ctx ends:
//   - the connection (conn.go): broker URLs, TLS, persistent session,
//     reconnect with backoff, the retained `status` with its will;
//   - the publisher (publisher.go): `state` retained on change and
//     periodically, `telemetry` at a fixed rate, never queued while the
//     broker is away;
//   - the Outbox (outbox.go): a dock.EventSink that writes every event to
//     bbolt before publishing it on `events` with a seq strictly increasing
//     across restarts, and deletes it only once the broker acknowledged it;
//   - command intake (commands.go, decode.go, dedupe.go, signing.go):
//     `cmd/<name>` requests validated before anything moves (shape,
//     expiry, signature, dedupe), decoded by the command table into a call
//     of the dock's typed method (dock.go: Sorties, Maintenance) run by one
//     worker, answered on `cmd/<name>/reply`; codes.go maps the dock's
//     typed errors to the contract's codes, the one place that does;
//   - the optional raw MAVLink bridge (bridge.go), whose `mavlink/in` takes
//     signed envelopes only while command signing is on (bridgesign.go);
//     what a frame may do to the vehicle is the agent's inbound policy,
//     applied behind Options.Bridge.
//
// The wire contract itself (topic and command names, argument, result and
// reply types, codes, signing, the timestamp format) is the leaf package
// telemetry/contract, standard library only, which dockctl and the bench
// import instead of this package; its JSON Schemas are telemetry/schema.
// The Outbox is opened first (OpenOutbox), the dock built on it, then the
// Service (NewService).
//
// telemetry imports dock (domain types and errors), config, paho, bbolt and
// clockwork. It must not import mavlink, go.bug.st/serial or internal/: raw
// frames reach it as byte slices through Service.PublishFrame and
// Options.Bridge, and the broker's TCP connection through the dialer the app
// injects (Options.DialTCP).
package telemetry
