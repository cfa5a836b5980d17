package crossbuild

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunnerFailureShowsTail(t *testing.T) {
	var log, out bytes.Buffer
	r := &runner{Log: &log, LogPath: "/x/build.log", Out: &out, Tail: 40}
	step := step{Phase: "kernel: compile", Args: []string{"sh", "-c", `i=1; while [ $i -le 50 ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2; exit 3`},
		Env: []string{"X=1"}, Dir: t.TempDir()}
	_, err := r.Run(context.Background(), step)
	if !errors.Is(err, ErrStep) || !strings.Contains(err.Error(), "kernel: compile") || !strings.Contains(err.Error(), "/x/build.log") {
		t.Fatalf("error %v: want ErrStep naming the phase and the log", err)
	}
	shown := out.String()
	if !strings.Contains(shown, "line 12\n") || strings.Contains(shown, "line 11\n") || !strings.Contains(shown, "oops\n") {
		t.Errorf("shown tail:\n%s", shown)
	}
	if !strings.Contains(log.String(), "line 1\n") || !strings.Contains(log.String(), "line 50\n") {
		t.Errorf("log lacks the full output:\n%s", log.String())
	}
}

func TestRunnerCountsObjects(t *testing.T) {
	var log, out bytes.Buffer
	r := &runner{Log: &log, LogPath: "log", Out: &out, Bar: true, Tail: 40}
	step := step{Phase: "busybox: compile", Objects: 4, Dir: t.TempDir(), Env: []string{"GREETING=hi"},
		Args: []string{"sh", "-c", `printf '  CC      a.o\n  CC      b.o\n  LD      x\n  AS      c.o\n'; [ "$GREETING" = hi ] && [ "$(cat)" = "" ]`}}
	n, err := r.Run(context.Background(), step)
	if err != nil || n != 3 {
		t.Fatalf("Run = %d, %v; want 3 objects", n, err)
	}
	if !strings.Contains(out.String(), "[") || !strings.Contains(out.String(), "3/~4") || !strings.Contains(out.String(), "busybox: compile: 3 objects") {
		t.Errorf("progress output %q", out.String())
	}
}

func TestRunnerAnswersDefaults(t *testing.T) {
	var log bytes.Buffer
	r := &runner{Log: &log, Out: &bytes.Buffer{}}
	step := step{Phase: "oldconfig", Answer: true, Args: []string{"sh", "-c", `read a; read b; echo "got [$a][$b]"`}}
	if _, err := r.Run(context.Background(), step); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "got [][]") {
		t.Errorf("log %q", log.String())
	}
}

func TestFindToolchain(t *testing.T) {
	_, err := findToolchain(context.Background(), []string{"nonexistent-bootrig-", "also-not-"})
	if !errors.Is(err, ErrNoToolchain) || !strings.Contains(err.Error(), "gcc-arm-linux-gnueabi") || !strings.Contains(err.Error(), "also-not-gcc") {
		t.Errorf("error %v", err)
	}
	tc, err := findToolchain(context.Background(), []string{"nonexistent-bootrig-", "arm-linux-gnueabi-"})
	if err != nil {
		t.Fatal(err)
	}
	if tc.Prefix != "arm-linux-gnueabi-" || tc.Target != "arm-linux-gnueabi" || tc.Version == "" {
		t.Errorf("toolchain %+v", tc)
	}
}

func TestResolveSource(t *testing.T) {
	ctx := context.Background()
	r := &runner{Log: &bytes.Buffer{}, Out: &bytes.Buffer{}}
	tree := filepath.Join(t.TempDir(), "thing-1.0")
	os.MkdirAll(filepath.Join(tree, "sub"), 0o755)
	os.WriteFile(filepath.Join(tree, "Makefile"), []byte("all:\n"), 0o644)
	tarball := filepath.Join(t.TempDir(), "thing-1.0.tar.gz")
	if out, err := exec.Command("tar", "-czf", tarball, "-C", filepath.Dir(tree), "thing-1.0").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	cache := t.TempDir()
	s, err := resolveSource(ctx, r, tarball, cache)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != filepath.Join(cache, "thing-1.0") {
		t.Errorf("unpacked to %s", s.Dir)
	}
	os.WriteFile(filepath.Join(s.Dir, "marker"), nil, 0o644)
	again, err := resolveSource(ctx, r, tarball, cache)
	if err != nil || again != s {
		t.Fatalf("second resolve %+v, %v", again, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "marker")); err != nil {
		t.Error("the tarball was unpacked again")
	}

	d, err := resolveSource(ctx, r, tree, cache)
	if err != nil || d.Dir != tree {
		t.Fatalf("dir source %+v, %v", d, err)
	}
	os.WriteFile(filepath.Join(tree, "sub", "new.c"), nil, 0o644)
	if d2, _ := resolveSource(ctx, r, tree, cache); d2.ID == d.ID {
		t.Error("a new file in a source directory did not change its ID")
	}
	if _, err := resolveSource(ctx, r, filepath.Join(tree, "sub"), cache); !errors.Is(err, ErrSource) {
		t.Errorf("directory without a Makefile: %v", err)
	}
}

