package dock

// Phase is a sortie phase. The spellings are part of the MQTT contract
// (DESIGN.md §4, §5).
type Phase string

// Sortie phases in lifecycle order, then the two terminal failure phases.
const (
	PhaseQueued    Phase = "queued"
	PhasePreflight Phase = "preflight"
	PhaseLaunching Phase = "launching"
	PhaseAirborne  Phase = "airborne"
	PhaseOnStation Phase = "on_station"
	PhaseReturning Phase = "returning"
	PhaseLanding   Phase = "landing"
	PhaseLanded    Phase = "landed"
	PhaseSecuring  Phase = "securing"
	PhaseComplete  Phase = "complete"
	PhaseAborted   Phase = "aborted"
	PhaseFailed    Phase = "failed"
)

// Terminal reports whether no further phase follows p.
func (p Phase) Terminal() bool {
	return p == PhaseComplete || p == PhaseAborted || p == PhaseFailed
}

// SortieKind says why a sortie flies.
type SortieKind string

// Sortie kinds.
const (
	KindPatrol   SortieKind = "patrol"
	KindDispatch SortieKind = "dispatch"
)

// Mode is the dock's operating mode.
type Mode string

// Dock modes: auto runs schedules and dispatches; maintenance allows single
// part motions (still inside the interlocks) and flies nothing.
const (
	ModeAuto        Mode = "auto"
	ModeMaintenance Mode = "maintenance"
)

// LidState is what the lid's limit switches and motion say.
type LidState string

// Lid states. LidStopped is a lid between its limit switches and not moving
// (half open after a power cut, or cut by a fault).
const (
	LidUnknown LidState = "unknown"
	LidOpen    LidState = "open"
	LidClosed  LidState = "closed"
	LidOpening LidState = "opening"
	LidClosing LidState = "closing"
	LidStopped LidState = "stopped"
)

// ArmsState is what the centering arms' limit switches and motion say.
type ArmsState string

// Centering arm states; ArmsStopped is between the switches and not moving.
const (
	ArmsUnknown   ArmsState = "unknown"
	ArmsReleased  ArmsState = "released"
	ArmsClamped   ArmsState = "clamped"
	ArmsReleasing ArmsState = "releasing"
	ArmsClamping  ArmsState = "clamping"
	ArmsStopped   ArmsState = "stopped"
)
