package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

// upServing starts bootrig up with env and args in the background and
// returns once the board is at its shell ("is up"); the test's end stops
// it (SIGTERM: it powers the board off) and checks it exited cleanly.
func upServing(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bootrigtest.Binary(t), append([]string{"up"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "is up; Ctrl-C stops it") {
				close(up)
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		err := cmd.Wait()
		t.Logf("bootrig up %s:\n%s", strings.Join(args, " "), strings.Join(lines, "\n"))
		if err != nil {
			t.Errorf("bootrig up after SIGTERM: %v", err)
		}
	})
	select {
	case <-up:
	case <-done:
		t.Fatalf("bootrig up exited before the board was up")
	case <-time.After(3 * time.Minute):
		t.Fatalf("the board was not up within 3 minutes")
	}
}

// sharedConsoleClients: two pyserial rfc2217:// clients (Debian's
// python3-serial) on the board's shared console; the first types a
// command, both read the shell's answer.
const sharedConsoleClients = `
import sys, serial
a = serial.serial_for_url(sys.argv[1], timeout=20)
b = serial.serial_for_url(sys.argv[1], timeout=20)
a.write(b"echo shared-$((6*7))\r")
for name, c in (("a", a), ("b", b)):
    print(name, "saw", repr(c.read_until(b"shared-42\r\n")))
`

// labgridToShell: labgrid's UBootStrategy takes the board from off
// through U-Boot (a command run there by UBootDriver) to its shell, where
// ShellDriver.run runs a command.
const labgridToShell = `
import sys, json
from labgrid import Environment
t = Environment(sys.argv[1]).get_target("main")
strategy = t.get_driver("UBootStrategy")
strategy.transition("uboot")
uboot_out, _, uboot_code = t.get_driver("UBootDriver").run("echo from u-boot")
strategy.transition("shell")
out, _, code = t.get_driver("ShellDriver").run("echo labgrid on $(uname -m); cat /etc/hostname")
print(json.dumps({"uboot": uboot_out, "uboot_code": uboot_code, "shell": out, "code": code}))
`

// TestSharedConsoleLabgrid: a board brought up with its console shared
// over RFC 2217 serves two pyserial clients at once, then labgrid drives
// it with the environment bootrig export labgrid writes: power cycle
// (bootrig power), U-Boot, shell. The run's log keeps every byte.
func TestSharedConsoleLabgrid(t *testing.T) {
	_, env := instancesRoot(t)
	upServing(t, env, "--quiet", "--name", "lg", "--share", "rfc2217://127.0.0.1:0", "--share", "tcp://127.0.0.1:0")
	inst := ps(t, env)["lg"]
	if len(inst.Consoles) != 2 || !strings.HasPrefix(inst.Consoles[0], "rfc2217://127.0.0.1:") || !strings.HasPrefix(inst.Consoles[1], "tcp://127.0.0.1:") {
		t.Fatalf("ps: instance lg shares its console on %q", inst.Consoles)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", sharedConsoleClients, inst.Consoles[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("pyserial: %v\n%s", err, out)
	}
	for _, c := range []string{"a", "b"} {
		if !strings.Contains(string(out), c+` saw b'echo shared-$((6*7))\r\nshared-42\r\n'`) {
			t.Errorf("client %s did not see the command and its answer:\n%s", c, out)
		}
	}
	envFile := filepath.Join(t.TempDir(), "lg.yaml")
	if r := runBootrigEnv(t, env, "export", "labgrid", "--name", "lg", "-o", envFile); r.code != 0 {
		t.Fatalf("export labgrid: exit %d", r.code)
	}
	out, err = exec.CommandContext(ctx, "/usr/bin/python3", "-c", labgridToShell, envFile).Output()
	if err != nil {
		t.Fatalf("labgrid: %v\n%s", err, exitStderr(err))
	}
	var got struct {
		UBoot     []string `json:"uboot"`
		UBootCode int      `json:"uboot_code"`
		Shell     []string `json:"shell"`
		Code      int      `json:"code"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("labgrid printed %q: %v", out, err)
	}
	if strings.Join(got.UBoot, "|") != "from u-boot" || got.UBootCode != 0 {
		t.Errorf("UBootDriver.run: %q, exit %d", got.UBoot, got.UBootCode)
	}
	if strings.Join(got.Shell, "|") != "labgrid on armv7l|qemu-arm" || got.Code != 0 {
		t.Errorf("ShellDriver.run: %q, exit %d", got.Shell, got.Code)
	}
	logs, _ := filepath.Glob(filepath.Join(inst.StateDir, "runs", "*", "boot.log"))
	if len(logs) != 1 {
		t.Fatalf("run logs %q, want one", logs)
	}
	log, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shared-42", "from u-boot", "labgrid on armv7l"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the run's log %s lacks %q", logs[0], want)
		}
	}
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
