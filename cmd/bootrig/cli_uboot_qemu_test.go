package main

import (
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
	o, e, code := runBootrig(t, "uboot", "boot", "--board", "qemu-arm", "--port", port, "--timeout", "90s",
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
		o, e, code = runBootrig(t, "uboot", "boot", "--board", "qemu-arm", "--port", port, "--timeout", "90s", "--cmd", tc.cmd)
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
		{"log", "--board", "qemu-arm", "--port", port, "--until", "=> ", "--timeout", "7s"},
		{"uboot", "env", "get", "bootcmd", "--board", "qemu-arm", "--port", port, "--timeout", "7s"},
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
