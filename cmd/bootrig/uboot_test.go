package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/uboot/ubootfake"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

// fakeBoard serves a fake U-Boot console on a unix socket and returns its
// --port spec.
func fakeBoard(t *testing.T, d ubootfake.Dialect) (*ubootfake.Board, string) {
	t.Helper()
	bootrigtest.Binary(t) // built before power-on: the countdown does not wait for go build
	b := ubootfake.New(d, ubootfake.WithSecond(time.Second))
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(l)
	t.Cleanup(func() { l.Close(); b.Close() })
	return b, "unix:" + sock
}

func TestUBootEnvCommands(t *testing.T) {
	b, port := fakeBoard(t, ubootfake.Mini2440())
	args := func(a ...string) []string { // uboot env SUB flags... args...
		return append(a[:3:3], append([]string{"--board", "mini2440", "--port", port}, a[3:]...)...)
	}
	long := "console=ttySAC0,115200 " + strings.Repeat("x", 240)
	if _, e, code := runBootrig(t, args("uboot", "env", "set", "--save", "foo=bar baz", "bootargs="+long)...); code != 0 {
		t.Fatalf("env set: exit %d: %s", code, e)
	}
	if b.Saved()["foo"] != "bar baz" || b.Saved()["bootargs"] != long {
		t.Errorf("saved environment %v", b.Saved())
	}
	if o, e, code := runBootrig(t, args("uboot", "env", "get", "foo")...); code != 0 || o != "bar baz\n" {
		t.Errorf("env get foo: %q, exit %d: %s", o, code, e)
	}
	if _, e, code := runBootrig(t, args("uboot", "env", "get", "nosuch")...); code != 1 || !strings.Contains(e, "nosuch: not defined") {
		t.Errorf("env get nosuch: exit %d: %s", code, e)
	}
	if o, e, code := runBootrig(t, args("uboot", "env", "print")...); code != 0 || !strings.Contains(o, "\nfoo=bar baz\n") {
		t.Errorf("env print: exit %d: %s%s", code, o, e)
	}
	if _, e, code := runBootrig(t, args("uboot", "env", "set", "novalue")...); code != 2 {
		t.Errorf("env set without =: exit %d: %s", code, e)
	}
}

func TestUBootFlashEnv(t *testing.T) {
	b, port := fakeBoard(t, ubootfake.Mini2440())
	o, e, code := runBootrig(t, "uboot", "flash-env", "--board", "mini2440", "--port", port,
		"--server-ip", "192.168.1.10", "--rootfs", "/srv/mini2440", "--ethaddr", "08:08:11:18:12:27")
	if code != 0 {
		t.Fatalf("flash-env: exit %d: %s%s", code, o, e)
	}
	p, _ := boards.Lookup("mini2440")
	l, err := p.Netboot(boards.Netboot{Export: "/srv/mini2440"})
	if err != nil {
		t.Fatal(err)
	}
	saved := b.Saved()
	if !strings.Contains(saved["bootargs"], "nfsroot=192.168.1.10:/srv/mini2440,") || saved["serverip"] != "192.168.1.10" || saved["bootcmd"] != p.Bootcmd(l) {
		t.Errorf("saved %v", saved)
	}
	if _, e, code := runBootrig(t, "uboot", "flash-env", "--board", "qemu-arm-debian", "--port", port); code != 1 || !strings.Contains(e, "saveenv") {
		t.Errorf("flash-env on qemu-arm-debian: exit %d: %s", code, e)
	}
}

func TestLogCommand(t *testing.T) {
	data, err := os.ReadFile("../../serialcon/testdata/boot-nfs.txt")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write(data)
			defer c.Close()
		}
	}()
	port := "tcp://" + l.Addr().String()
	out := filepath.Join(t.TempDir(), "boot.log")
	o, e, code := runBootrig(t, "log", "--port", port, "--until", `/ # $`, "--timeout", "20s", "-o", out)
	if code != 0 || !strings.Contains(e, "tftp uImage 1412216 bytes at 11.2 MiB/s") {
		t.Fatalf("log: exit %d: %s%s", code, o, e)
	}
	// grabserial's convention: the timestamped lines on stdout, the same
	// in the -o file after a header with the port and the date.
	reLine := regexp.MustCompile(`(?m)^\[ +\d+\.\d{6} \+\d+\.\d{6}\] Starting kernel \.\.\.$`)
	if !reLine.MatchString(o) || strings.Contains(o, "phase ") {
		t.Errorf("log's stdout is not the timestamped stream:\n%s", o)
	}
	logText, err := os.ReadFile(out)
	header := regexp.MustCompile(`^# bootrig: console ` + regexp.QuoteMeta(port) + `, session started ` + time.Now().Format("2006-01-02") + ` \d\d:\d\d:\d\d\.\d{6} [+-]\d{4}\n\[`)
	if err != nil || !header.Match(logText) || string(logText[bytes.IndexByte(logText, '\n')+1:]) != o {
		t.Errorf("log file: %v: want a header, then what stdout showed:\n%s", err, logText)
	}
	o, _, code = runBootrig(t, "log", "--port", port, "--until", `/ # $`, "--timeout", "20s", "-o", out, "--json")
	var sum struct {
		Phases []struct {
			Phase    string
			Transfer *struct{ File string }
		}
		Error *string
	}
	if err := json.Unmarshal([]byte(o), &sum); err != nil || code != 0 || len(sum.Phases) < 5 || sum.Error != nil {
		t.Errorf("log --json: exit %d, %v: %s", code, err, o)
	}
	if data, _ := os.ReadFile(out); bytes.Count(data, []byte("# bootrig: console ")) != 2 {
		t.Errorf("two sessions appended to %s, want two headers:\n%s", out, data)
	}
	_, e, code = runBootrig(t, "log", "--port", port, "--until", `never shown`, "--timeout", "300ms")
	if code != exitTimeout || !strings.Contains(e, "never shown") {
		t.Errorf("log past the deadline: exit %d: %s", code, e)
	}
	_, e, code = runBootrig(t, "log", "--port", "/dev/ttyUSB99")
	if code != 1 || !strings.Contains(e, "/dev/ttyUSB99") {
		t.Errorf("missing port: exit %d: %s", code, e)
	}
}

