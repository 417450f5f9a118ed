package transport

import (
	"io"

	"go.bug.st/serial"

	"github.com/dockagent/dock-agent/internal/serialport"
)

// openSerial opens a device as the agent does (cmd/agent/app injects
// internal/serialport), so the pty tests exercise the real port.
func openSerial(device string, baud int) (io.ReadWriteCloser, error) {
	p, err := serialport.Open(device, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, err
	}
	return p, nil
}
