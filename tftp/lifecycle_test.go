package tftp

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestShutdownStuckTransfer: a client that stops acknowledging does
// not hold Shutdown past its context.
func TestShutdownStuckTransfer(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 100000)
	h := serve(t, &Server{Root: root, Timeout: 200 * time.Millisecond, Retries: 2})
	cl := newRawClient(t, h.addr)
	cl.send(requestPacket(opRRQ, "f", "octet"))
	if p := cl.recv(); len(p) != 516 || p[1] != 3 {
		t.Fatalf("want DATA 1, got % x", p[:min(len(p), 8)])
	}
	h.down = true
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck transfer: %v, want DeadlineExceeded", err)
	}
	if err := <-h.errc; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	// Once the transfer has given up, Shutdown completes.
	if err := h.srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	s := &Server{Root: t.TempDir()}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe("127.0.0.1:0"); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if err := (&Server{Root: filepath.Join(t.TempDir(), "none")}).ListenAndServe("127.0.0.1:0"); err == nil {
		t.Errorf("Serve with a missing root: no error")
	}
}
