package crossbuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/bootrig/bootrig/armarch"
	"github.com/bootrig/bootrig/boards"
)

// ErrUnrunnable marks a root filesystem holding code the board cannot
// execute.
var ErrUnrunnable = errors.New("not runnable on the board")

// finding is an ELF file of a root filesystem the board cannot execute.
type finding struct {
	Path  string // relative to the rootfs: "bin/busybox"
	Level string // what it needs: "v5TE", "v4T with VFP", "not ARM: EM_X86_64"
}

// scan is what [scanELF] found.
type scan struct {
	Unfit []finding
	Files int    // ELF files read
	ID    string // their paths, sizes and mtimes, hashed
}

// scanELF reads the build attributes of every ELF file under dir
// (symlinks are not followed) and returns those t's CPU cannot execute.
// lib/firmware is left out: what is there runs on other processors.
func scanELF(dir string, t boards.Target) (scan, error) {
	var sc scan
	h := sha256.New()
	firmware := filepath.Join(dir, "lib", "firmware")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p == firmware {
			return fs.SkipDir
		}
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		magic := make([]byte, 4)
		if _, err := io.ReadFull(f, magic); err != nil || !armarch.IsELF(magic) {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if fi, err := f.Stat(); err == nil {
			fmt.Fprintf(h, "%q %d %d\n", rel, fi.Size(), fi.ModTime().UnixNano())
		}
		sc.Files++
		a, err := armarch.ReadELF(f)
		switch {
		case err != nil:
			sc.Unfit = append(sc.Unfit, finding{Path: rel, Level: err.Error()})
		case !fits(a, t):
			sc.Unfit = append(sc.Unfit, finding{Path: rel, Level: levelOf(a)})
		}
		return nil
	})
	sc.ID = hex.EncodeToString(h.Sum(nil))
	return sc, err
}

// appletCheck is one busybox applet run with its expected output.
type appletCheck struct {
	Args    []string // applet and arguments
	Stdin   string
	Want    *regexp.Regexp // matched against stdout and stderr together
	AnyExit bool           // --help exits non-zero on some busybox versions; a signal still fails
}

// appletChecks are what a booting board needs from busybox, each with
// output only working code prints: the shell's arithmetic and loops,
// ls, cat, mount, ifconfig, init, date, and awk's float and 64-bit
// formatting, sed's regular expressions.
func appletChecks(rootfs string) []appletCheck {
	re := regexp.MustCompile
	return []appletCheck{
		{Args: []string{"sh", "-c", `i=0; s=0; while [ $i -lt 10 ]; do i=$((i+1)); s=$((s+i*i)); done; echo "sum=$s"`}, Want: re(`^sum=385\n$`)},
		// bin may be a symlink (merged /usr); etc is a directory.
		{Args: []string{"ls", "-l", rootfs}, Want: re(`(?ms)^[dl][rwxt-]{9} .* bin( -> \S+)?\n.*^d[rwxt-]{9} .* etc\n`)},
		{Args: []string{"cat", "-", filepath.Join(rootfs, "bin", "busybox")}, Stdin: "root::0:0:root:/root:/bin/sh\n", Want: re(`^root::0:0:root:/root:/bin/sh\n\x7fELF`)},
		{Args: []string{"mount", "--help"}, Want: re(`Usage: mount `), AnyExit: true},
		{Args: []string{"ifconfig", "-a"}, Want: re(`(?m)^lo\s+Link encap:Local Loopback`)},
		{Args: []string{"init", "--help"}, Want: re(`Usage: init`), AnyExit: true},
		{Args: []string{"date", "-u", "-d", "@86400", "+%Y-%m-%d %H:%M:%S"}, Want: re(`^1970-01-02 00:00:00\n$`)},
		// busybox awk's %d is a C int: 64-bit values go through %.0f.
		{Args: []string{"awk", `BEGIN { printf "%.3f %.0f %d\n", 22/7, 2^40/3, 1e9+7 }`}, Want: re(`^3\.143 366503875925 1000000007\n$`)},
		{Args: []string{"sed", "-e", `s/a\(b*\)c/<\1>/g`}, Stdin: "xabbcx ac\n", Want: re(`^x<bb>x <>\n$`)},
	}
}

