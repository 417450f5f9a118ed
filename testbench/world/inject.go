package world

import "fmt"

// InjectVehicle writes b on the vehicle's serial line as if the drone had
// sent it, next to the simulated drone's own frames: bad-input campaigns
// use it for noise, damaged frames and a spoofed second autopilot. One
// call is one write on the pty master, so a chunk of up to a few KiB is
// not interleaved with a drone frame. While the line is unplugged the
// bytes are lost, as the drone's are.
func (w *World) InjectVehicle(b []byte) error {
	p, ok := w.ptys["vehicle"]
	if !ok {
		return fmt.Errorf("inject on the vehicle line: no simulated vehicle pty (a real autopilot is attached)")
	}
	if _, err := p.Write(b); err != nil {
		return fmt.Errorf("inject %d bytes on the vehicle line: %w", len(b), err)
	}
	return nil
}
