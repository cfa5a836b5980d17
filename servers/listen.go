package servers

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// listenPair listens on TCP and UDP on the same port of ip, as NFS,
// MOUNT and the portmapper are served. Port 0 takes a free TCP port and
// the same UDP port, trying again if that one is taken.
func listenPair(ip netip.Addr, port int) (net.Listener, net.PacketConn, error) {
	for try := 0; ; try++ {
		addr := listenAddr(ip, port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen on TCP %s: %w", addr, err)
		}
		udp := listenAddr(ip, l.Addr().(*net.TCPAddr).Port)
		pc, err := net.ListenPacket("udp", udp)
		if err == nil {
			return l, pc, nil
		}
		l.Close()
		if port != 0 || try == 9 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listen on UDP %s: %w", udp, err)
		}
	}
}

// notHere adds, to a listen that failed because cfg.IP is not the
// host's, that it is not.
func notHere(cfg Config, err error) error {
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("%w: %s is not an address of this host", err, cfg.IP)
	}
	return err
}
