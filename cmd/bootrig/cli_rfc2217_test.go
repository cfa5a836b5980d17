package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestRFC2217BaudNotSet: an rfc2217:// port pointed at ser2net's raw TCP
// accepter (no telnet) says the baud rate was not set; at ser2net's
// telnet(rfc2217) accepter it does not.
func TestRFC2217BaudNotSet(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	for _, tc := range []struct {
		accepter string
		warn     bool
	}{
		{"tcp", true},
		{"telnet(rfc2217),tcp", false},
	} {
		port := ser2net(t, tc.accepter, slave.Name())
		_, e, code := runBootrig(t, "log", "--port", fmt.Sprintf("rfc2217://127.0.0.1:%d,57600", port), "--timeout", "3s")
		warned := strings.Contains(e, "bootrig: warning: console rfc2217://127.0.0.1:") && strings.Contains(e, "the peer does not speak telnet: the baud rate was not set")
		if code != 0 || warned != tc.warn {
			t.Errorf("ser2net accepter %s: exit %d, warned %v, want %v: %s", tc.accepter, code, warned, tc.warn, e)
		}
	}
}

// ser2net runs Debian's ser2net exporting dev through accepter on a
// loopback port, and returns the port once it listens.
func ser2net(t *testing.T, accepter, dev string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "ser2net", "-n", "-u", "-P", filepath.Join(t.TempDir(), "ser2net.pid"),
		"-Y", "connection: &con0",
		"-Y", fmt.Sprintf("  accepter: %s,127.0.0.1,%d", accepter, port),
		"-Y", "  connector: serialdev,"+dev+",115200n81,local",
		"-Y", "  options:", "-Y", "    kickolduser: true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ser2net never listened on %d: %v", port, err)
		case <-time.After(20 * time.Millisecond): // ser2net has no readiness signal but its port
		}
	}
}
