package dock

import "time"

// EventType names an event on the `events` topic (DESIGN.md §5).
type EventType string

// Event types published by the agent.
const (
	EventSortiePhase      EventType = "sortie.phase"
	EventSortieReport     EventType = "sortie.report"
	EventPromiseBroken    EventType = "sortie.promise_broken"
	EventLandedAway       EventType = "vehicle.landed_away"
	EventPreflightBlocked EventType = "preflight.blocked"
	EventFault            EventType = "fault"
	EventFaultCleared     EventType = "fault.cleared"
	EventEStop            EventType = "estop"
	EventScheduleMissed   EventType = "schedule.missed"
	EventCommandRejected  EventType = "command.rejected"
	EventCommandProgress  EventType = "command.progress"
	EventDispatchQueued   EventType = "dispatch.queued"
	EventRetargeted       EventType = "dispatch.retargeted"
	EventAlert            EventType = "alert"
	EventOutboxOverflow   EventType = "outbox.overflow"
	EventSelfTest         EventType = "selftest"
	EventStartup          EventType = "startup"
)

// Event is one durable event. Fields holds the type-specific members; the
// publisher adds `seq`, `ts` and `type` and flattens Fields beside them, so
// Fields must marshal to a JSON object and must not use those three keys.
// A value that is an error is written as its message; an "error" field
// also gets the contract's "code" for it beside (telemetry maps errors to
// codes, dock only says what went wrong).
type Event struct {
	Type   EventType
	Time   time.Time
	Fields map[string]any
}

// EventSink takes events for durable delivery. Emit must not block for long
// (a disk write at most) and is safe for concurrent use; an implementation
// that cannot store the event returns an error, never drops it silently.
type EventSink interface {
	Emit(e Event) error
}

// ProgressStatus is the `status` of a command.progress event.
type ProgressStatus string

// Progress statuses of long jobs.
const (
	ProgressInProgress ProgressStatus = "in_progress"
	ProgressOK         ProgressStatus = "ok"
	ProgressFailed     ProgressStatus = "failed"
	ProgressCanceled   ProgressStatus = "canceled"
	ProgressTimeout    ProgressStatus = "timeout"
)
