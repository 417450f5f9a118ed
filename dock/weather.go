package dock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// RegisterReader is what the weather station poller needs from a Modbus
// client (dock/modbus's client fits). Each call waits at most until ctx
// ends.
type RegisterReader interface {
	ReadHoldingRegisters(ctx context.Context, unit uint8, start, count uint16) ([]uint16, error)
	ReadInputRegisters(ctx context.Context, unit uint8, start, count uint16) ([]uint16, error)
}

// RegisterTable says which Modbus table a register is read from.
type RegisterTable string

// Register tables (function 0x03 and 0x04).
const (
	TableHolding RegisterTable = "holding"
	TableInput   RegisterTable = "input"
)

// RegisterType is how a register's words encode the value.
type RegisterType string

// Register types: 16-bit unsigned or signed, 32-bit unsigned, signed or
// IEEE 754 float over two words, high word first unless WordSwap.
const (
	RegU16 RegisterType = "u16"
	RegS16 RegisterType = "s16"
	RegU32 RegisterType = "u32"
	RegS32 RegisterType = "s32"
	RegF32 RegisterType = "f32"
)

// Register locates one value: value = raw*Scale + Offset (Scale 0 means 1).
// For Rain a value above 0 means rain.
type Register struct {
	Table    RegisterTable
	Address  uint16
	Type     RegisterType
	Scale    float64
	Offset   float64
	WordSwap bool // low word first for 32-bit types
}

func (r Register) words() uint16 {
	switch r.Type {
	case RegU32, RegS32, RegF32:
		return 2
	}
	return 1
}

// decode turns the register's words into its scaled value.
func (r Register) decode(w []uint16) (float64, error) {
	if len(w) < int(r.words()) {
		return 0, fmt.Errorf("register %d: %d words, want %d", r.Address, len(w), r.words())
	}
	var raw float64
	u32 := func() uint32 {
		if r.WordSwap {
			return uint32(w[1])<<16 | uint32(w[0])
		}
		return uint32(w[0])<<16 | uint32(w[1])
	}
	switch r.Type {
	case RegU16:
		raw = float64(w[0])
	case RegS16:
		raw = float64(int16(w[0]))
	case RegU32:
		raw = float64(u32())
	case RegS32:
		raw = float64(int32(u32()))
	case RegF32:
		raw = float64(math.Float32frombits(u32()))
		if math.IsNaN(raw) || math.IsInf(raw, 0) {
			return 0, fmt.Errorf("register %d: float is %v", r.Address, raw)
		}
	default:
		return 0, fmt.Errorf("register %d: unknown type %q", r.Address, r.Type)
	}
	scale := r.Scale
	if scale == 0 {
		scale = 1
	}
	return raw*scale + r.Offset, nil
}

// WeatherRegisters is the station's register map; a nil entry is not read
// (and its value stays zero, or for InsideTempC unknown).
type WeatherRegisters struct {
	WindMPS, GustMPS, DirDeg, TempC, HumidityPct, Rain, InsideTempC *Register
}

// WeatherOptions configure a WeatherStation.
type WeatherOptions struct {
	Unit      uint8 // Modbus unit id of the station
	Registers WeatherRegisters
	// Interval between polls. Default 2s.
	Interval time.Duration
	// ReadTimeout bounds one poll. Default 1s.
	ReadTimeout time.Duration
	// StaleAfter marks the reading stale when no poll succeeded for this
	// long. Default 10s.
	StaleAfter time.Duration
	Clock      clockwork.Clock // default the real clock
	Logger     *slog.Logger    // default discards
}

// WeatherStation polls a Modbus weather station and feeds each reading to
// a function (Controller.SetWeather fits). A reading that could not be
// refreshed for StaleAfter is fed with Stale set and its last values kept,
// never as zero wind. Latest is safe for concurrent use.
type WeatherStation struct {
	rr   RegisterReader
	opts WeatherOptions
	feed func(Weather, *float64)
	log  *slog.Logger

	mu      sync.Mutex
	latest  Weather
	insideC *float64

	// Owned by Run: log-on-change state of failures.
	failing   bool
	failSince time.Time
	failCount int
}

