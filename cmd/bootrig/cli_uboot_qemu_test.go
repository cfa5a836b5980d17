package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBootFailsFast: Debian's U-Boot without a network card prints
// "No ethernet found." and is back at its prompt within a second of the
// boot command; `bootrig uboot boot` must end then, with the reason, not
// at its timeout.
func TestBootFailsFast(t *testing.T) {
	port, _ := realUBoot(t, true)
	start := time.Now()
	o, e, code := runBootrig(t, "uboot", "boot", "--board", "qemu-arm-debian", "--port", port, "--timeout", "90s",
		"--cmd", "tftp ${kernel_addr_r} uImage; bootm ${kernel_addr_r}")
	took := time.Since(start)
	t.Logf("uboot boot failed after %v (timeout 90s)", took)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s%s", code, o, e)
	}
	if !strings.Contains(e, "U-Boot found no network interface") || !strings.Contains(e, "No ethernet found") {
		t.Errorf("stderr does not give the reason: %s", e)
	}
	if strings.Contains(e, "timed out") {
		t.Errorf("the boot waited for its timeout: %s", e)
	}
	if !strings.Contains(o, "U-Boot") || !strings.Contains(o, "failed: ") {
		t.Errorf("phase table on stdout lacks the failure:\n%s", o)
	}

	// A catalogued U-Boot error, then a command that just returns to the
	// prompt: both end the wait at once.
	for _, tc := range []struct{ cmd, reason string }{
		{"bootm 0x40400000", `U-Boot: no kernel image at bootm's address (the download failed, or a wrong address): "Wrong Image Format for bootm command"`},
		{"echo nothing to boot here", `U-Boot is back at its prompt: the boot command failed; its output: "nothing to boot here"`},
	} {
		o, e, code = runBootrig(t, "uboot", "boot", "--board", "qemu-arm-debian", "--port", port, "--timeout", "90s", "--cmd", tc.cmd)
		if code != 1 || !strings.Contains(e, tc.reason) || strings.Contains(e, "timed out") {
			t.Errorf("uboot boot --cmd %q: exit %d, stderr %q, want the reason %q", tc.cmd, code, e, tc.reason)
		}
	}
}

// TestSilentPort: a board that is not running (QEMU's CPU stopped) on a
// real pty. Within seconds stderr says nothing came and what to check;
// the command keeps waiting up to its timeout.
func TestSilentPort(t *testing.T) {
	port, _ := realUBoot(t, false)
	for _, args := range [][]string{
		{"log", "--board", "qemu-arm-debian", "--port", port, "--until", "=> ", "--timeout", "7s"},
		{"uboot", "env", "get", "bootcmd", "--board", "qemu-arm-debian", "--port", port, "--timeout", "7s"},
	} {
		start := time.Now()
		_, e, code := runBootrig(t, args...)
		took := time.Since(start)
		if code == 0 {
			t.Errorf("%q: exit 0 on a silent port", args)
		}
		if !strings.Contains(e, "nothing received from "+port+" in 5s: is the board powered") || !strings.Contains(e, "115200") || !strings.Contains(e, "Still waiting") {
			t.Errorf("%q: no early word about the silence: %s", args, e)
		}
		if took < 7*time.Second {
			t.Errorf("%q: gave up after %v, before its 7s timeout: %s", args, took, e)
		}
		if strings.Count(e, "nothing received from") != 1 {
			t.Errorf("%q: the silence is reported %d times: %s", args, strings.Count(e, "nothing received from"), e)
		}
	}
}

// TestLongValuesRealUBoot: values longer than Debian's U-Boot takes on
// one line (512 characters) or prints for one variable (531) are set,
// split, and read back whole, by `env set` and `env get`; a profile that
// claims a bigger buffer (the old cbsize: 1024) is corrected by the bell.
func TestLongValuesRealUBoot(t *testing.T) {
	port, _ := realUBoot(t, true)
	stale := filepath.Join(t.TempDir(), "qemu-arm-1024.yaml")
	yml, _, _ := runBootrig(t, "boards", "show", "qemu-arm-debian")
	if !strings.Contains(yml, "cbsize: 512") {
		t.Fatalf("qemu-arm profile does not say the measured cbsize 512:\n%s", yml)
	}
	if err := os.WriteFile(stale, []byte(strings.Replace(yml, "cbsize: 512", "cbsize: 1024", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	word := func(n int) string { // words of 1..9 letters, as a long bootargs has
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%9))
		}
		return b.String()[:n]
	}
	for _, tc := range []struct {
		board []string
		n     int
	}{
		{[]string{"--board", "qemu-arm-debian"}, 600},
		{[]string{"--board", "qemu-arm-debian"}, 2000},
		{[]string{"--board-file", stale}, 600},
	} {
		value := word(tc.n)
		start := time.Now()
		_, e, code := runBootrig(t, append(append([]string{"uboot", "env", "set", "--port", port, "--timeout", "60s"}, tc.board...), "big="+value)...)
		set := time.Since(start)
		if code != 0 {
			t.Errorf("env set of %d characters (%q): exit %d: %s", tc.n, tc.board, code, e)
			continue
		}
		if stale := tc.board[0] == "--board-file"; stale != strings.Contains(e, "console buffer is smaller than its profile says") {
			t.Errorf("env set with %q: warning about the profile's cbsize %v, want %v: %s", tc.board, !stale, stale, e)
		}
		start = time.Now()
		o, e, code := runBootrig(t, append(append([]string{"uboot", "env", "get", "--port", port, "--timeout", "60s"}, tc.board...), "big")...)
		t.Logf("%d characters with %q: set in %v, read back in %v", tc.n, tc.board, set.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		if code != 0 || o != value+"\n" {
			t.Errorf("env get of %d characters: exit %d, got %d characters: %s", tc.n, code, len(o), e)
		}
	}
}
