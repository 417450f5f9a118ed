package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
)

// streamConn is a byte stream: a serial port or a TCP connection.
type streamConn struct {
	rwc  io.ReadWriteCloser
	p    *mavlink.Parser
	once sync.Once
}

func (c *streamConn) readFrames(fn func(*mavlink.Frame), stats func(mavlink.Stats), done func()) error {
	// The Reader reads the stream again only once the frames of its last
	// read are all delivered: that is when the batch is done.
	rd := &batchReader{r: c.rwc, done: done}
	r := mavlink.NewReader(rd, c.p)
	var f mavlink.Frame
	for {
		err := r.ReadFrame(&f)
		stats(c.p.Stats())
		if err == nil {
			rd.pending = true
			fn(&f)
			continue
		}
		if _, ok := errors.AsType[*mavlink.FrameError](err); ok {
			continue // counted by the parser; the link is fine
		}
		rd.flush()
		if err == io.EOF {
			return io.ErrUnexpectedEOF // the peer hung up
		}
		return err
	}
}

// batchReader calls done before each read that follows delivered frames.
type batchReader struct {
	r       io.Reader
	done    func()
	pending bool // frames delivered since the last read
}

func (b *batchReader) Read(p []byte) (int, error) {
	b.flush()
	return b.r.Read(p)
}

func (b *batchReader) flush() {
	if b.pending {
		b.pending = false
		b.done()
	}
}

func (c *streamConn) write(b []byte) error {
	_, err := c.rwc.Write(b)
	return err
}

func (c *streamConn) close() error {
	var err error
	c.once.Do(func() { err = c.rwc.Close() })
	return err
}

func (l *Link) openSerial(context.Context) (conn, error) {
	port, err := l.opts.OpenSerial(l.addr, l.opts.Baud)
	if err != nil {
		return nil, fmt.Errorf("open serial %s at %d baud: %w", l.addr, l.opts.Baud, err)
	}
	return &streamConn{rwc: port, p: mavlink.NewParser(l.opts.Parser)}, nil
}

func (l *Link) openTCP(ctx context.Context) (conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		return nil, fmt.Errorf("connect tcp %s: %w", l.addr, err)
	}
	return &streamConn{rwc: nc, p: mavlink.NewParser(l.opts.Parser)}, nil
}

// udpConn is a UDP socket: a client sending to one fixed address, or a
// server answering the peers it heard within the peer timeout.
type udpConn struct {
	l    *Link
	pc   *net.UDPConn
	p    *mavlink.Parser
	once sync.Once

	dst netip.AddrPort // client: where to send

	mu    sync.Mutex
	peers map[netip.AddrPort]time.Time // server: last heard
}

func (l *Link) openUDP(ctx context.Context) (conn, error) {
	ap, err := resolveUDP(ctx, l.addr)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, fmt.Errorf("open udp socket for %s: %w", l.addr, err)
	}
	return &udpConn{l: l, pc: pc, p: mavlink.NewParser(l.opts.Parser), dst: ap}, nil
}

func (l *Link) openUDPIn(context.Context) (conn, error) {
	ua, err := net.ResolveUDPAddr("udp", l.addr)
	if err != nil {
		return nil, fmt.Errorf("resolve udpin %s: %w", l.addr, err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", l.addr, err)
	}
	return &udpConn{l: l, pc: pc, p: mavlink.NewParser(l.opts.Parser), peers: map[netip.AddrPort]time.Time{}}, nil
}

// resolveUDP resolves host:port to one address.
func resolveUDP(ctx context.Context, hostport string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve udp %s: %w", hostport, err)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("resolve udp %s: %w", hostport, err)
	}
	pn, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve udp %s: %w", hostport, err)
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), uint16(pn)), nil
}

func (c *udpConn) readFrames(fn func(*mavlink.Frame), stats func(mavlink.Stats), done func()) error {
	buf := make([]byte, 65536)
	var f mavlink.Frame
	for {
		n, from, err := c.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if c.peers != nil {
			c.mu.Lock()
			c.peers[from] = c.l.opts.Clock.Now()
			c.mu.Unlock()
		}
		b := buf[:n]
		got := false
		for len(b) > 0 {
			k, err := c.p.Next(b, true, &f)
			b = b[k:]
			if err == nil {
				got = true
				fn(&f)
				continue
			}
			if err == io.EOF || k == 0 {
				break
			}
		}
		stats(c.p.Stats())
		if got {
			done() // the datagram's frames
		}
	}
}

func (c *udpConn) write(b []byte) error {
	if c.peers == nil {
		_, err := c.pc.WriteToUDPAddrPort(b, c.dst)
		return err
	}
	now := c.l.opts.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	sent := 0
	var firstErr error
	for p, heard := range c.peers {
		if now.Sub(heard) > c.l.opts.PeerTimeout {
			delete(c.peers, p)
			continue
		}
		if _, err := c.pc.WriteToUDPAddrPort(b, p); err != nil && firstErr == nil {
			firstErr = err
		}
		sent++
	}
	if sent == 0 {
		return ErrNoPeer
	}
	return firstErr
}

func (c *udpConn) close() error {
	var err error
	c.once.Do(func() { err = c.pc.Close() })
	return err
}

// LocalAddr returns the local address of the open socket of a UDP or udpin
// link (useful with udpin://127.0.0.1:0), or an invalid AddrPort if the
// link is not open or not UDP.
func (l *Link) LocalAddr() netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.conn.(*udpConn); ok {
		return u.pc.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return netip.AddrPort{}
}
