package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/lab"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

func TestMain(m *testing.M) { bootrigtest.Main(m) }

// result is one run of the command.
type result struct {
	stdout, stderr string
	code           int
}

func runBootrig(t *testing.T, args ...string) result {
	t.Helper()
	return runBootrigEnv(t, nil, args...)
}

// runBootrigEnv runs bootrig with env added to the test's environment.
func runBootrigEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout(t, args))
	defer cancel()
	cmd := exec.CommandContext(ctx, bootrigtest.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("bootrig %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	return r
}

// commandTimeout bounds one run of the command: 15 minutes, but a build
// has until a minute before the test binary's deadline. A cold build
// of a board compiles a kernel, and with the other packages' tests
// building theirs on the same two CPUs it can take longer than 15
// minutes (vexpress-a9's did, in a cold make test).
func commandTimeout(t *testing.T, args []string) time.Duration {
	if d, ok := t.Deadline(); ok && len(args) > 0 && args[0] == "build" {
		return max(time.Until(d)-time.Minute, 15*time.Minute)
	}
	return 15 * time.Minute
}

// TestUpRun: `bootrig up --run` boots the board in a lab namespace of
// its own, prints the command's output alone on stdout and exits with its
// status.
func TestUpRun(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	state, rootfs := t.TempDir(), rootfsCopy(t)
	// ls colours directories on the board's console (a terminal); on
	// bootrig's stdout, here a pipe, the output is plain.
	r := runBootrig(t, "up", "--state", state, "--rootfs", rootfs, "--run", `echo hello from $(uname -m); ls -1d /bin /dev; sh -c "exit 7"`)
	if want := "hello from armv7l\n/bin\n/dev\n"; r.code != 7 || r.stdout != want {
		t.Errorf("exit %d, stdout %q; want 7, %q", r.code, r.stdout, want)
	}
	logs, _ := filepath.Glob(filepath.Join(state, "runs", "*", "boot.log"))
	if len(logs) != 1 {
		t.Fatalf("console logs %q, want one", logs)
	}
	if log, err := os.ReadFile(logs[0]); err != nil || !strings.Contains(string(log), "\x1b[1;34m/bin\x1b[m") {
		t.Errorf("the console log does not show ls's colours (the test would prove nothing): %v", err)
	}
	for _, want := range []string{"Starting kernel", "shell", "console log: " + filepath.Join(state, "runs")} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if _, err := lab.LoadState(state); !errors.Is(err, lab.ErrNotRunning) {
		t.Errorf("after up --run the board still runs: %v", err)
	}
}

// TestUpKeepAttach: `bootrig up --keep` leaves the board running;
// `bootrig up --attach` joins its namespace, serves it again and runs a
// command on the same board (same boot id).
func TestUpKeepAttach(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	state, rootfs := t.TempDir(), rootfsCopy(t)
	t.Cleanup(func() {
		if st, err := lab.LoadState(state); err == nil {
			syscall.Kill(st.QEMUPid, syscall.SIGKILL)
		}
	})
	r := runBootrig(t, "up", "--quiet", "--keep", "--state", state, "--rootfs", rootfs, "--run", "cat /proc/sys/kernel/random/boot_id")
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 36 {
		t.Fatalf("up --keep: exit %d, stdout %q", r.code, r.stdout)
	}
	st, err := lab.LoadState(state)
	if err != nil {
		t.Fatalf("after up --keep: %v", err)
	}
	// The board reads a file over NFS, so the servers must be back.
	r2 := runBootrig(t, "up", "--quiet", "--attach", "--state", state, "--rootfs", rootfs, "--run", "cat /proc/sys/kernel/random/boot_id; cat /etc/hostname")
	if r2.code != 0 || r2.stdout != r.stdout+"qemu-arm\n" {
		t.Errorf("up --attach: exit %d, stdout %q, want %q", r2.code, r2.stdout, r.stdout+"qemu-arm\n")
	}
	if syscall.Kill(st.QEMUPid, 0) != nil {
		t.Errorf("QEMU (pid %d) exited after up --attach", st.QEMUPid)
	}
}

// rootfsCopy is a copy of the built rootfs for one test (bootrig up
// builds the original first): one NFS server at a time may serve a
// directory, and the packages' tests run in parallel.
func rootfsCopy(t *testing.T) string {
	t.Helper()
	rbuild := runBootrig(t, "build", "--board", "qemu-arm")
	if rbuild.code != 0 {
		t.Fatalf("bootrig build: exit %d", rbuild.code)
	}
	dst := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", filepath.Join(buildOut(t), "rootfs"), dst).CombinedOutput(); err != nil {
		t.Fatalf("copy the rootfs: %v: %s", err, out)
	}
	return dst
}

// buildOut is where bootrig build puts the qemu-arm board's files.
func buildOut(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("BOOTRIG_CACHE")
	if cache == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(d, "bootrig")
	}
	return filepath.Join(cache, "qemu-arm", "out")
}
