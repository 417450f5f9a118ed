package dock

import (
	"context"
	"fmt"
	"time"
)

// Motion is one actuator motion of the lid or the centering arms.
type Motion int

// The four motions. Each drives one output until its target limit switch
// closes, bounded by the part's timeout (invariant 6).
const (
	MotionOpenLid Motion = iota
	MotionCloseLid
	MotionReleaseArms
	MotionClampArms
	numMotions
)

// String returns the motion as an action ("open lid").
func (m Motion) String() string {
	if m < 0 || m >= numMotions {
		return fmt.Sprintf("motion(%d)", int(m))
	}
	return motionSpecs[m].action
}

// motionSpec describes one motion: what it drives and which switches say
// where the part is.
type motionSpec struct {
	part        string // "lid", "arms"
	verb        string // "open", "close", "release", "clamp"
	action      string // "open lid"
	progressive string // "lid opening"
	step        string // command.progress step ("lid.open")
	targetName  string // "open limit"
	sourceName  string // "closed limit"
	out         output
	target      func(inputs) bool
	source      func(inputs) bool
	moving      struct {
		lid  LidState
		arms ArmsState
	}
}

var motionSpecs = [numMotions]motionSpec{
	MotionOpenLid: {
		part: "lid", verb: "open", action: "open lid", progressive: "lid opening", step: "lid.open",
		targetName: "open limit", sourceName: "closed limit", out: outLidOpen,
		target: func(in inputs) bool { return in.lidOpen },
		source: func(in inputs) bool { return in.lidClosed },
		moving: struct {
			lid  LidState
			arms ArmsState
		}{lid: LidOpening},
	},
	MotionCloseLid: {
		part: "lid", verb: "close", action: "close lid", progressive: "lid closing", step: "lid.close",
		targetName: "closed limit", sourceName: "open limit", out: outLidClose,
		target: func(in inputs) bool { return in.lidClosed },
		source: func(in inputs) bool { return in.lidOpen },
		moving: struct {
			lid  LidState
			arms ArmsState
		}{lid: LidClosing},
	},
	MotionReleaseArms: {
		part: "arms", verb: "release", action: "release arms", progressive: "arms releasing", step: "arms.release",
		targetName: "released limit", sourceName: "clamped limit", out: outArmsRelease,
		target: func(in inputs) bool { return in.armsReleased },
		source: func(in inputs) bool { return in.armsClamped },
		moving: struct {
			lid  LidState
			arms ArmsState
		}{arms: ArmsReleasing},
	},
	MotionClampArms: {
		part: "arms", verb: "clamp", action: "clamp arms", progressive: "arms clamping", step: "arms.clamp",
		targetName: "clamped limit", sourceName: "released limit", out: outArmsClamp,
		target: func(in inputs) bool { return in.armsClamped },
		source: func(in inputs) bool { return in.armsReleased },
		moving: struct {
			lid  LidState
			arms ArmsState
		}{arms: ArmsClamping},
	},
}

// motion is a motion in progress, owned by the loop.
type motion struct {
	kind       Motion
	spec       *motionSpec
	startAt    time.Time // when the output is energised (after a reversal pause)
	fromSource bool      // the source switch was closed at the start
	sourceLeft bool      // the source switch has opened since
	// sourceRead: fromSource and sourceLeft were taken from inputs read
	// once the part stood still at startAt. A motion sent back inside the
	// reverse pause is judged only then: the part it reverses may reach the
	// switch this motion starts from between the last poll and the cut, or
	// the switch's debounce may not have reported it yet.
	sourceRead   bool
	jobID        string
	waiters      []chan error
	lastProgress time.Time
}

// readSource records whether the part starts from its source switch.
func (m *motion) readSource(in inputs) {
	m.fromSource = m.spec.source(in)
	m.sourceLeft = !m.fromSource
	m.sourceRead = true
}

func (c *Controller) timeout(m Motion) time.Duration {
	if motionSpecs[m].part == "lid" {
		return c.opts.LidTimeout
	}
	return c.opts.ArmsTimeout
}

func (c *Controller) partOf(m Motion) **motion {
	if motionSpecs[m].part == "lid" {
		return &c.lid
	}
	return &c.arms
}

// StartMotion asks for motion m and returns once the controller accepted or
// refused it. A refusal is an *InvariantError, ErrEStopLatched, ErrFault
// (auto mode only: maintenance may move a faulted dock), ErrPowerLost (in an
// *Error) or ctx's error. When accepted, done receives exactly one value when
// the motion ends: nil on arrival (at once if the part is already there), an
// error wrapping ErrTimeout, ErrStopped, ErrEStopLatched, ErrPowerLost,
// ErrFault or an *InvariantError otherwise. The motion is bounded by its
// timeout whatever happens to ctx.
//
// Asking for the motion in progress joins it; asking for the opposite one
// ends it with ErrStopped and reverses after ReversePause. The lid and the
// arms move independently, so the engine may open the lid and release the
// arms together. With a non-empty jobID the motion reports command.progress
// events carrying it.
func (c *Controller) StartMotion(ctx context.Context, m Motion, jobID string) (done <-chan error, err error) {
	if m < 0 || m >= numMotions {
		return nil, Errorf(ErrInvalidArgument, "start motion: unknown motion %d", int(m))
	}
	var ch chan error
	if derr := c.do(ctx, func(now time.Time) { ch, err = c.startMotion(now, m, jobID) }); derr != nil {
		return nil, fmt.Errorf("%s: %w", m, derr)
	}
	return ch, err
}

