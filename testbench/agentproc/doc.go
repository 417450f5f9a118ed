// Package agentproc runs the real agent as a separate OS process for the
// bench, the scenarios and the load harness: it starts it with a
// NOTIFY_SOCKET of its own so it sees READY=1, WATCHDOG=1 and STATUS= lines
// exactly as systemd would, stops it with SIGTERM or SIGKILL, restarts it,
// and reads its CPU time and memory from /proc.
package agentproc
