// Package pinedge is the edge reporting of an input pin whose levels are
// learnt from outside rather than from an interrupt: the polled inputs of
// a Modbus I/O module (rs485/modbus) and the bench's simulated signals
// (testbench/physics). It keeps one pending edge, as edge-triggered
// hardware does, and gives gpio.PinIn's In and WaitForEdge their meaning.
//
// It imports no package of ours.
package pinedge

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// Edges queues the edges of one input pin. Create it with New; it is safe
// for concurrent use.
type Edges struct {
	mu      sync.Mutex
	edge    gpio.Edge
	pending chan gpio.Level // one pending edge
	rearm   chan struct{}   // closed by Set to wake a pending Wait
}

// New returns Edges reporting both edges, none pending.
func New() *Edges {
	return &Edges{edge: gpio.BothEdges, pending: make(chan gpio.Level, 1), rearm: make(chan struct{})}
}

// Changed reports that the pin's level changed to l: the edge is queued if
// it matches the edge set, unless one is pending already (kept, as
// hardware keeps the first).
func (e *Edges) Changed(l gpio.Level) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.edge == gpio.BothEdges || (e.edge == gpio.RisingEdge && l) || (e.edge == gpio.FallingEdge && !l) {
		select {
		case e.pending <- l:
		default:
		}
	}
}

// Set is gpio.PinIn.In's edge half: it sets the edges reported, drops a
// pending edge and wakes a pending Wait (which returns false).
func (e *Edges) Set(edge gpio.Edge) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.edge = edge
	select {
	case <-e.pending:
	default:
	}
	close(e.rearm)
	e.rearm = make(chan struct{})
}

// Wait is gpio.PinIn.WaitForEdge: it waits for a pending edge for at most
// timeout on clock (-1: forever). It returns false on timeout or when Set
// re-arms the pin. An edge already pending is reported even with a zero
// timeout.
func (e *Edges) Wait(clock clockwork.Clock, timeout time.Duration) bool {
	e.mu.Lock()
	rearm := e.rearm
	e.mu.Unlock()
	select {
	case <-e.pending:
		return true
	default:
	}
	var expired <-chan time.Time
	if timeout >= 0 {
		t := clock.NewTimer(timeout)
		defer t.Stop()
		expired = t.Chan()
	}
	select {
	case <-e.pending:
		return true
	case <-rearm:
		return false
	case <-expired:
		return false
	}
}