// move starts m and waits for its end or ctx.
func (c *Controller) move(ctx context.Context, m Motion) error {
	done, err := c.StartMotion(ctx, m, "")
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: wait: %w", m, ctx.Err())
	}
}

// OpenLid opens the lid and returns when the open limit switch closed, the
// motion failed, or ctx ended (the motion continues, bounded by its timeout).
func (c *Controller) OpenLid(ctx context.Context) error { return c.move(ctx, MotionOpenLid) }

// CloseLid closes the lid like OpenLid; invariant 1 refuses it unless the
// vehicle is docked or airborne beyond the clearance altitude, and stops it
// if that ceases to hold on the way.
func (c *Controller) CloseLid(ctx context.Context) error { return c.move(ctx, MotionCloseLid) }

// ReleaseArms releases the centering arms like OpenLid; invariant 3 refuses
// it while the vehicle is armed (or its armed state unknown).
func (c *Controller) ReleaseArms(ctx context.Context) error {
	return c.move(ctx, MotionReleaseArms)
}

// ClampArms clamps the centering arms like ReleaseArms.
func (c *Controller) ClampArms(ctx context.Context) error { return c.move(ctx, MotionClampArms) }

// StopLid stops a lid motion (it ends with ErrStopped); the lid reads
// stopped between its switches.
func (c *Controller) StopLid(ctx context.Context) error { return c.stopPart(ctx, &c.lid) }

// StopArms stops an arms motion like StopLid.
func (c *Controller) StopArms(ctx context.Context) error { return c.stopPart(ctx, &c.arms) }

func (c *Controller) stopPart(ctx context.Context, mp **motion) error {
	return c.do(ctx, func(time.Time) {
		if m := *mp; m != nil {
			c.finish(mp, fmt.Errorf("%s: %w by request", m.spec.action, ErrStopped), ProgressCanceled)
		}
	})
}

// StopAll stops every motion and switches the charger off; heater, fan and
// strobe keep following their rules.
func (c *Controller) StopAll(ctx context.Context) error {
	return c.do(ctx, func(time.Time) {
		for _, mp := range []**motion{&c.lid, &c.arms} {
			if m := *mp; m != nil {
				c.finish(mp, fmt.Errorf("%s: %w by stop all", m.spec.action, ErrStopped), ProgressCanceled)
			}
		}
		c.chargerWant = false
	})
}

// startMotion runs on the loop.
func (c *Controller) startMotion(now time.Time, k Motion, jobID string) (chan error, error) {
	spec := &motionSpecs[k]
	if err := c.motionGate(spec); err != nil {
		return nil, err
	}
	if err := c.interlock(k); err != nil {
		return nil, err
	}
	mp := c.partOf(k)
	done := make(chan error, 1)
	if cur := *mp; cur != nil && cur.kind == k {
		cur.waiters = append(cur.waiters, done)
		if cur.jobID == "" {
			cur.jobID = jobID
		}
		return done, nil
	}
	if *mp != nil {
		c.finish(mp, fmt.Errorf("%s: %w by %s", (*mp).spec.action, ErrStopped, spec.action), ProgressCanceled)
	}
	startAt := now
	// Reversal: the opposite output gets ReversePause to stop before this
	// one is energised. apply cuts it in this very iteration.
	opp := spec.out.opposite()
	if c.level[opp] {
		startAt = now.Add(c.opts.ReversePause)
	} else if t := c.lastCut[opp].Add(c.opts.ReversePause); t.After(now) {
		startAt = t
	}
	// Already there, unless the part was just driven away: then its switch
	// may read made only because the inputs were read before it opened (a
	// lid that ran for a few ms would be reported closed while ajar).
	// Judged again when the reverse pause ends, on inputs read since.
	if startAt.Equal(now) && spec.target(c.in) {
		done <- nil
		c.progress(jobID, spec, ProgressOK, 100, nil)
		return done, nil
	}
	m := &motion{
		kind:         k,
		spec:         spec,
		startAt:      startAt,
		jobID:        jobID,
		waiters:      []chan error{done},
		lastProgress: now,
	}
	*mp = m
	if startAt.Equal(now) {
		// No reversal: the part stands still, the inputs tell where.
		m.readSource(c.in)
		c.log.Info(spec.progressive, "from_end", m.fromSource)
	}
	c.progress(jobID, spec, ProgressInProgress, 0, nil)
	return done, nil
}

