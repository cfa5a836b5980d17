package tftp_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net/netip"
	"os"

	"github.com/bootrig/bootrig/tftp"
)

// Serve a build directory, read-only, to the lab network only.
func ExampleServer() {
	srv := &tftp.Server{
		Root:   os.TempDir(),
		Allow:  []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")},
		Logger: slog.Default(),
	}
	conn, err := tftp.Listen("127.0.0.1:0") // ":69" on a lab host
	if err != nil {
		log.Fatal(err) // wraps tftp.ErrPortInUse or tftp.ErrPortPrivileged
	}
	done := make(chan error)
	go func() { done <- srv.Serve(conn) }()
	// ... until the board has booted:
	srv.Shutdown(context.Background())
	if err := <-done; !errors.Is(err, tftp.ErrServerClosed) {
		log.Fatal(err)
	}
	// Output:
}
