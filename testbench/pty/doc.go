// Package pty makes the pseudo-terminal pairs the bench's simulated serial
// devices sit on: the simulator holds the master side, the agent opens the
// slave path with its normal serial code (go.bug.st/serial) and cannot tell
// it from a USB adapter.
//
// A Pair is raw from birth (a cooked pty echoes frames and rewrites CR/LF),
// keeps its own slave fd open (otherwise the master reads EIO whenever the
// agent is down), clears the exclusive lock a killed agent leaves
// (ClearExclusive, TIOCNXCL), and can be unplugged and replugged behind a
// stable symlink. Its Read and Write follow the serial habits: a Read that
// times out returns 0, nil, and Close wakes a blocked Read.
//
// Part of testbench: imported only by the bench command and tests.
package pty
