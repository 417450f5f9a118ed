// Package mavlink is Dock Agent's own MAVLink v1/v2 codec: frames, the X.25
// checksum with CRC_EXTRA, v2 payload truncation, v2 signing and signature
// verification, a resynchronising parser, and message types generated from
// our compact definitions in defs/ (see gen.go).
//
// Main types:
//   - [Frame]: one frame as on the wire; Raw keeps its bytes so a router can
//     forward it untouched.
//   - [Parser]: finds frames in a byte slice (a UDP datagram, a buffer), with
//     counters in [Stats]; [Reader] does the same over an io.Reader.
//   - [Message]: a typed message (Heartbeat, GlobalPositionInt...), decoded with
//     [DecodeMessage] and encoded with [AppendMessage], both without allocating.
//   - [MessageInfo]: the dialect table entry (CRC_EXTRA, lengths, fields) of
//     every message of the common and ardupilotmega dialects, see
//     [LookupMessage]; [MessageInfo.FieldValue] decodes any of them generically.
//   - [Signer] and [Verifier]: MAVLink 2 message signing.
//
// Facts used are cited from the MAVLink spec as collected in PROTOCOL.md of
// the project notes (frame layout §1, flags §2, CRC §3, signing §4).
//
// The package knows nothing of docks or MQTT: it must not import dock,
// telemetry, config or paho (internal/importrules checks this).
package mavlink
