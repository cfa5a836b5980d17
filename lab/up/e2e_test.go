package up_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/patterns"
)

// The end-to-end tests boot the qemu-arm board from the build cache
// (~/.cache/bootrig, or $BOOTRIG_CACHE; a cold cache builds first, a few
// minutes), each in a lab namespace of its own.

// inLab runs the calling test again in a new lab namespace and reports
// false; in that namespace it reports true, and the test goes on there.
func inLab(t *testing.T) bool {
	t.Helper()
	return inLabWith(t, "qemu-arm")
}

// inLabWith is inLab for a test that boots board.
func inLabWith(t *testing.T, board string) bool {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	if lab.Inside() {
		return true
	}
	// Build out here: a first build fetches busybox's and U-Boot's
	// sources, and the lab has no route out.
	if err := build(board, filepath.Join(cacheDir(t), board, "out", "rootfs")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out bytes.Buffer
	code, err := lab.Reexec(ctx, []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.timeout=15m"},
		lab.Stdio{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("in the lab namespace:\n%s", out.Bytes())
	if code != 0 {
		t.Fatalf("test in the lab namespace exited %d", code)
	}
	return false
}

func cacheDir(t *testing.T) string {
	if d := os.Getenv("BOOTRIG_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "bootrig")
}

// config is a bring-up of qemu-arm from the build cache, with its state
// in a fresh directory, on the LAN of this lab namespace.
func config(t *testing.T) up.Config {
	t.Helper()
	return configFor(t, "qemu-arm")
}

// configFor is config for board.
func configFor(t *testing.T, board string) up.Config {
	t.Helper()
	p, err := boards.Lookup(board)
	if err != nil {
		t.Fatal(err)
	}
	cache := cacheDir(t)
	out := filepath.Join(cache, board, "out")
	l, err := p.Netboot(boards.Netboot{Export: copyRootFS(t, filepath.Join(out, "rootfs"))})
	if err != nil {
		t.Fatal(err)
	}
	lan, err := lab.LANFor(l, p.QEMU)
	if err != nil {
		t.Fatal(err)
	}
	if err := lan.Setup(); err != nil {
		t.Fatal(err)
	}
	return up.Config{Board: p, Netboot: l, Cache: cache, Out: out, State: t.TempDir(),
		Notes: testWriter{t}, BootTimeout: 5 * time.Minute}
}

// copyRootFS copies the built rootfs for one test: one NFS server at a
// time may serve a directory (its metadata store is locked), and a test's
// edits stay its own. The build runs first if the rootfs is stale.
func copyRootFS(t *testing.T, rootfs string) string {
	t.Helper()
	if err := build(filepath.Base(filepath.Dir(filepath.Dir(rootfs))), rootfs); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", rootfs, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy the rootfs: %v: %s", err, out)
	}
	return dst
}

var (
	buildMu sync.Mutex
	built   = map[string]error{} // board: the result of its one build in this run
)

// build brings the board's build in the cache up to date, once per run.
func build(board, rootfs string) error {
	buildMu.Lock()
	defer buildMu.Unlock()
	if err, ok := built[board]; ok {
		return err
	}
	p, err := boards.Lookup(board)
	if err == nil {
		out := filepath.Dir(rootfs)
		_, err = crossbuild.Build(context.Background(), crossbuild.Config{
			Board: p, Target: crossbuild.TargetAll, Cache: filepath.Dir(filepath.Dir(out)), Out: out,
		})
	}
	built[board] = err
	return err
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

func start(t *testing.T, c up.Config) *up.Board {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	b, err := up.Start(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	t.Logf("bootrig steps %v\n%s", b.Steps, b.Summary())
	return b
}

func run(t *testing.T, b *up.Board, cmd string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, code, err := b.Run(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return out, code
}

// checkBigListing makes a directory in the export, from the host, with
// more entries than one READDIRPLUS reply holds at the server's dtpref,
// and checks the board's kernel lists every name.
func checkBigListing(t *testing.T, b *up.Board, export string) {
	t.Helper()
	const n = 600 // about 90 KB of READDIRPLUS entries: several replies
	dir := filepath.Join(export, "root", "many")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var names strings.Builder
	for i := range n {
		name := fmt.Sprintf("entry-%04d", i)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		names.WriteString(name + "\n")
	}
	want := fmt.Sprintf("%d %x", n, md5.Sum([]byte(names.String())))
	out, code := run(t, b, `ls -1 /root/many | wc -l | tr -d ' \n'; printf ' '; ls -1 /root/many | md5sum | cut -d' ' -f1`)
	if got := strings.TrimSpace(out); got != want || code != 0 {
		t.Errorf("the board lists /root/many as %q (exit %d); the host has %q (count, md5 of the names)", got, code, want)
	}
}

// TestBootToShell: power on with the environment written while the
// board was off (qemu-arm: uboot.env on its FAT disk), no key pressed;
// U-Boot loaded it; every phase in order; the kernel got exactly the
// written command line; a command's output and status; the board lists
// every name of a big directory made on the host; and bootrig's capture of
// the console is byte-identical to QEMU's own log of the serial line.
func TestBootToShell(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	var raw, log bytes.Buffer
	c.Raw, c.Log = &raw, &log
	b := start(t, c)

	s := b.Summary()
	t.Logf("phase table:\n%s", s)
	want := []serialcon.Phase{serialcon.PhaseUBoot, serialcon.PhaseAutoboot, serialcon.PhaseTFTP, serialcon.PhaseStart,
		serialcon.PhaseLinux, serialcon.PhaseNet, serialcon.PhaseRoot, serialcon.PhaseFreeing, serialcon.PhaseInit, serialcon.PhaseShell}
	var got []serialcon.Phase
	for _, st := range s.Steps {
		got = append(got, st.Phase)
	}
	if !equalPhases(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	if ts := s.Transfers(); len(ts) != 1 || ts[0].File != "uImage" || ts[0].Bytes == 0 {
		t.Errorf("TFTP transfers %+v, want one of uImage", ts)
	}
	if err := s.Err(); err != nil {
		t.Errorf("boot failures: %v", err)
	}
	for _, re := range []*regexp.Regexp{envLoaded, regexp.MustCompile(`Hit any key to stop autoboot:  0`)} {
		if !re.MatchString(log.String()) {
			t.Errorf("console log lacks %q", re)
		}
	}
	if m := patterns.DefaultEnvironment.FindString(log.String()); m != "" {
		t.Errorf("U-Boot did not load the written environment: %q", m)
	}

	out, code := run(t, b, "cat /proc/cmdline; uname -m; false")
	if want := c.Board.Bootargs(c.Netboot) + "\narmv7l\n"; out != want || code != 1 {
		t.Errorf("run: exit %d, output %q; want exit 1, %q", code, out, want)
	}
	out, code = run(t, b, `printf 'no newline'; exit 7`)
	if out != "no newline" || code != 7 {
		t.Errorf("run: exit %d, output %q; want 7, %q", code, out, "no newline")
	}
	checkBigListing(t, b, c.Netboot.Export)

	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	qemuLog, err := os.ReadFile(filepath.Join(c.State, lab.SerialLogFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw.Bytes(), qemuLog) {
		t.Errorf("bootrig captured %d bytes, QEMU logged %d: not identical (first difference at %d)",
			raw.Len(), len(qemuLog), firstDiff(raw.Bytes(), qemuLog))
	}
}

// envLoaded is U-Boot loading its saved environment: "Loading
// Environment from Flash... OK", from FAT on qemu-arm (its preboot's env
// load, after the load at init found no virtio disk yet).
var envLoaded = regexp.MustCompile(`Loading Environment from \w+\.\.\. OK`)

func equalPhases(a, b []serialcon.Phase) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestTypedEnv: with no saved environment (a new state dir: qemu-arm's
// FAT disk holds no uboot.env), bootrig stops U-Boot's countdown and
// types the environment at the prompt; qemu-arm's U-Boot saves, so that
// is flash-env's path (set, saveenv, reset, printenv) before it boots.
// Then a power cycle with the disk as U-Boot left it: the board
// autoboots from the saved environment, no key pressed.
func TestTypedEnv(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	c.TypeEnv = true
	var log bytes.Buffer
	c.Log = &log
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	b, err := up.Start(ctx, c)
	if err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, log.String())
	}
	if !patterns.DefaultEnvironment.MatchString(log.String()) {
		t.Errorf("U-Boot did not start from its default environment (nothing saved yet)")
	}
	if m := regexp.MustCompile(`(?s)Saving Environment to \w+\.\.\.(.{0,800}?)\bOK\b`).FindStringSubmatch(log.String()); m == nil || strings.Contains(m[1], "Failed") {
		t.Errorf("no successful saveenv on the console:\n%s", log.String())
	}
	want := c.Board.Bootargs(c.Netboot) + "\n"
	if out, _ := run(t, b, "cat /proc/cmdline"); out != want {
		t.Errorf("kernel command line %q, want %q", out, want)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}

	c.TypeEnv, c.SavedEnv = false, true
	var log2 bytes.Buffer
	c.Log = &log2
	b2 := start(t, c)
	console := log2.String()
	if !envLoaded.MatchString(console) || patterns.DefaultEnvironment.MatchString(console) {
		t.Errorf("after the power cycle U-Boot did not load the saved environment:\n%s", console)
	}
	if !regexp.MustCompile(`Hit any key to stop autoboot:[ 0-9\x08]*\b0 *\r?\n`).MatchString(console) {
		t.Errorf("the countdown did not run out (a key pressed?):\n%s", console)
	}
	if out, _ := run(t, b2, "cat /proc/cmdline"); out != want {
		t.Errorf("after the power cycle, kernel command line %q, want %q", out, want)
	}
}

// TestRealBoard: a board bootrig does not power itself (no qemu section
// in its profile) is reached on its console port: bootrig catches the
// countdown, types the environment and boots. The "real" board here is
// QEMU, powered on by the test, its console a pty like a USB adapter's.
func TestRealBoard(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	q, err := lab.FromBuild(c.Board, c.State, lab.DefaultTap, c.Out)
	if err != nil {
		t.Fatal(err)
	}
	q.QMP = filepath.Join(c.State, "qmp.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := lab.Start(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.PowerOff(context.Background()) })
	real := *c.Board
	real.QEMU = nil
	c.Board, c.Port = &real, m.ConsolePath()
	// U-Boot counts down 2 s: time enough to open the port after the
	// power comes on, as with a board whose reset the user presses.
	if err := m.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	b := start(t, c)
	if out, _ := run(t, b, "cat /proc/cmdline"); out != real.Bootargs(c.Netboot)+"\n" {
		t.Errorf("kernel command line %q, want %q", out, real.Bootargs(c.Netboot)+"\n")
	}
}
