package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/vehicle"
)

// Docked streams: while the drone rests on the pad the agent needs only
// what readiness and the docked telemetry read, at 1 Hz, so it asks for
// vehicle.docked_stream_rates then and vehicle.stream_rates otherwise. On
// the bench that is 7 vehicle messages a second instead of 23, each one
// read, parsed, relayed to the ground stations and the MQTT bridge.
const (
	// dockedAfter is how long the vehicle must have rested (linked,
	// disarmed, on the ground, no sortie) before the docked rates are
	// asked for: not between the landing and the sortie's end.
	dockedAfter = 30 * time.Second
	// streamCheck is how often the rest is looked at.
	streamCheck = 5 * time.Second
	// streamSetupTimeout bounds one set-up of the docked rates.
	streamSetupTimeout = 30 * time.Second
)

// streamSets are the two sets of requested streams, each over every
// message either asks for (a message without a rate in a set is turned
// off in it). docked is nil when both sets are the same: nothing switches.
type streamSets struct {
	flight, docked []vehicle.Stream
}

func streamSetsFromConfig(vc config.Vehicle) (streamSets, error) {
	ids := map[string]uint32{}
	for m := range mavlink.Messages {
		ids[m.Name] = m.ID
	}
	var errs []error
	names := map[string]bool{}
	for _, set := range []struct {
		key   string
		rates map[string]float64
	}{{"stream_rates", vc.StreamRates}, {"docked_stream_rates", vc.DockedStreamRates}} {
		for _, name := range slices.Sorted(maps.Keys(set.rates)) {
			if _, ok := ids[name]; !ok {
				errs = append(errs, fmt.Errorf("vehicle.%s: %s is not a MAVLink message", set.key, name))
			} else if set.rates[name] > 0 {
				names[name] = true
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return streamSets{}, err
	}
	var s streamSets
	same := true
	for _, name := range slices.Sorted(maps.Keys(names)) {
		f, d := vc.StreamRates[name], vc.DockedStreamRates[name]
		s.flight = append(s.flight, vehicle.Stream{MsgID: ids[name], RateHz: f})
		s.docked = append(s.docked, vehicle.Stream{MsgID: ids[name], RateHz: d})
		same = same && f == d
	}
	if same {
		s.docked = nil
	}
	return s, nil
}

// streamSwitch asks the vehicle for the docked or the flight set. One
// switch at a time, and the sortie engine's own request (Streams, before a
// launch) goes through it too, so a switch to the docked rates decided
// just before a sortie began cannot land after the sortie's request.
type streamSwitch struct {
	sets   streamSets
	client *vehicle.Client
	clock  clockwork.Clock
	log    *slog.Logger
	kick   chan struct{}
	sortie atomic.Bool // a sortie is active (the engine's SetSortie)

	// cancelDocked ends a switch to the docked rates under way, so that a
	// sortie's request for the flight rates need not wait for it.
	cancelMu     sync.Mutex
	cancelDocked context.CancelFunc

	mu        sync.Mutex // one switch at a time, held across it; guards the fields below
	docked    bool       // the docked set was asked for last
	failed    bool       // the last switch failed: try again
	restSince time.Time  // when the vehicle was last seen starting to rest
}

func newStreamSwitch(sets streamSets, client *vehicle.Client, clock clockwork.Clock, log *slog.Logger) *streamSwitch {
	return &streamSwitch{sets: sets, client: client, clock: clock, log: log, kick: make(chan struct{}, 1)}
}

// setSortie is told when a sortie becomes active or ends; it never
// blocks (the engine calls it from its loop). A sortie asks for the
// flight rates itself before it launches (flight); this makes the switch
// to the docked rates wait for the sortie's end, and one under way is
// followed by the sortie's request, not overtaken by it.
func (s *streamSwitch) setSortie(active bool) {
	s.sortie.Store(active)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// flight asks for the flight rates now and returns when the vehicle
// acknowledged them, or the error: the sortie engine's Streams. A switch
// to the docked rates under way is cut short first: a launch does not
// wait for it (on a poor link its set-up can take many command timeouts).
func (s *streamSwitch) flight(ctx context.Context) error {
	if s.sets.docked == nil { // nothing switches: the client keeps its set
		return s.client.SetupStreams(ctx)
	}
	s.cancelMu.Lock()
	if s.cancelDocked != nil {
		s.cancelDocked()
	}
	s.cancelMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client.SetStreams(s.sets.flight)
	s.docked = false
	if err := s.client.SetupStreams(ctx); err != nil {
		s.failed = true
		return err
	}
	s.failed = false
	return nil
}

// run switches to the docked rates once the vehicle has rested for
// dockedAfter, and back to the flight rates when it stops resting without
// a sortie (a pilot arming it in maintenance, a vehicle found airborne).
func (s *streamSwitch) run(ctx context.Context) {
	if s.sets.docked == nil {
		return
	}
	t := s.clock.NewTicker(streamCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		case <-s.kick:
		}
		s.check(ctx)
	}
}

// check looks at the vehicle once and switches when needed.
func (s *streamSwitch) check(ctx context.Context) {
	st := s.client.State()
	s.mu.Lock()
	defer s.mu.Unlock()
	resting := !s.sortie.Load() && st.Alive && !st.Armed && dock.LandedState(st.Landed) == dock.LandedOnGround
	now := s.clock.Now()
	switch {
	case !resting:
		s.restSince = time.Time{}
	case s.restSince.IsZero():
		s.restSince = now
	}
	want := resting && now.Sub(s.restSince) >= dockedAfter
	if want == s.docked && !s.failed {
		return
	}
	set, name := s.sets.flight, "flight"
	if want {
		set, name = s.sets.docked, "docked"
	}
	s.client.SetStreams(set)
	s.docked = want
	sctx, cancel := clockwork.WithTimeout(ctx, s.clock, streamSetupTimeout)
	defer cancel()
	if want {
		s.cancelMu.Lock()
		s.cancelDocked = cancel
		s.cancelMu.Unlock()
		defer func() {
			s.cancelMu.Lock()
			s.cancelDocked = nil
			s.cancelMu.Unlock()
		}()
	}
	if err := s.client.SetupStreams(sctx); err != nil {
		s.failed = true
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) { // not ended for a sortie
			s.log.Warn("vehicle streams not switched; trying again", "rates", name, "err", err)
		}
		return
	}
	s.failed = false
	s.log.Info("vehicle streams switched", "rates", name)
}
