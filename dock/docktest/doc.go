// Package docktest provides fakes for testing code built on package dock:
// a scriptable Vehicle and dock Hardware made of periph gpiotest pins with
// the motor physics of the bench (internal/motorsim) on an injected clock,
// with fault knobs.
//
// It is for tests only; production code and cmd/agent must not import it.
package docktest
