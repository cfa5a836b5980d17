package farmengine

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestConsoleAddr(t *testing.T) {
	host, port, err := Board{Console: "rfc2217://127.0.0.1:40001"}.ConsoleAddr()
	if err != nil || host != "127.0.0.1" || port != 40001 {
		t.Errorf("ConsoleAddr = %q, %d, %v", host, port, err)
	}
	for _, c := range []string{"", "tcp://127.0.0.1:4000", "/dev/pts/3", "telnet://127.0.0.1:4000"} {
		if _, _, err := (Board{Console: c}).ConsoleAddr(); !errors.Is(err, ErrNoSharedConsole) {
			t.Errorf("console %q: %v, want ErrNoSharedConsole", c, err)
		}
	}
}

// TestPowerCommand: a POSIX shell (dash) splits the line back into the
// argv and the action.
func TestPowerCommand(t *testing.T) {
	for _, argv := range [][]string{
		{"/usr/bin/bootrig", "power", "--name", "b2"},
		{"/opt/boot rig/bootrig", "power", "--state", "/s/it's", "--name", "b$2"},
		{"'b'", "", "a # b", `back\slash`},
	} {
		line := Board{Power: argv}.PowerCommand("cycle")
		out, err := exec.Command("/bin/sh", "-c", `for w in `+line+`; do printf '%s\n' "$w"; done`).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); !slices.Equal(got, append(argv, "cycle")) {
			t.Errorf("%q splits into %q, want %q", line, got, append(argv, "cycle"))
		}
	}
}
