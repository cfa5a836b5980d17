package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpNamesInitSIGILL: a board whose init dies of SIGILL (here an init
// that traps, as a v5TE busybox does on an ARM920T) fails the boot with
// that diagnosis and its fix, not a bare kernel panic.
func TestUpNamesInitSIGILL(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	state, rootfs := t.TempDir(), rootfsCopy(t)
	src := filepath.Join(t.TempDir(), "trap.c")
	if err := os.WriteFile(src, []byte("int main(void) { __builtin_trap(); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("arm-linux-gnueabi-gcc", "-static", "-O2", "-o", filepath.Join(rootfs, "sbin", "sigill"), src).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabi-gcc: %v\n%s", err, out)
	}
	profile := profileWith(t, "  init: /sbin/init", "  init: /sbin/sigill")
	r := runBootrig(t, "up", "--quiet", "--no-build", "--board-file", profile, "--state", state, "--rootfs", rootfs, "--run", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "init died of SIGILL: the root filesystem's code is for a newer CPU") ||
		!strings.Contains(r.stderr, "exitcode=0x00000004") {
		t.Errorf("up with an init that traps: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
