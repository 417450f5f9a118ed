package modbus_test

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/dockagent/dock-agent/rs485/modbus"
	"github.com/dockagent/dock-agent/testbench/rtuslave"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pipePort is one end of a net.Pipe with the serial habits: a read timeout
// returns 0, nil.
type pipePort struct {
	net.Conn
	mu      sync.Mutex
	timeout time.Duration
}

func (p *pipePort) SetReadTimeout(d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeout = d
	return nil
}

func (p *pipePort) Read(b []byte) (int, error) {
	p.mu.Lock()
	d := p.timeout
	p.mu.Unlock()
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d) // real IO: pipe deadlines are wall-clock
	}
	if err := p.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := p.Conn.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, nil
	}
	return n, err
}

func pipes() (*pipePort, *pipePort) {
	a, b := net.Pipe()
	return &pipePort{Conn: a}, &pipePort{Conn: b}
}

// memDevice is an in-memory Modbus device.
type memDevice struct {
	mu      sync.Mutex
	coils   []bool
	inputs  []bool
	holding []uint16
	input   []uint16
}

func bitsAt[T any](s []T, start, count uint16) ([]T, modbus.Exception) {
	if int(start)+int(count) > len(s) {
		return nil, modbus.ExceptionIllegalDataAddress
	}
	return append([]T(nil), s[start:int(start)+int(count)]...), 0
}

func (d *memDevice) device() rtuslave.Device {
	lock := func() func() { d.mu.Lock(); return d.mu.Unlock }
	return rtuslave.Device{
		ReadCoils: func(s, c uint16) ([]bool, modbus.Exception) { defer lock()(); return bitsAt(d.coils, s, c) },
		ReadDiscreteInputs: func(s, c uint16) ([]bool, modbus.Exception) {
			defer lock()()
			return bitsAt(d.inputs, s, c)
		},
		ReadHoldingRegisters: func(s, c uint16) ([]uint16, modbus.Exception) {
			defer lock()()
			return bitsAt(d.holding, s, c)
		},
		ReadInputRegisters: func(s, c uint16) ([]uint16, modbus.Exception) {
			defer lock()()
			return bitsAt(d.input, s, c)
		},
		WriteCoils: func(s uint16, v []bool) modbus.Exception {
			defer lock()()
			if int(s)+len(v) > len(d.coils) {
				return modbus.ExceptionIllegalDataAddress
			}
			copy(d.coils[s:], v)
			return 0
		},
		WriteRegisters: func(s uint16, v []uint16) modbus.Exception {
			defer lock()()
			if int(s)+len(v) > len(d.holding) {
				return modbus.ExceptionIllegalDataAddress
			}
			copy(d.holding[s:], v)
			return 0
		},
	}
}

// startSlave runs an rtuslave for dev on one end of a pipe and returns a
// client on the other end; both stop when the test ends.
func startSlave(t *testing.T, dev rtuslave.Device, opts modbus.ClientOptions) (*modbus.Client, *rtuslave.Slave) {
	t.Helper()
	cp, sp := pipes()
	s, err := rtuslave.New(rtuslave.Options{Unit: 5, Gap: 5 * time.Millisecond}, sp, dev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		cp.Close()
		wg.Wait()
		sp.Close()
	})
	if opts.Silence == 0 {
		opts.Silence = -1
	}
	c, err := modbus.NewClient(opts, cp)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func newMem() *memDevice {
	return &memDevice{
		coils:   make([]bool, 16),
		inputs:  []bool{true, false, true, true, false, false, false, true, true},
		holding: []uint16{10, 20, 30, 40},
		input:   []uint16{123, 0xFFF6, 2700},
	}
}

