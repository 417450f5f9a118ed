// Package metrics is the agent's Prometheus endpoint (issue 9): a private
// registry holding the agent's collectors, small recording methods the
// wiring calls where something happens (a MAVLink frame, a command reply,
// a sortie report, an actuator motion), pull-style gauges and counters
// that read values already kept elsewhere (link loss, MQTT connection,
// outbox depth, weather, Modbus units, forward endpoints) through injected
// functions, Readiness (what keeps the dock from launching now), and an
// HTTP Server with /metrics, /healthz and /readyz. Every labelled counter
// starts with its known label values at zero.
//
// The package writes the Prometheus text exposition format 0.0.4 itself
// (expose.go) and reads the Go runtime and /proc/self for the go_* and
// process_* families client_golang's collectors had (runtime.go): no
// client library, whose code and init cost the agent 2.4 MB of resident
// memory (issue 20).
//
// Main types: Metrics (New, the recording methods), Registry (Register,
// Gather, Handler) with Collector and Desc for a collector of the
// wiring's own, Server (NewServer, Run) and Blocker (Readiness).
//
// Like its parent telemetry, metrics must not import mavlink or
// go.bug.st/serial: the wiring in cmd/agent/app converts their counters into
// the plain structs declared here.
package metrics
