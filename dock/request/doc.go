// Package request holds the requests a command centre makes of the sortie
// engine and the engine's answers, as plain values: telemetry's command
// table builds the requests from the wire types of telemetry/contract and
// turns the results back into them; dock/sortie's Engine takes and returns
// them. Shapes are checked before a request gets here (a priority is alarm
// or routine, a name is a name); limits that depend on the dock (altitude,
// loiter, the geofence) are checked by the engine.
//
// request imports nothing of ours but dock (gates, phases), so telemetry
// declares the engine's methods without importing the engine.
package request
