package dock

// The manual commands of maintenance mode, as plain values (the wire
// spelling is telemetry/contract's); the engine's requests and results
// are in dock/command.

// LidAction is a manual lid command (maintenance mode).
type LidAction string

// Manual lid actions.
const (
	ActionLidOpen  LidAction = "open"
	ActionLidClose LidAction = "close"
	ActionLidStop  LidAction = "stop"
)

// ArmsAction is a manual arms command (maintenance mode).
type ArmsAction string

// Manual arms actions.
const (
	ActionArmsRelease ArmsAction = "release"
	ActionArmsClamp   ArmsAction = "clamp"
	ActionArmsStop    ArmsAction = "stop"
)
