package weatherstation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jonboulle/clockwork"
)

// Reading is one good poll of the station, in the units of the MQTT
// contract. InsideTempC is nil when no inside sensor is configured. At is
// when the poll started (the controller judges staleness from it).
type Reading struct {
	WindMPS, GustMPS, DirDeg, TempC, HumidityPct float64
	Rain                                         bool
	InsideTempC                                  *float64
	At                                           time.Time
}

// Options configure a Station.
type Options struct {
	Unit      uint8 // Modbus unit id of the station
	Registers Registers
	// Interval between polls. Default 2s.
	Interval time.Duration
	// ReadTimeout bounds one poll. Default 1s.
	ReadTimeout time.Duration
	Clock       clockwork.Clock // default the real clock
	Logger      *slog.Logger    // default discards
}

// Station polls a Modbus weather station and feeds each good reading to a
// function (the app passes it on to the dock controller). A failed poll
// feeds nothing: the controller marks the last reading stale once it is
// older than its limit, keeping its values, never reporting zero wind.
type Station struct {
	rr   RegisterReader
	opts Options
	feed func(Reading)
	log  *slog.Logger

	// Owned by Run: log-on-change state of failures.
	failing   bool
	failSince time.Time
	failCount int
}

// New returns a poller reading rr; feed is called from Run's goroutine
// after every good poll and must not block.
func New(opts Options, rr RegisterReader, feed func(Reading)) (*Station, error) {
	if rr == nil || feed == nil {
		return nil, errors.New("weather station: register reader and feed are required")
	}
	if opts.Interval == 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = time.Second
	}
	if opts.Interval < 0 || opts.ReadTimeout < 0 {
		return nil, errors.New("weather station: negative interval or read timeout")
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, r := range opts.Registers.all() {
		if r.reg == nil {
			continue
		}
		if _, err := r.reg.decode([]uint16{0, 0}); err != nil {
			return nil, fmt.Errorf("weather station register %s: %w", r.name, err)
		}
		if r.reg.Table != TableHolding && r.reg.Table != TableInput {
			return nil, fmt.Errorf("weather station register %s: table %q is not holding or input", r.name, r.reg.Table)
		}
	}
	return &Station{rr: rr, opts: opts, feed: feed, log: opts.Logger.With("component", "weather")}, nil
}

type namedReg struct {
	name string
	reg  *Register
	set  func(r *Reading, v float64)
}

func (m Registers) all() []namedReg {
	return []namedReg{
		{"wind_mps", m.WindMPS, func(r *Reading, v float64) { r.WindMPS = v }},
		{"gust_mps", m.GustMPS, func(r *Reading, v float64) { r.GustMPS = v }},
		{"dir_deg", m.DirDeg, func(r *Reading, v float64) { r.DirDeg = v }},
		{"temp_c", m.TempC, func(r *Reading, v float64) { r.TempC = v }},
		{"humidity_pct", m.HumidityPct, func(r *Reading, v float64) { r.HumidityPct = v }},
		{"rain", m.Rain, func(r *Reading, v float64) { r.Rain = v > 0 }},
		{"inside_temp_c", m.InsideTempC, func(r *Reading, v float64) { r.InsideTempC = &v }},
	}
}

// Run polls every Interval until ctx ends, then returns nil.
func (s *Station) Run(ctx context.Context) error {
	t := s.opts.Clock.NewTicker(s.opts.Interval)
	defer t.Stop()
	s.poll(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
			s.poll(ctx)
		}
	}
}

// poll reads every register once and feeds a good result.
func (s *Station) poll(ctx context.Context) {
	now := s.opts.Clock.Now()
	r, err := s.read(ctx)
	s.logChange(now, err)
	if err != nil {
		return
	}
	r.At = now
	s.feed(r)
}

// logChange logs the first failure and the recovery, with the duration
// and the count of failed polls in between (STYLE.md §5).
func (s *Station) logChange(now time.Time, err error) {
	switch {
	case err != nil && !s.failing:
		s.failing, s.failSince, s.failCount = true, now, 1
		s.log.Warn("weather station not answering", "err", err)
	case err != nil:
		s.failCount++
	case s.failing:
		s.log.Info("weather station answering again", "down_for", now.Sub(s.failSince), "failed_polls", s.failCount)
		s.failing = false
	}
}

// read reads the configured registers, each table in one request when the
// registers lie within 125 words of each other.
func (s *Station) read(ctx context.Context) (Reading, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadTimeout)
	defer cancel()
	var out Reading
	regs := s.opts.Registers.all()
	for _, table := range []Table{TableHolding, TableInput} {
		lo, hi := uint32(math.MaxUint32), uint32(0)
		for _, r := range regs {
			if r.reg != nil && r.reg.Table == table {
				lo = min(lo, uint32(r.reg.Address))
				hi = max(hi, uint32(r.reg.Address)+uint32(r.reg.words()))
			}
		}
		if hi == 0 {
			continue
		}
		block := map[uint32][]uint16{} // start -> words
		if hi-lo <= 125 {
			words, err := s.readTable(ctx, table, uint16(lo), uint16(hi-lo))
			if err != nil {
				return Reading{}, err
			}
			block[lo] = words
		}
		for _, r := range regs {
			if r.reg == nil || r.reg.Table != table {
				continue
			}
			var words []uint16
			if b, ok := block[lo]; ok {
				off := uint32(r.reg.Address) - lo
				if int(off)+int(r.reg.words()) > len(b) {
					return Reading{}, fmt.Errorf("read %s registers %d-%d: short reply of %d words", table, lo, hi-1, len(b))
				}
				words = b[off : off+uint32(r.reg.words())]
			} else {
				var err error
				if words, err = s.readTable(ctx, table, r.reg.Address, r.reg.words()); err != nil {
					return Reading{}, err
				}
			}
			v, err := r.reg.decode(words)
			if err != nil {
				return Reading{}, fmt.Errorf("decode %s: %w", r.name, err)
			}
			r.set(&out, v)
		}
	}
	return out, nil
}

func (s *Station) readTable(ctx context.Context, table Table, start, count uint16) ([]uint16, error) {
	var words []uint16
	var err error
	if table == TableHolding {
		words, err = s.rr.ReadHoldingRegisters(ctx, s.opts.Unit, start, count)
	} else {
		words, err = s.rr.ReadInputRegisters(ctx, s.opts.Unit, start, count)
	}
	if err != nil {
		return nil, fmt.Errorf("read weather station unit %d %s registers %d+%d: %w", s.opts.Unit, table, start, count, err)
	}
	if len(words) < int(count) {
		return nil, fmt.Errorf("read weather station unit %d %s registers %d+%d: short reply of %d words", s.opts.Unit, table, start, count, len(words))
	}
	return words, nil
}
