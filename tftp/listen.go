package tftp

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

var (
	// ErrPortInUse: another process (tftpd-hpa, dnsmasq, another
	// bootrig) holds the port.
	ErrPortInUse = errors.New("port already in use")
	// ErrPortPrivileged: ports below 1024 need root or
	// CAP_NET_BIND_SERVICE.
	ErrPortPrivileged = errors.New("port needs privileges")
)

// Listen opens the UDP socket a Server serves on, e.g. ":69" or
// "192.168.1.113:69". When the port is taken or privileged the error
// wraps ErrPortInUse or ErrPortPrivileged and says how to fix it.
func Listen(addr string) (net.PacketConn, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, listenError(addr, err)
	}
	return conn, nil
}

// listenError explains a failed listen on addr.
func listenError(addr string, err error) error {
	port := addr
	if _, p, e := net.SplitHostPort(addr); e == nil {
		port = p
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("tftp: listen on udp %s: %w: UDP port %s is held by another server "+
			"(tftpd-hpa? dnsmasq? `ss -ulpn sport = :%s` names it); stop it or use another port: %w",
			addr, ErrPortInUse, port, port, err)
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		n, _ := strconv.Atoi(port)
		return fmt.Errorf("tftp: listen on udp %s: %w: port %d is below 1024; run as root or "+
			"grant the capability once with `sudo setcap cap_net_bind_service=+ep $(which bootrig)`: %w",
			addr, ErrPortPrivileged, n, err)
	}
	return fmt.Errorf("tftp: listen on udp %s: %w", addr, err)
}
