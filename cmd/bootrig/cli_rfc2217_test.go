package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/bootrig/bootrig/internal/bootrigtest"
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

// TestConsoleShareSetsTTYLine: a pyserial rfc2217:// client of
// `bootrig console --share` sets the speed and stop bits of the tty
// behind it, and stty reads them back from the tty.
func TestConsoleShareSetsTTYLine(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bootrigtest.Binary(t), "console", "--port", slave.Name(), "--share", "rfc2217://127.0.0.1:0")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	url := sharedOn(t, bufio.NewScanner(stderr), "rfc2217://")
	script := `import sys, serial; serial.serial_for_url(sys.argv[1], baudrate=9600, stopbits=2, timeout=5).close(); print("opened")`
	if out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", script, url).CombinedOutput(); err != nil {
		t.Fatalf("pyserial: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "stty", "-F", slave.Name(), "-a").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "speed 9600 baud") || !strings.Contains(string(out), " cstopb") {
		t.Errorf("stty after pyserial set 9600 and 2 stop bits:\n%s", out)
	}
}

// sharedOn reads bootrig's stderr up to the line that says where the
// console is shared with scheme, and returns that address.
func sharedOn(t *testing.T, sc *bufio.Scanner, scheme string) string {
	t.Helper()
	for sc.Scan() {
		if _, url, ok := strings.Cut(sc.Text(), " shared on "); ok && strings.HasPrefix(url, scheme) {
			return url
		}
	}
	t.Fatalf("bootrig never said where it shares the console: %v", sc.Err())
	return ""
}
