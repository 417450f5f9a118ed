//go:build !linux

package router

import (
	"net/netip"
	"syscall"
)

// sendScratch is empty where there is no sendmmsg(2).
type sendScratch struct{}

// writeBatch sends the frames one datagram each, one system call each.
func (ep *endpoint) writeBatch(frames [][]byte, to netip.AddrPort) (sent, bytes int, err error) {
	for _, f := range frames {
		if _, err := ep.pc.WriteToUDPAddrPort(f, to); err != nil {
			return sent, bytes, err
		}
		sent++
		bytes += len(f)
	}
	return sent, bytes, nil
}

func socketFamily(syscall.RawConn) (int, error) { return 0, nil }
