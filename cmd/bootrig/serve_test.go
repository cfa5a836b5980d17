package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/nfsroot"
)

// TestServeReportsAStoppedServer: a Serve that returns before shutdown
// ends `bootrig serve` with an error naming the server; after shutdown
// has begun, its return is expected and not reported.
func TestServeReportsAStoppedServer(t *testing.T) {
	env := &serveEnv{stopped: make(chan error, 1)}
	boom := errors.New("accept: too many open files")
	done := env.serve("portmapper", func() error { return boom })
	if err := <-env.stopped; !errors.Is(err, boom) || !strings.Contains(err.Error(), "portmapper stopped") {
		t.Errorf("reported %v", err)
	}
	if err := <-done; err != boom {
		t.Errorf("Serve's result %v, want %v", err, boom)
	}
	env.closing.Store(true)
	<-env.serve("NFS server", func() error { return nfsroot.ErrServerClosed })
	select {
	case err := <-env.stopped:
		t.Errorf("a server shut down was reported: %v", err)
	default:
	}
}
