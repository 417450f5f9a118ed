// Package schedule decides when routine sorties fly: schedule entries (a
// cron expression in an IANA time zone, a fixed interval inside a daily
// window such as "every 2h between 20:00 and 05:00", or one-off times,
// each optionally limited to an active date range for event days), their
// next fire times across midnight and daylight-saving changes, and the
// Scheduler that hands due firings to the sortie engine and reports every
// firing that could not fly within its grace window as missed: no firing
// is ever silently skipped, also not across a restart of the agent.
//
// Wall-clock policy at DST changes (see Entry.Next): a wall time that does
// not exist (spring forward) fires once at the instant of the change; a
// wall time that occurs twice (fall back) fires once, at its first
// occurrence.
//
// The Scheduler runs on an injected clockwork.Clock. schedule must not
// import package dock (dock imports schedule); it uses the standard
// library, github.com/robfig/cron/v3 for cron expressions and clockwork.
package schedule
