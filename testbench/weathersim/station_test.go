package weathersim_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/testbench/pty"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
	"github.com/dockagent/dock-agent/testbench/weathersim"
	"github.com/google/go-cmp/cmp"
	"go.bug.st/serial"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRegisters(t *testing.T) {
	tests := []struct {
		name string
		r    weathersim.Reading
		want [weathersim.NumRegs]uint16
	}{
		{"calm cold", weathersim.Reading{WindMPS: 1.2, GustMPS: 2.5, DirDeg: 270, TempC: -3.4, HumidityPct: 81.5, InsideC: 5}, [7]uint16{12, 25, 270, 0xFFDE, 815, 0, 50}},
		{"storm", weathersim.Reading{WindMPS: 14.2, GustMPS: 21, DirDeg: -10, TempC: 12, Rain: true, InsideC: 18.25}, [7]uint16{142, 210, 350, 120, 0, 1, 183}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.r.Registers()); diff != "" {
				t.Errorf("Registers() (-want +got):\n%s", diff)
			}
		})
	}
}

// start runs a station on a pty and returns a client on its slave path,
// opened like the agent does.
func start(t *testing.T) (*weathersim.Station, *modbus.Client) {
	t.Helper()
	pair, err := pty.Open(pty.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := weathersim.New(weathersim.Options{Initial: weathersim.Reading{WindMPS: 3.1, TempC: 21.4}}, pair)
	if err != nil {
		t.Fatal(err)
	}
	port, err := serial.Open(pair.Path(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	c, err := modbus.NewClient(modbus.ClientOptions{Timeout: 50 * time.Millisecond, Retries: 1}, port)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := st.Run(ctx); err != nil {
			t.Errorf("station Run() = %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		port.Close()
		pair.Close()
	})
	return st, c
}

func TestStationOverPty(t *testing.T) {
	st, c := start(t)
	ctx := t.Context()
	got, err := c.ReadInputRegisters(ctx, weathersim.DefaultUnit, 0, weathersim.NumRegs)
	if err != nil {
		t.Fatal(err)
	}
	if got[weathersim.RegWind] != 31 || got[weathersim.RegTemp] != 214 {
		t.Errorf("initial registers %v, want wind 31 and temp 214", got)
	}
	st.Update(func(r *weathersim.Reading) { r.WindMPS, r.GustMPS, r.Rain = 14.2, 18, true })
	got, err = c.ReadHoldingRegisters(ctx, weathersim.DefaultUnit, weathersim.RegWind, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint16{142, 180}, got); diff != "" {
		t.Errorf("wind and gust after Update (-want +got):\n%s", diff)
	}
	_, err = c.ReadInputRegisters(ctx, weathersim.DefaultUnit, 5, 3)
	var ee *modbus.ExceptionError
	if !errors.As(err, &ee) || ee.Code != modbus.ExceptionIllegalDataAddress {
		t.Errorf("read past the map = %v, want illegal data address", err)
	}
	if _, err := c.ReadCoils(ctx, weathersim.DefaultUnit, 0, 1); !errors.As(err, &ee) || ee.Code != modbus.ExceptionIllegalFunction {
		t.Errorf("read coils of the station = %v, want illegal function", err)
	}
}

func TestStationFaultsOverPty(t *testing.T) {
	st, c := start(t)
	tests := []struct {
		name   string
		faults rtuslave.Faults
		is     func(error) bool
	}{
		{"crc errors", rtuslave.Faults{CRCErrors: true}, func(err error) bool {
			var fe *modbus.FrameError
			return errors.As(err, &fe) && fe.Kind == modbus.FrameCRC
		}},
		{"silence", rtuslave.Faults{Silent: true}, func(err error) bool { return errors.Is(err, modbus.ErrTimeout) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st.SetFaults(tt.faults)
			if _, err := c.ReadInputRegisters(t.Context(), weathersim.DefaultUnit, 0, 1); !tt.is(err) {
				t.Errorf("read with %+v = %v", tt.faults, err)
			}
			st.SetFaults(rtuslave.Faults{})
			if _, err := c.ReadInputRegisters(t.Context(), weathersim.DefaultUnit, 0, 1); err != nil {
				t.Errorf("read after clearing %+v = %v", tt.faults, err)
			}
		})
	}
}