func TestStamp(t *testing.T) {
	k := kernelPlanFor(kernelInputs{Src: "/s", Build: t.TempDir(), Arch: "arm", CrossCompile: "arm-linux-gnueabi-", Jobs: 2, Defconfig: "tinyconfig", Image: "zImage"})
	c := component{name: "kernel", build: k.Build, configure: k.Configure(), resolve: k.Resolve(), compile: k.Compile(),
		fragment: []byte("CONFIG_A=y\n"), inputs: []string{"tar:x"}, outputs: []string{filepath.Join(k.Build, "zImage")}}
	k.Jobs = 8
	more := c
	more.compile = k.Compile()
	if c.stamp() != more.stamp() {
		t.Error("-j changed the stamp")
	}
	commented := c
	commented.fragment = []byte("# why A\n\nCONFIG_A=y\n")
	if c.stamp() != commented.stamp() {
		t.Error("a comment in the fragment changed the stamp")
	}
	changed := c
	changed.fragment = []byte("CONFIG_A=n\n")
	if c.stamp() == changed.stamp() {
		t.Error("a new fragment did not change the stamp")
	}
	os.WriteFile(filepath.Join(k.Build, stampFile), []byte(c.stamp()+"\n"), 0o644)
	if c.upToDate() {
		t.Error("up to date without its output")
	}
	os.WriteFile(filepath.Join(k.Build, "zImage"), nil, 0o644)
	if !c.upToDate() || changed.upToDate() {
		t.Errorf("upToDate: same %v, changed %v", c.upToDate(), changed.upToDate())
	}
}

func TestLockSerializes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b", ".lock")
	var said bytes.Buffer
	unlock, err := lock(context.Background(), path, &said)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := lock(ctx, path, &bytes.Buffer{})
		got <- err
	}()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("second lock while held: %v, want context.Canceled", err)
	}
	unlock()
	unlock2, err := lock(context.Background(), path, &said)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
	if said.Len() != 0 {
		t.Errorf("uncontended locks printed %q", said.String())
	}
}

// TestRunnerStopsSubMakes: a cancelled step stops every process it
// started, as an out-of-tree kernel build's second make, and Run returns
// at once rather than when they are done.
func TestRunnerStopsSubMakes(t *testing.T) {
	pr, pw := io.Pipe()
	r := &runner{Log: pw, Out: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The grandchild holds the output pipe open, as a sub-make does.
	step := step{Phase: "kernel: compile", Args: []string{"sh", "-c", `sh -c 'echo grandchild $$; exec sleep 300'; echo after`}}
	done := make(chan error, 1)
	go func() { _, err := r.Run(ctx, step); pw.Close(); done <- err }()
	var pid int
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "grandchild %d", &pid); err == nil {
			break
		}
	}
	if pid == 0 {
		t.Fatal("the step never started its grandchild")
	}
	start := time.Now()
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; !errors.Is(err, ErrStep) {
		t.Errorf("a cancelled step: %v, want ErrStep", err)
	}
	if d := time.Since(start); d >= stopWait {
		t.Errorf("Run returned %s after the cancel: it waited for the grandchild", d)
	}
	if !exits(pid, time.Second) {
		t.Errorf("grandchild %d still runs a second after the step was cancelled", pid)
	}
}

// exits reports whether process pid (not a child of the test) exits
// within d: its pidfd becomes readable when it does.
func exits(pid int, d time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return errors.Is(err, unix.ESRCH) // already gone
	}
	defer unix.Close(fd)
	n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(d.Milliseconds()))
	return err == nil && n == 1
}

// TestSharedTrees: boards link one shared tree; an old per-board
// directory or link gives way to the link; trees no board links to are
// removed unless a build holds their lock.
func TestSharedTrees(t *testing.T) {
	cache := t.TempDir()
	trees := filepath.Join(cache, "busybox")
	for _, name := range []string{"a", "b", "c"} {
		if err := os.MkdirAll(filepath.Join(trees, name, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// x had its own tree before trees were shared; y linked to b.
	if err := os.MkdirAll(filepath.Join(cache, "x", "busybox-build", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := linkBuildTree(filepath.Join(cache, "y", "busybox-build"), filepath.Join(trees, "b")); err != nil {
		t.Fatal(err)
	}
	for _, board := range []string{"x", "y"} {
		for range 2 { // a second call changes nothing
			if err := linkBuildTree(filepath.Join(cache, board, "busybox-build"), filepath.Join(trees, "a")); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.Readlink(filepath.Join(cache, board, "busybox-build")); err != nil || got != "../busybox/a" {
			t.Errorf("%s/busybox-build links to %q (%v), want ../busybox/a", board, got, err)
		}
	}
	unlock, err := lock(context.Background(), filepath.Join(trees, "c.lock"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pruneTrees(trees, filepath.Join(cache, "*", "busybox-build"))
	unlock()
	for name, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if _, err := os.Stat(filepath.Join(trees, name, "sub")); (err == nil) != want {
			t.Errorf("tree %s there: %v, want %v", name, err == nil, want)
		}
	}
}
