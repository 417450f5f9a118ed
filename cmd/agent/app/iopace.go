package app

import (
	"sync"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/sortie"
	"github.com/dockagent/dock-agent/rs485/modbus"
)

// ioPace switches the I/O modules of buses with an idle_poll_interval
// between their fast poll and their idle one. The modules are busy (every
// poll_interval) while a motor output is energised, for
// config.IdleAfterMotion after the last one went off, and while a sortie is
// active; otherwise the dock rests and they poll every idle_poll_interval.
// Config validation keeps that short enough for an e-stop on such a bus.
//
// A motor output going on makes the modules busy before the output is
// written, and a module going busy polls at once: the limit switches a
// motion ends on are read every poll_interval from its first moment.
type ioPace struct {
	clock clockwork.Clock
	mods  []busySetter

	mu      sync.Mutex
	motors  uint8 // motor outputs energised, one bit each
	sortie  bool
	holding bool            // within IdleAfterMotion of the last motor off
	hold    clockwork.Timer // ends holding; nil until a motor went off
	gen     int             // of hold: a stale hold's end does nothing
	busy    bool
}

// busySetter is what the pace needs of a module; *modbus.Module fits.
type busySetter interface{ SetBusy(busy bool) }

var _ busySetter = (*modbus.Module)(nil)

// newIOPace wraps the motor outputs of hw.pins so that they report to the
// pace; nil (nothing wrapped) when no bus has an idle_poll_interval.
func newIOPace(cfg *config.Config, hw *hardware, clock clockwork.Clock) *ioPace {
	p := &ioPace{clock: clock}
	for _, m := range hw.modules {
		if cfg.Buses[m.bus].IdlePollInterval > 0 {
			p.mods = append(p.mods, m.m)
		}
	}
	if len(p.mods) == 0 {
		return nil
	}
	for i, out := range []*gpio.PinOut{&hw.pins.LidOpenMotor, &hw.pins.LidCloseMotor, &hw.pins.ArmsReleaseMotor, &hw.pins.ArmsClampMotor} {
		if *out != nil {
			*out = pacedMotor{PinOut: *out, pace: p, bit: 1 << i}
		}
	}
	return p
}

// setMotor records motor bit on or off.
func (p *ioPace) setMotor(bit uint8, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	was := p.motors
	if on {
		p.motors |= bit
	} else {
		p.motors &^= bit
	}
	if was != 0 && p.motors == 0 {
		if p.hold != nil {
			p.hold.Stop()
		}
		p.gen++
		gen := p.gen
		p.holding = true
		p.hold = p.clock.AfterFunc(config.IdleAfterMotion, func() { p.endHold(gen) })
	}
	p.update()
}

// setSortie records whether a sortie is active.
func (p *ioPace) setSortie(active bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sortie = active
	p.update()
}

func (p *ioPace) endHold(gen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen == p.gen {
		p.holding = false
		p.update()
	}
}

// update tells the modules when busy changed; p.mu held. SetBusy does not
// block.
func (p *ioPace) update() {
	busy := p.motors != 0 || p.holding || p.sortie
	if busy == p.busy {
		return
	}
	p.busy = busy
	for _, m := range p.mods {
		m.SetBusy(busy)
	}
}

// pacedMotor is a motor output that tells the pace when it goes on and
// off: on before the write, so the modules are fast when the motor starts.
type pacedMotor struct {
	gpio.PinOut
	pace *ioPace
	bit  uint8
}

func (m pacedMotor) Out(l gpio.Level) error {
	if l == gpio.High {
		m.pace.setMotor(m.bit, true)
		return m.PinOut.Out(l)
	}
	err := m.PinOut.Out(l)
	if err == nil {
		m.pace.setMotor(m.bit, false)
	}
	return err
}

func (m pacedMotor) Halt() error {
	err := m.PinOut.Halt()
	if err == nil {
		m.pace.setMotor(m.bit, false)
	}
	return err
}

// sortieWatch is the sortie engine's hardware that also tells parts of
// the agent whether a sortie is active: the I/O pace (fast polls) and the
// vehicle's stream rates. Each hook must not block.
type sortieWatch struct {
	sortie.Hardware
	hooks []func(active bool)
}

func (h sortieWatch) SetSortie(ref *dock.SortieRef) {
	for _, f := range h.hooks {
		f(ref != nil)
	}
	h.Hardware.SetSortie(ref)
}
