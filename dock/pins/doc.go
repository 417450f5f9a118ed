// Package pins holds the pin-to-pin wrappers the app puts between a board
// GPIO line (or a Modbus point) and the dock controller, which works on
// logical levels: High means active (switch closed, button pressed, mains
// present, relay energised). Wiring that is active-low is adapted with
// ActiveLowIn and ActiveLowOut, and noisy switches are wrapped with
// Debounce (as periph's gpio/gpioutil wraps pins).
//
// pins imports nothing of ours (dock does not import it; the app does).
package pins
