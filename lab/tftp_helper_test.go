package lab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/bootrig/bootrig/tftp"
)

// startTestTFTP serves root with bootrig's TFTP server on ip:69.
func startTestTFTP(t *testing.T, ip netip.Addr, root string) {
	t.Helper()
	conn, err := tftp.Listen(net.JoinHostPort(ip.String(), "69"))
	if err != nil {
		t.Fatal(err)
	}
	s := &tftp.Server{Root: root}
	served := make(chan error, 1)
	go func() { served <- s.Serve(conn) }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-served; !errors.Is(err, tftp.ErrServerClosed) {
			t.Errorf("tftp Serve: %v", err)
		}
	})
}
