package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

func TestMain(m *testing.M) { bootrigtest.Main(m) }

// runBootrig runs the built binary with args and an empty HOME-independent
// config (no user profiles) and returns its output and exit code.
func runBootrig(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runBootrigIn(t, t.TempDir(), args...)
}

// runBootrigIn is runBootrig with configHome as $XDG_CONFIG_HOME (user
// profiles in configHome/bootrig/boards).
func runBootrigIn(t testing.TB, configHome string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bootrigtest.Binary(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+configHome)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running bootrig %q: %v", args, err)
	}
	if strings.Contains(e.String(), "goroutine ") || strings.Contains(e.String(), "panic:") {
		t.Errorf("bootrig %q printed a Go panic:\n%s", args, e.String())
	}
	return o.String(), e.String(), code
}

func TestHelpListsEveryCommand(t *testing.T) {
	out, _, code := runBootrig(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	app := newApp(nil, nil, nil)
	for _, cmd := range app.Commands {
		if !strings.Contains(out, cmd.Name) || cmd.Usage == "" {
			t.Errorf("--help does not list %q with a summary", cmd.Name)
		}
	}
}

// TestEveryCommandHasExample walks the command tree: each runnable command
// has usage text with a real example.
func TestEveryCommandHasExample(t *testing.T) {
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := strings.TrimSpace(path + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(p, c.Subcommands)
				continue
			}
			if strings.Contains(c.Usage, "not implemented yet") {
				continue
			}
			if !strings.Contains(c.UsageText, "bootrig "+p) || !strings.Contains(strings.ToLower(c.UsageText), "example") {
				t.Errorf("bootrig %s: usage text has no example invoking it:\n%s", p, c.UsageText)
			}
		}
	}
	walk("", newApp(nil, nil, nil).Commands)
}

func TestExitCodes(t *testing.T) {
	badProfile := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badProfile, []byte("name: x\ncolour: blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		err  string // in stderr
	}{
		{[]string{"boards", "list"}, 0, ""},
		{[]string{"nosuchcommand"}, 2, `unknown command "nosuchcommand"`},
		{[]string{"bootargs", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"bootargs", "--board", "nosuch"}, 2, `unknown board "nosuch" (known: mini2440, qemu-arm`},
		{[]string{"bootargs", "--server-ip", "192.168.1.300"}, 2, `--server-ip "192.168.1.300" is not an IPv4 address`},
		{[]string{"bootargs", "--netmask", "255.255.0.255"}, 2, "is not a netmask"},
		{[]string{"bootargs", "--board-ip", "10.0.0.1"}, 2, "not on the server's network"},
		{[]string{"bootargs", "--board-file", badProfile}, 1, "board profile " + badProfile + ":2: field colour: unknown field"},
		{[]string{"bootargs", "--board-file", "/nonexistent/board.yaml"}, 1, "/nonexistent/board.yaml"},
		{[]string{"boards", "show"}, 2, "want one board NAME"},
		{[]string{"boards", "show", "nosuch"}, 2, `unknown board "nosuch"`},
		{[]string{"boards", "frobnicate"}, 2, `unknown boards command "frobnicate"`},
	} {
		_, stderr, code := runBootrig(t, tc.args...)
		if code != tc.code {
			t.Errorf("bootrig %q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
		if tc.err != "" && !strings.Contains(stderr, tc.err) {
			t.Errorf("bootrig %q: stderr %q does not say %q", tc.args, stderr, tc.err)
		}
		if tc.code == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("bootrig %q: error is not one line:\n%s", tc.args, stderr)
		}
	}
}

func TestBootargsCommand(t *testing.T) {
	args := []string{"bootargs", "--board", "mini2440", "--server-ip", "192.168.1.113", "--board-ip", "192.168.1.244",
		"--gateway", "192.168.1.1", "--netmask", "255.255.255.0", "--rootfs", "/srv/mini2440"}
	out, stderr, code := runBootrig(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "bootargs=noinitrd root=/dev/nfs rw nfsroot=192.168.1.113:/srv/mini2440,v3,tcp,nolock " +
		"ip=192.168.1.244:192.168.1.113:192.168.1.1:255.255.255.0::eth0:off console=ttySAC0,115200 init=/linuxrc mem=64M\n" +
		"bootcmd=tftp 0x30008000 uImage; bootm 0x30008000\n"
	if out != want {
		t.Errorf("bootrig bootargs:\n%s\nwant:\n%s", out, want)
	}
	out, _, code = runBootrig(t, append(args, "--json")...)
	var js struct{ Bootargs, Bootcmd, Serverip, Ipaddr, Export string }
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
	}
	if js.Bootcmd != "tftp 0x30008000 uImage; bootm 0x30008000" || js.Serverip != "192.168.1.113" || js.Export != "/srv/mini2440" {
		t.Errorf("--json = %+v", js)
	}
}

func TestBoardsShow(t *testing.T) {
	out, _, code := runBootrig(t, "boards", "show", "mini2440")
	for _, want := range []string{"name: mini2440", "defconfig: mini2440_defconfig", "load_addr: \"0x30008000\"", "cbsize: 256"} {
		if !strings.Contains(out, want) {
			t.Errorf("boards show mini2440 (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
	out, _, _ = runBootrig(t, "boards", "list", "--json")
	var rows []struct{ Name string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) < 2 {
		t.Errorf("boards list --json = %v, %s", err, out)
	}
}
