// Package fleet runs many bench docks on one MQTT broker and a command
// centre that picks, for each incident, the dock that reaches it first.
//
// StartDocks starts N worlds (testbench/world: each the real agent in its
// own process, with its own ptys and simulated drone) on a grid around the
// city, on mosquitto when it is installed. Centre is the command centre: a
// plain MQTT client that knows the docks only through the contract of
// docs/mqtt-api.md (retained state with readiness, quote, dispatch,
// retarget, events). Run sends it a seeded stream of incidents and returns
// what happened to each; docs/fleet.md has the figures of a run.
//
// Like all of testbench it may import anything of ours; only its command
// and tests import it.
package fleet