func TestClientFunctions(t *testing.T) {
	mem := newMem()
	c, _ := startSlave(t, mem.device(), modbus.ClientOptions{})
	ctx := t.Context()

	t.Run("read discrete inputs", func(t *testing.T) {
		got, err := c.ReadDiscreteInputs(ctx, 5, 0, 9)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(mem.inputs, got); diff != "" {
			t.Errorf("ReadDiscreteInputs (-want +got):\n%s", diff)
		}
	})
	t.Run("read input registers", func(t *testing.T) {
		got, err := c.ReadInputRegisters(ctx, 5, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uint16{0xFFF6, 2700}, got); diff != "" {
			t.Errorf("ReadInputRegisters (-want +got):\n%s", diff)
		}
	})
	t.Run("write and read coils", func(t *testing.T) {
		if err := c.WriteSingleCoil(ctx, 5, 3, true); err != nil {
			t.Fatal(err)
		}
		vals := []bool{true, true, false, true, false, false, false, false, true}
		if err := c.WriteMultipleCoils(ctx, 5, 5, vals); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadCoils(ctx, 5, 0, 16)
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{false, false, false, true, false, true, true, false, true, false, false, false, false, true, false, false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ReadCoils (-want +got):\n%s", diff)
		}
	})
	t.Run("write and read holding registers", func(t *testing.T) {
		if err := c.WriteSingleRegister(ctx, 5, 0, 7); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMultipleRegisters(ctx, 5, 2, []uint16{300, 400}); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadHoldingRegisters(ctx, 5, 0, 4)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uint16{7, 20, 300, 400}, got); diff != "" {
			t.Errorf("ReadHoldingRegisters (-want +got):\n%s", diff)
		}
	})
	t.Run("exception", func(t *testing.T) {
		_, err := c.ReadHoldingRegisters(ctx, 5, 3, 5)
		var ee *modbus.ExceptionError
		if !errors.As(err, &ee) || ee.Code != modbus.ExceptionIllegalDataAddress || ee.Function != modbus.FuncReadHoldingRegisters {
			t.Errorf("ReadHoldingRegisters past the end = %v, want illegal data address exception", err)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		if _, err := c.ReadHoldingRegisters(ctx, 5, 0, 126); err == nil {
			t.Error("ReadHoldingRegisters of 126 = nil error, want count error")
		}
		if _, err := c.ReadCoils(ctx, 0, 0, 1); err == nil {
			t.Error("ReadCoils of unit 0 = nil error, want unit error")
		}
	})
	st := c.Stats()
	if st.Exceptions != 1 || st.Timeouts != 0 || st.CRCErrors != 0 || st.Requests != 9 {
		t.Errorf("Stats = %+v, want 9 requests, 1 exception, no timeouts or crc errors", st)
	}
}

func TestClientFaults(t *testing.T) {
	tests := []struct {
		name      string
		faults    rtuslave.Faults
		retries   int
		check     func(error) bool
		wantStats modbus.Stats
	}{
		{
			name:      "silence is ErrTimeout",
			faults:    rtuslave.Faults{Silent: true},
			retries:   1,
			check:     func(err error) bool { return errors.Is(err, modbus.ErrTimeout) },
			wantStats: modbus.Stats{Requests: 2, Retries: 1, Timeouts: 2},
		},
		{
			name:    "crc error is a FrameError",
			faults:  rtuslave.Faults{CRCErrors: true},
			retries: 2,
			check: func(err error) bool {
				var fe *modbus.FrameError
				return errors.As(err, &fe) && fe.Kind == modbus.FrameCRC && !errors.Is(err, modbus.ErrTimeout)
			},
			wantStats: modbus.Stats{Requests: 3, Retries: 2, CRCErrors: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := startSlave(t, newMem().device(), modbus.ClientOptions{Timeout: 30 * time.Millisecond, Retries: tt.retries})
			s.SetFaults(tt.faults)
			_, err := c.ReadInputRegisters(t.Context(), 5, 0, 3)
			if !tt.check(err) {
				t.Fatalf("ReadInputRegisters with %+v = %v", tt.faults, err)
			}
			if diff := cmp.Diff(tt.wantStats, c.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
			// Unit 5 is the only unit asked: it carries the bus's counts.
			if diff := cmp.Diff([]modbus.UnitStats{{Unit: 5, Stats: tt.wantStats}}, c.UnitStats()); diff != "" {
				t.Errorf("UnitStats (-want +got):\n%s", diff)
			}
			// The fault cleared, the bus works again.
			s.SetFaults(rtuslave.Faults{})
			if _, err := c.ReadInputRegisters(t.Context(), 5, 0, 3); err != nil {
				t.Errorf("ReadInputRegisters after the fault cleared = %v", err)
			}
		})
	}
}

// scripted answers every request read from port with reply(request).
func scripted(t *testing.T, reply func(req []byte) []byte) *modbus.Client {
	t.Helper()
	cp, sp := pipes()
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 8)
		for {
			n := 0
			for n < 8 {
				k, err := sp.Read(buf[n:])
				if err != nil {
					return
				}
				n += k
			}
			if out := reply(buf); len(out) > 0 {
				if _, err := sp.Write(out); err != nil {
					return
				}
			}
		}
	})
	t.Cleanup(func() {
		cp.Close()
		sp.Close()
		wg.Wait()
	})
	c, err := modbus.NewClient(modbus.ClientOptions{Silence: -1, Timeout: 40 * time.Millisecond, ByteTimeout: 20 * time.Millisecond}, cp)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientDamagedReplies(t *testing.T) {
	tests := []struct {
		name  string
		reply []byte
		kind  modbus.FrameErrorKind
	}{
		{"wrong unit", modbus.AppendCRC([]byte{6, 4, 2, 0, 1}), modbus.FrameUnit},
		{"wrong function", modbus.AppendCRC([]byte{5, 3, 2, 0, 1}), modbus.FrameFunction},
		{"short frame", []byte{5, 4, 2, 0}, modbus.FrameShort},
		{"byte count off", modbus.AppendCRC([]byte{5, 4, 4, 0, 1, 0, 2}), modbus.FrameContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := scripted(t, func([]byte) []byte { return tt.reply })
			_, err := c.ReadInputRegisters(t.Context(), 5, 0, 1)
			var fe *modbus.FrameError
			if !errors.As(err, &fe) || fe.Kind != tt.kind {
				t.Fatalf("ReadInputRegisters with reply %x = %v, want %v", tt.reply, err, tt.kind)
			}
			if errors.Is(err, modbus.ErrTimeout) {
				t.Errorf("damaged reply %v also matches ErrTimeout", err)
			}
		})
	}
}

