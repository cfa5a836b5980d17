package lab

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/bootrig/bootrig/tftp"
)

// startTestTFTP serves root with bootrig's TFTP server on ip:69.
func startTestTFTP(t *testing.T, ip netip.Addr, root string) {
	t.Helper()
	startTestTFTPLog(t, ip, root, nil)
}

// startTestTFTPLog is startTestTFTP with the server's log going to log.
func startTestTFTPLog(t *testing.T, ip netip.Addr, root string, log *slog.Logger) {
	t.Helper()
	conn, err := tftp.Listen(net.JoinHostPort(ip.String(), "69"))
	if err != nil {
		t.Fatal(err)
	}
	s := &tftp.Server{Root: root, Logger: log}
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
