package up

import (
	"fmt"
	"net"

	"github.com/bootrig/bootrig/portmap"
)

// RPC program versions bootrig's NFS server speaks.
const (
	nfsVersion   = 3
	mountVersion = 3
)

// startPortmap answers portmapper queries for NFS and MOUNT, over TCP
// and UDP, so that the kernel finds them without port= in nfsroot=.
func (s *Servers) startPortmap(r *running) error {
	var maps []portmap.Mapping
	for _, prot := range []portmap.Protocol{portmap.TCP, portmap.UDP} {
		maps = append(maps,
			portmap.Mapping{Prog: progNFS, Vers: nfsVersion, Prot: prot, Port: NFSPort},
			portmap.Mapping{Prog: progMount, Vers: mountVersion, Prot: prot, Port: NFSPort})
	}
	addr := s.addr(PortmapPort)
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return fmt.Errorf("portmapper: listen on TCP %s: %w", addr, err)
	}
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		l.Close()
		return fmt.Errorf("portmapper: listen on UDP %s: %w", addr, err)
	}
	srv := &portmap.Server{Mappings: maps, Logger: s.Log}
	wl, wpc := s.Watch.Listener(l), s.Watch.PacketConn(pc)
	r.serve(srv.Shutdown, func() error { return srv.Serve(wl) }, func() error { return srv.ServeUDP(wpc) })
	return nil
}