func TestClientDeadPort(t *testing.T) {
	cp, sp := pipes()
	sp.Close()
	c, err := modbus.NewClient(modbus.ClientOptions{Silence: -1, Timeout: 40 * time.Millisecond}, cp)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	_, err = c.ReadCoils(t.Context(), 1, 0, 1)
	var fe *modbus.FrameError
	if err == nil || errors.Is(err, modbus.ErrTimeout) || errors.As(err, &fe) {
		t.Fatalf("ReadCoils on a dead port = %v, want a port error (neither timeout nor frame error)", err)
	}
	if got := c.Stats().PortErrors; got != 1 {
		t.Errorf("Stats().PortErrors = %d, want 1", got)
	}
}

func TestClientConcurrentCallers(t *testing.T) {
	mem := newMem()
	c, _ := startSlave(t, mem.device(), modbus.ClientOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for range 15 {
				if g%2 == 0 {
					got, err := c.ReadInputRegisters(t.Context(), 5, 0, 3)
					if err != nil || got[2] != 2700 {
						errs <- err
						return
					}
				} else if err := c.WriteSingleCoil(t.Context(), 5, uint16(g), true); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent request: %v", err)
	}
	if st := c.Stats(); st.Requests != 120 {
		t.Errorf("Stats().Requests = %d, want 120", st.Requests)
	}
}

func TestClientKeepsInterFrameSilence(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC))
	mem := newMem()
	c, _ := startSlave(t, mem.device(), modbus.ClientOptions{Baud: 9600, Silence: modbus.FrameSilence(9600), Clock: clock})
	if got, want := modbus.FrameSilence(9600), 4010416*time.Nanosecond; got != want {
		t.Errorf("FrameSilence(9600) = %v, want %v", got, want)
	}
	// First request: nothing on the wire before, no wait.
	if _, err := c.ReadInputRegisters(t.Context(), 5, 0, 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadInputRegisters(t.Context(), 5, 0, 1)
		done <- err
	}()
	// The second request waits out the silence on the clock.
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("second request returned %v before the silence passed", err)
	default:
	}
	clock.Advance(modbus.FrameSilence(9600))
	if err := <-done; err != nil {
		t.Fatalf("second request = %v", err)
	}
}

func TestClientContextCanceledWaitingForBus(t *testing.T) {
	mem := newMem()
	c, s := startSlave(t, mem.device(), modbus.ClientOptions{Timeout: 200 * time.Millisecond})
	s.SetFaults(rtuslave.Faults{Silent: true})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.ReadCoils(ctx, 5, 0, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadCoils with a canceled ctx = %v, want context.Canceled", err)
	}
}
