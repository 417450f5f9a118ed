// Package simclock is the bench's clock: a clockwork.Clock that runs a fixed
// number of times faster than real time (the bench's -speed N). Two
// processes built with the same Origin and Speed agree on the simulated time
// to within scheduling noise, so the bench's simulated world and the agent
// process it starts share one timeline.
//
// It imports nothing of the project; it is the one place besides cmd/agent
// where real time is read.
package simclock