// NewWeatherStation returns a poller reading rr; feed is called from Run's
// goroutine after every poll and must not block.
func NewWeatherStation(opts WeatherOptions, rr RegisterReader, feed func(Weather, *float64)) (*WeatherStation, error) {
	if rr == nil || feed == nil {
		return nil, errors.New("weather station: register reader and feed are required")
	}
	if opts.Interval == 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = time.Second
	}
	if opts.StaleAfter == 0 {
		opts.StaleAfter = 10 * time.Second
	}
	if opts.Interval < 0 || opts.ReadTimeout < 0 || opts.StaleAfter < 0 {
		return nil, errors.New("weather station: negative interval, read timeout or stale after")
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
	return &WeatherStation{rr: rr, opts: opts, feed: feed, log: opts.Logger.With("component", "weather")}, nil
}

type namedReg struct {
	name string
	reg  *Register
	set  func(w *Weather, inside **float64, v float64)
}

func (m WeatherRegisters) all() []namedReg {
	return []namedReg{
		{"wind_mps", m.WindMPS, func(w *Weather, _ **float64, v float64) { w.WindMPS = v }},
		{"gust_mps", m.GustMPS, func(w *Weather, _ **float64, v float64) { w.GustMPS = v }},
		{"dir_deg", m.DirDeg, func(w *Weather, _ **float64, v float64) { w.DirDeg = v }},
		{"temp_c", m.TempC, func(w *Weather, _ **float64, v float64) { w.TempC = v }},
		{"humidity_pct", m.HumidityPct, func(w *Weather, _ **float64, v float64) { w.HumidityPct = v }},
		{"rain", m.Rain, func(w *Weather, _ **float64, v float64) { w.Rain = v > 0 }},
		{"inside_temp_c", m.InsideTempC, func(_ *Weather, in **float64, v float64) { *in = &v }},
	}
}

// Latest returns the last reading fed (stale or not).
func (s *WeatherStation) Latest() Weather {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

// Run polls every Interval until ctx ends, then returns nil.
func (s *WeatherStation) Run(ctx context.Context) error {
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

// poll reads every register once and feeds the result.
func (s *WeatherStation) poll(ctx context.Context) {
	now := s.opts.Clock.Now()
	w, inside, err := s.read(ctx)
	s.mu.Lock()
	if err == nil {
		w.At = now
		s.latest, s.insideC = w, inside
	} else if !s.latest.At.IsZero() && now.Sub(s.latest.At) >= s.opts.StaleAfter || s.latest.At.IsZero() {
		s.latest.Stale = true
		s.insideC = nil
	}
	out, in := s.latest, s.insideC
	s.mu.Unlock()
	s.logChange(now, err)
	s.feed(out, in)
}

// logChange logs the first failure and the recovery, with the duration
// and the count of failed polls in between (STYLE.md §5).
func (s *WeatherStation) logChange(now time.Time, err error) {
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
func (s *WeatherStation) read(ctx context.Context) (Weather, *float64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadTimeout)
	defer cancel()
	var w Weather
	var inside *float64
	regs := s.opts.Registers.all()
	for _, table := range []RegisterTable{TableHolding, TableInput} {
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
				return Weather{}, nil, err
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
					return Weather{}, nil, fmt.Errorf("read %s registers %d-%d: short reply of %d words", table, lo, hi-1, len(b))
				}
				words = b[off : off+uint32(r.reg.words())]
			} else {
				var err error
				if words, err = s.readTable(ctx, table, r.reg.Address, r.reg.words()); err != nil {
					return Weather{}, nil, err
				}
			}
			v, err := r.reg.decode(words)
			if err != nil {
				return Weather{}, nil, fmt.Errorf("decode %s: %w", r.name, err)
			}
			r.set(&w, &inside, v)
		}
	}
	return w, inside, nil
}

func (s *WeatherStation) readTable(ctx context.Context, table RegisterTable, start, count uint16) ([]uint16, error) {
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
