package app

import (
	"fmt"
	"log/slog"

	"github.com/dockagent/dock-agent/config"
	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/rs485/modbus"
)

// buildWeather makes the weather station poller: on a shared bus (its
// client serialises the requests with the I/O modules) or on its own
// device. It returns nil when no station is configured.
func buildWeather(cfg *config.Config, h *hardware, feed func(dock.Weather, *float64), log *slog.Logger) (*dock.WeatherStation, error) {
	w := cfg.Weather
	if w.Bus == "" && w.Device == "" {
		return nil, nil
	}
	var rr dock.RegisterReader
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
	table := dock.TableHolding
	if w.Function == 4 {
		table = dock.TableInput
	}
	reg := func(r *config.Register) *dock.Register {
		if r == nil {
			return nil
		}
		return &dock.Register{
			Table: table, Address: uint16(r.Register), Type: dock.RegisterType(r.Type),
			Scale: r.Scale, Offset: r.Offset, WordSwap: r.WordOrder == "low_first",
		}
	}
	regs := w.Registers
	return dock.NewWeatherStation(dock.WeatherOptions{
		Unit: uint8(w.Unit),
		Registers: dock.WeatherRegisters{
			WindMPS: reg(regs.WindMPS), GustMPS: reg(regs.GustMPS), DirDeg: reg(regs.DirDeg),
			TempC: reg(regs.TempC), HumidityPct: reg(regs.HumidityPct), Rain: reg(regs.Rain),
			InsideTempC: reg(regs.InsideTempC),
		},
		Interval:   w.PollInterval,
		StaleAfter: w.StaleAfter,
		Clock:      h.clock,
		Logger:     log,
	}, rr, feed)
}
