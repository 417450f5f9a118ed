package app

import (
	"fmt"
	"log/slog"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/rs485/weatherstation"
)

// buildWeather makes the weather station driver: on a shared bus (its
// client serialises the requests with the I/O modules) or on its own
// device. Each good reading goes to feed as the dock's Weather (the
// controller decides when it is stale). It returns nil when no station is
// configured.
func buildWeather(cfg *config.Config, h *hardware, feed func(dock.Weather, *float64), log *slog.Logger) (*weatherstation.Station, error) {
	w := cfg.Weather
	if w.Bus == "" && w.Device == "" {
		return nil, nil
	}
	var rr weatherstation.RegisterReader
	if w.Bus != "" {
		c, err := h.client(cfg, w.Bus, log)
		if err != nil {
			return nil, fmt.Errorf("weather station: %w", err)
		}
		rr = c
	} else {
		line := newSerialLine("weather station", w.Device, serialMode(w.Baud, "N", 1), h.clock, log)
		c, err := modbus.NewClient(modbus.ClientOptions{Baud: w.Baud, Clock: h.clock, Logger: log.With("bus", "weather")}, line)
		if err != nil {
			return nil, fmt.Errorf("weather station: %w", err)
		}
		h.lines["weather"] = line
		if _, taken := h.clients["weather"]; !taken {
			h.clients["weather"] = c // counted by the metrics as bus "weather"
		}
		rr = c
	}
	table := weatherstation.TableHolding
	if w.Function == 4 {
		table = weatherstation.TableInput
	}
	reg := func(r *config.Register) *weatherstation.Register {
		if r == nil {
			return nil
		}
		return &weatherstation.Register{
			Table: table, Address: uint16(r.Register), Type: weatherstation.Type(r.Type),
			Scale: r.Scale, Offset: r.Offset, WordSwap: r.WordOrder == "low_first",
		}
	}
	regs := w.Registers
	return weatherstation.New(weatherstation.Options{
		Unit: uint8(w.Unit),
		Registers: weatherstation.Registers{
			WindMPS: reg(regs.WindMPS), GustMPS: reg(regs.GustMPS), DirDeg: reg(regs.DirDeg),
			TempC: reg(regs.TempC), HumidityPct: reg(regs.HumidityPct), Rain: reg(regs.Rain),
			InsideTempC: reg(regs.InsideTempC),
		},
		Interval: w.PollInterval,
		Clock:    h.clock,
		Logger:   log,
	}, rr, func(r weatherstation.Reading) {
		feed(dock.Weather{
			WindMPS: r.WindMPS, GustMPS: r.GustMPS, DirDeg: r.DirDeg, Rain: r.Rain,
			TempC: r.TempC, HumidityPct: r.HumidityPct, At: r.At,
		}, r.InsideTempC)
	})
}
