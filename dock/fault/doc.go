// Package fault is the catalogue of dock fault codes on the MQTT contract:
// each Code with its fixed Severity and Component, in the order of the
// table in docs/operations.md (Codes). The controller in package dock
// raises and clears faults by these codes and keeps the active ones
// (dock.Fault); telemetry/metrics counts them by code.
//
// fault imports nothing but the standard library (dock imports it).
package fault
