package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

// TestLogInterrupted: Ctrl-C (SIGINT) or SIGTERM before the --until
// pattern is seen is not success: 130 and 143, as a shell reports a
// process those signals stopped. Without --until, Ctrl-C is how a log
// ends: 0.
func TestLogInterrupted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("U-Boot 2023.01\r\n"))
			conns <- c
		}
	}()
	port := "tcp://" + l.Addr().String()
	for _, tc := range []struct {
		sig  syscall.Signal
		args []string
		code int
		err  string
	}{
		{syscall.SIGINT, []string{"--until", "never shown", "--timeout", "1m"}, 130, `stopped before "never shown" was seen: interrupted by interrupt`},
		{syscall.SIGTERM, []string{"--until", "never shown"}, 143, `stopped before "never shown" was seen: interrupted by terminated`},
		{syscall.SIGINT, nil, 0, ""},
	} {
		cmd := exec.Command(bootrigtest.Binary(t), append([]string{"log", "--port", port}, tc.args...)...)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var c net.Conn
		select {
		case c = <-conns:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatal("bootrig log never connected")
		}
		waitFor(t, stdout, "U-Boot 2023.01") // the stream is on stdout: the log runs
		cmd.Process.Signal(tc.sig)
		io.Copy(io.Discard, stdout)
		err = cmd.Wait()
		c.Close()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != tc.code || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("log %q, then %v: exit %d, want %d; stderr %q, want %q", tc.args, tc.sig, code, tc.code, stderr.String(), tc.err)
		}
	}
}