// appletArgv runs busybox's applet on the QEMU user-mode CPU model.
func appletArgv(model, busybox string, c appletCheck) []string {
	return append([]string{"qemu-arm-static", "-cpu", model, busybox}, c.Args...)
}

// appletEnv is the applets' whole environment.
var appletEnv = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "LC_ALL=C", "TZ=UTC", "HOME=/"}

// runApplet runs one check and says what went wrong, or nil.
func runApplet(ctx context.Context, model, busybox string, c appletCheck) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	argv := appletArgv(model, busybox, c)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Stdin = appletEnv, strings.NewReader(c.Stdin)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("killed by %s (signal %d)", ws.Signal(), int(ws.Signal()))
		}
		if !c.AnyExit {
			return fmt.Errorf("%v: %s", err, firstLines(string(out), 2))
		}
	} else if err != nil {
		return err
	}
	if !c.Want.Match(out) {
		return fmt.Errorf("printed %q, want %q", firstLines(string(out), 4), c.Want)
	}
	return nil
}

// VerifyRootFS checks a root filesystem before a board uses it: every
// ELF file's build attributes against the board's CPU, then bin/busybox
// under qemu-arm-static on the profile's CPU model: a set of applets,
// each with its expected output. The first failure stops with the file
// or applet and the fix. The attribute scan always runs (milliseconds);
// a pass of the applets is remembered beside dir (DIR.bootrig-verified)
// until an ELF file or the board changes.
func VerifyRootFS(ctx context.Context, dir string, p *boards.Profile, progress io.Writer) error {
	t, err := p.Target()
	if err != nil {
		return err
	}
	if progress == nil {
		progress = io.Discard
	}
	fix := fmt.Sprintf("rebuild it for %s (bootrig build --board %s builds busybox so) or remove it", strings.Join(p.Flags(), " "), p.Name)
	sc, err := scanELF(dir, t)
	if err != nil {
		return fmt.Errorf("verifying rootfs %s: %w", dir, err)
	}
	if bad := sc.Unfit; len(bad) > 0 {
		more := ""
		if len(bad) > 1 {
			more = fmt.Sprintf(" (and %d more ELF files, e.g. %s: %s)", len(bad)-1, bad[1].Path, bad[1].Level)
		}
		return fmt.Errorf("rootfs %s: %s is %s code%s: %w: the %s's %s executes %s at most: fix: %s",
			dir, bad[0].Path, bad[0].Level, more, ErrUnrunnable, p.Name, t.CPU.Name, t.CPU.Arch, fix)
	}
	stampPath := filepath.Clean(dir) + ".bootrig-verified"
	stamp := fmt.Sprintf("v1 %s %+v %s\n", p.Name, t, sc.ID)
	if b, err := os.ReadFile(stampPath); err == nil && string(b) == stamp {
		return nil
	}
	if err := runApplets(ctx, dir, p, t, fix); err != nil {
		return err
	}
	fmt.Fprintf(progress, "rootfs: %d ELF files fit the %s (%s); busybox applets pass on qemu-arm -cpu %s\n", sc.Files, t.CPU.Name, t.CPU.Arch, t.QEMU.Name)
	os.WriteFile(stampPath, []byte(stamp), 0o644) // a failed write only costs a check next time
	return nil
}

func runApplets(ctx context.Context, dir string, p *boards.Profile, t boards.Target, fix string) error {
	bb := filepath.Join(dir, "bin", "busybox")
	if fi, err := os.Lstat(bb); err != nil || !fi.Mode().IsRegular() {
		return nil // not a busybox system as bootrig builds one: the attribute scan is the check
	}
	if _, err := exec.LookPath("qemu-arm-static"); err != nil {
		return fmt.Errorf("verifying rootfs %s: qemu-arm-static runs its busybox before the board does: install qemu-user-static (bootrig doctor --install)", dir)
	}
	for _, c := range appletChecks(dir) {
		if err := runApplet(ctx, t.QEMU.Name, bb, c); err != nil {
			return fmt.Errorf("rootfs %s: bin/busybox %s under qemu-arm-static -cpu %s (%s, as the %s's %s): %v: %w: fix: %s",
				dir, c.Args[0], t.QEMU.Name, t.CPU.Arch, p.Name, t.CPU.Name, err, ErrUnrunnable, fix)
		}
	}
	return nil
}