func TestUBootBootCommand(t *testing.T) {
	_, port := fakeBoard(t, ubootfake.Mini2440())
	logFile := filepath.Join(t.TempDir(), "boot.log")
	o, e, code := runBootrig(t, "uboot", "boot", "--board", "mini2440", "--port", port, "--timeout", "30s", "--log", logFile)
	if code != 0 || !strings.Contains(o, "shell") || !strings.Contains(o, "Linux version") {
		t.Fatalf("uboot boot: exit %d: %s%s", code, o, e)
	}
	if data, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(data), "] Starting kernel ...") {
		t.Errorf("boot log: %v: %s", err, data)
	}
}

// TestConsoleCommand types into the console from a pipe, sees the board
// answer, and quits with Ctrl-] q.
func TestConsoleCommand(t *testing.T) {
	_, port := fakeBoard(t, ubootfake.Mini2440())
	cmd := exec.Command(bootrigtest.Binary(t), "console", "--board", "mini2440", "--port", port)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	// Stop the countdown, then ask for a variable.
	io.WriteString(stdin, "\x03")
	seen := waitFor(t, pr, "MINI2440 # ")
	io.WriteString(stdin, "printenv bootdelay\r")
	seen += waitFor(t, pr, "bootdelay=3")
	io.WriteString(stdin, "\x1dq")
	go io.Copy(io.Discard, pr)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("console: %v: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("Ctrl-] q did not quit; output %q", seen)
	}
}

// waitFor reads r until it has shown want.
func waitFor(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var got strings.Builder
	buf := make([]byte, 1024)
	for !strings.Contains(got.String(), want) {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("console output ended before %q: %q: %v", want, got.String(), err)
		}
	}
	return got.String()
}

// TestConsoleFromPipe: commands piped into the console are answered
// before it exits: it waits until the board is quiet (picocom's
// --exit-after), not until stdin ends; --timeout bounds a board that
// never stops talking.
func TestConsoleFromPipe(t *testing.T) {
	_, port := fakeBoard(t, ubootfake.Mini2440())
	cmd := exec.Command(bootrigtest.Binary(t), "console", "--board", "mini2440", "--port", port, "--exit-after", "1500ms", "--timeout", "60s")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader("\x03")
	first, err := cmd.Output()
	if err != nil || !strings.Contains(string(first), "MINI2440 # ") {
		t.Fatalf("console < Ctrl-C: %v: %q", err, first)
	}
	cmd = exec.Command(bootrigtest.Binary(t), "console", "--board", "mini2440", "--port", port, "--exit-after", "1500ms", "--timeout", "60s")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader("\x03printenv bootdelay\r")
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "bootdelay=3\r\nMINI2440 # ") {
		t.Errorf("console < 'printenv bootdelay': %v: stdout %q, want the reply and the prompt", err, out)
	}
}

// TestVerbose: -v adds debug lines on stderr for uboot (each command
// typed) and log (the port's settings), and nothing without it.
func TestVerbose(t *testing.T) {
	_, port := fakeBoard(t, ubootfake.Mini2440())
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"uboot", "env", "get", "bootdelay", "--board", "mini2440", "--port", port}, []string{"level=DEBUG msg=\"uboot: at the prompt\"", `msg="uboot: ran" cmd="printenv bootdelay"`}},
		{[]string{"log", "--port", port, "--timeout", "1s"}, []string{`level=DEBUG msg="opening console" kind=unix`, "baud=115200", `msg="log ended"`}},
	} {
		_, quiet, _ := runBootrig(t, tc.args...)
		_, e, code := runBootrig(t, append(tc.args, "-v")...)
		for _, w := range tc.want {
			if !strings.Contains(e, w) || strings.Contains(quiet, w) {
				t.Errorf("%q -v: exit %d, stderr lacks %s (or has it without -v):\n%s", tc.args, code, w, e)
			}
		}
	}
}

// TestEnvSetChecksNames: bootrig uboot env set refuses what is not
// NAME=VALUE before it opens the port.
func TestEnvSetChecksNames(t *testing.T) {
	for _, arg := range []string{"bootdelay", "1x=3", "=3", "boot cmd=3"} {
		_, stderr, code := runBootrig(t, "uboot", "env", "set", "--port", "unix:/nonexistent", arg)
		if code != 2 || !strings.Contains(stderr, "is not NAME=VALUE") {
			t.Errorf("env set %q: exit %d, stderr %q; want 2 and \"is not NAME=VALUE\"", arg, code, stderr)
		}
	}
}
