package oncrpc

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// ServePacket answers calls arriving as datagrams on pc (one call per
// datagram, one at a time) until Shutdown. Read errors other than a
// closed socket are logged, waited out and retried.
func (s *Server) ServePacket(pc net.PacketConn) error {
	u := newUDPConn(pc)
	buf := make([]byte, 65536)
	return s.loop(pc, pc.LocalAddr(), "reading a datagram", func() error {
		n, dst, from, err := u.read(buf)
		if err != nil {
			return err
		}
		if s.Admit != nil && !s.Admit(from) || !s.begin() {
			return nil
		}
		defer s.end()
		reply := s.Answer(buf[:n], Request{Remote: from, Local: dst, Transport: UDP})
		if reply != nil && len(reply) <= 65507 {
			u.write(reply, dst, from)
		}
		putBuf(reply)
		return nil
	})
}

// udpConn reads datagrams with the address each was sent to: the
// socket's own, or on a wildcard socket the one IP_PKTINFO reports,
// which the reply is then sent from.
type udpConn struct {
	pc    net.PacketConn
	p4    *ipv4.PacketConn // nil: not a wildcard IPv4 socket
	local netip.Addr
}

func newUDPConn(pc net.PacketConn) *udpConn {
	u := &udpConn{pc: pc}
	if a, ok := pc.LocalAddr().(*net.UDPAddr); ok {
		u.local = a.AddrPort().Addr().Unmap()
	}
	if _, ok := pc.(*net.UDPConn); ok && u.local.IsUnspecified() { // not a wrapper (servers' farm routes)
		u.p4 = ipv4.NewPacketConn(pc)
		if u.p4.SetControlMessage(ipv4.FlagDst, true) != nil {
			u.p4 = nil
		}
	}
	return u
}

func (u *udpConn) read(buf []byte) (int, netip.Addr, net.Addr, error) {
	if u.p4 == nil {
		n, from, err := u.pc.ReadFrom(buf)
		return n, u.local, from, err
	}
	n, cm, from, err := u.p4.ReadFrom(buf)
	dst := u.local
	if cm != nil {
		if a, ok := netip.AddrFromSlice(cm.Dst); ok {
			dst = a.Unmap()
		}
	}
	return n, dst, from, err
}

func (u *udpConn) write(b []byte, src netip.Addr, to net.Addr) {
	if u.p4 != nil && src.Is4() && !src.IsUnspecified() {
		u.p4.WriteTo(b, &ipv4.ControlMessage{Src: src.AsSlice()}, to)
		return
	}
	u.pc.WriteTo(b, to)
}
