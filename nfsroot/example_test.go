package nfsroot_test

import (
	"context"
	"log"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/nfsroot"
)

// Export a directory to one board (and loopback) with a minimal /dev.
func Example() {
	dir := filepath.Join(os.TempDir(), "example-rootfs")
	os.MkdirAll(dir, 0o755)
	defer os.RemoveAll(dir)
	defer os.Remove(nfsroot.DefaultStatePath(dir))

	x, err := nfsroot.OpenExport(dir, nfsroot.ExportOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()
	if err := x.Seed(devtable.Default("ttyAMA0")); err != nil {
		log.Fatal(err)
	}
	srv := &nfsroot.Server{Export: x, Allow: []netip.Prefix{
		netip.MustParsePrefix("192.168.7.2/32"), netip.MustParsePrefix("127.0.0.0/8"),
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0") // on a board's LAN: ":2049"
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	// ... the board mounts nfsroot=SERVER:/,v3,tcp ...
	srv.Shutdown(context.Background())
	// Output:
}
