package up

import (
	"fmt"
	"net"

	"github.com/bootrig/bootrig/portmap"
)

// startPortmap answers portmapper queries for NFS and MOUNT, over TCP
// and UDP, so that the kernel finds them without port= in nfsroot=.
func (s *Servers) startPortmap(r *running) error {
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
	srv := &portmap.Server{Mappings: portmap.NFSMappings(NFSPort, s.NFSOverUDP), Logger: s.Log, Hooks: s.Watch.Hooks()}
	r.serve(s, "portmapper", srv.Shutdown, func() error { return srv.Serve(l) }, func() error { return srv.ServeUDP(pc) })
	return nil
}