// motionGate refuses any motion while the e-stop is latched, the inputs
// are unreadable, the dock is faulted in auto mode, or mains power is
// missing.
func (c *Controller) motionGate(spec *motionSpec) error {
	switch {
	case c.estopLatched || c.in.estop:
		return fmt.Errorf("%s: %w", spec.action, ErrEStopLatched)
	case c.inputsErr != nil:
		return fmt.Errorf("%s: %w (inputs: %v)", spec.action, ErrFault, c.inputsErr)
	case len(c.faults) > 0 && c.mode != ModeMaintenance:
		return fmt.Errorf("%s: %w (%s)", spec.action, ErrFault, c.firstFault())
	case !c.in.mains:
		return &Error{Kind: ErrPrecondition, Message: spec.action, Err: ErrPowerLost}
	}
	return nil
}

// stepMotion advances the motion in *mp: arrival, interlocks that ceased to
// hold, switches that disagree, timeout.
func (c *Controller) stepMotion(now time.Time, mp **motion) {
	m := *mp
	if m == nil {
		return
	}
	spec := m.spec
	if err := c.interlock(m.kind); err != nil {
		c.log.Warn(spec.progressive+" stopped by interlock", "err", err)
		c.finish(mp, err, ProgressFailed)
		return
	}
	if now.Before(m.startAt) {
		return
	}
	if !m.sourceRead {
		// The reverse pause is over: where the part starts from is what
		// the switches say now, not what they said when it was sent back
		// (the "closed again" check below would otherwise fault a part
		// that reached its end just as it was reversed).
		m.readSource(c.in)
		c.log.Info(spec.progressive+" after the reverse pause", "from_end", m.fromSource)
	}
	elapsed := now.Sub(m.startAt)
	if spec.target(c.in) {
		if m.kind == MotionOpenLid && m.fromSource {
			c.lidOpenEst.Store(int64(elapsed))
		}
		c.log.Info(spec.part+" "+pastTense(spec.verb), "duration", elapsed)
		c.finish(mp, nil, ProgressOK)
		return
	}
	timeout := c.timeout(m.kind)
	leave := min(c.opts.LimitLeaveTimeout, timeout/2)
	if spec.source(c.in) {
		if m.sourceLeft {
			reason := fmt.Sprintf("%s: %s closed again while %s", spec.part, spec.sourceName, spec.progressive[len(spec.part)+1:])
			c.raise(partFaults(spec.part).reclosed, reason)
			c.finish(mp, fmt.Errorf("%s: %s: %w", spec.action, reason, ErrFault), ProgressFailed)
			return
		}
		if elapsed >= leave {
			reason := fmt.Sprintf("%s: %s still closed %v after %s started", spec.part, spec.sourceName, leave, spec.progressive[len(spec.part)+1:])
			c.raise(partFaults(spec.part).stuck, reason)
			c.finish(mp, fmt.Errorf("%s: %s: %w", spec.action, reason, ErrFault), ProgressFailed)
			return
		}
	} else {
		m.sourceLeft = true
	}
	if elapsed >= timeout {
		reason := fmt.Sprintf("%s: %s timeout after %v", spec.part, spec.verb, timeout)
		c.raise(partFaults(spec.part).timeout, reason)
		c.finish(mp, fmt.Errorf("%s: %s: %w", spec.action, reason, ErrTimeout), ProgressTimeout)
		return
	}
	if m.jobID != "" && now.Sub(m.lastProgress) >= c.opts.ProgressInterval {
		m.lastProgress = now
		expect := timeout
		if m.kind == MotionOpenLid || m.kind == MotionCloseLid {
			expect = c.LidOpenEstimate()
		}
		pct := min(99, int(100*elapsed/max(expect, time.Millisecond)))
		c.progress(m.jobID, spec, ProgressInProgress, pct, nil)
	}
}

func pastTense(verb string) string {
	switch verb {
	case "open":
		return "opened"
	case "close":
		return "closed"
	case "release":
		return "released"
	case "clamp":
		return "clamped"
	}
	return verb
}

// finish ends the motion in *mp with err: its output will be cut by apply
// in this iteration, every waiter gets err, and the job reports status.
func (c *Controller) finish(mp **motion, err error, status ProgressStatus) {
	m := *mp
	*mp = nil
	for _, w := range m.waiters {
		c.ended = append(c.ended, endedMotion{w, err})
	}
	pct := 0
	if err == nil {
		pct = 100
	}
	c.progress(m.jobID, m.spec, status, pct, err)
	if c.opts.OnMotion != nil {
		c.opts.OnMotion(m.spec.step, status)
	}
}

// endedMotion is a waiter of a motion that ended, told once the outputs
// are written (deliver).
type endedMotion struct {
	ch  chan error
	err error
}

// deliver tells the waiters of the motions that ended in this iteration,
// after apply has cut their outputs and the state is published: a caller
// woken by "arms released" (the launch, which arms the vehicle next) must
// never find the arms motor still energised (invariant 3).
func (c *Controller) deliver() {
	for _, e := range c.ended {
		e.ch <- e.err
	}
	c.ended = c.ended[:0]
}

func (c *Controller) progress(jobID string, spec *motionSpec, status ProgressStatus, pct int, err error) {
	if jobID == "" {
		return
	}
	f := map[string]any{"id": jobID, "status": string(status), "step": spec.step, "percent": pct}
	if err != nil {
		f["error"] = err // telemetry writes its message and its contract code
	}
	c.emit(EventCommandProgress, f)
}
