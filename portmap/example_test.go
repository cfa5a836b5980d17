package portmap_test

import (
	"context"
	"log"
	"net"

	"github.com/bootrig/bootrig/portmap"
)

// A portmapper for an NFS server on TCP 2049 whose MOUNT service is on
// TCP and UDP 20048. On a real host it listens on port 111.
func ExampleServer() {
	srv := &portmap.Server{Mappings: []portmap.Mapping{
		{Prog: 100003, Vers: 3, Prot: portmap.TCP, Port: 2049},
		{Prog: 100005, Vers: 3, Prot: portmap.TCP, Port: 20048},
		{Prog: 100005, Vers: 3, Prot: portmap.UDP, Port: 20048},
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	go srv.ServeUDP(pc)
	// ... until the board has mounted its root:
	srv.Shutdown(context.Background())
	// Output:
}
