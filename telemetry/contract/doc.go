// Package contract is the MQTT wire contract of the agent (contract v1,
// docs/mqtt-api.md): topic and command names, the JSON types of command
// arguments, results and error replies, the error codes, the command
// signing envelope and the one timestamp format of every message that
// leaves the agent.
//
// It imports the standard library only, so that anything speaking to a
// dock (cmd/dockctl, the bench, a command centre written in Go) can use the
// contract without pulling in the agent: no MQTT client, no bbolt, no
// hardware. telemetry owns it: telemetry decodes into these types, calls
// the dock, and maps the dock's errors to these codes.
package contract
