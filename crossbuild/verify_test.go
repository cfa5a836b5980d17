package crossbuild

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/armarch"
	"github.com/bootrig/bootrig/boards"
)

func target(t *testing.T, board string) (*boards.Profile, boards.Target) {
	t.Helper()
	p, err := boards.Lookup(board)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := p.Target()
	if err != nil {
		t.Fatal(err)
	}
	return p, tg
}

// armelProgram is a static program built with Debian's default armel
// flags (ARMv5TE, glibc), as 'bootrig build' made it before musl.
func armelProgram(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { printf(\"%.1f\\n\", 1.5); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	if out, err := exec.Command("arm-linux-gnueabi-gcc", "-static", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabi-gcc: %v\n%s", err, out)
	}
	return bin
}

// TestProbeRefusesArmelForMini2440: Debian's armel toolchain as is links
// v5TE code from its own libraries; the probe names the object.
func TestProbeRefusesArmelForMini2440(t *testing.T) {
	_, mini := target(t, "mini2440")
	res, err := probe(testContext(t), "arm-linux-gnueabi-gcc", nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := res.Unfit(mini)
	if o == nil {
		t.Fatalf("armel probe fits the arm920t: %+v", res.Attrs)
	}
	if o.Attrs.CPUArch != armarch.V5TE || o.Name == "probe" {
		t.Errorf("unfit object %s at %s, want one of the toolchain's objects at v5TE", o.Name, levelOf(o.Attrs))
	}
	var members int
	for _, ob := range res.Objects {
		if strings.Contains(ob.Name, "libc.a(") {
			members++
		}
	}
	if members < 10 {
		t.Errorf("the probe pulled in %d libc.a members, want the dozens a printf needs: %+v", members, res.Objects)
	}
	_, qemu := target(t, "qemu-arm")
	if o := res.Unfit(qemu); o != nil {
		t.Errorf("armel probe does not fit the Cortex-A15: %s is %s", o.Name, levelOf(o.Attrs))
	}
}

// TestVerifyRefusesArmelBinary is the negative test: a rootfs holding a
// binary built with Debian's default armel flags is refused for the
// mini2440, naming the file and the level found; the qemu-arm board
// (ARMv7) takes it.
func TestVerifyRefusesArmelBinary(t *testing.T) {
	p, mini := target(t, "mini2440")
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"usr/bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := armelProgram(t, dir)
	data, _ := os.ReadFile(bin)
	if err := os.WriteFile(filepath.Join(root, "usr/bin/hello"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/motd"), []byte("not ELF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Firmware runs on other processors: an x86 ELF there is no finding.
	host, _ := os.ReadFile("/bin/true")
	os.MkdirAll(filepath.Join(root, "lib/firmware"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "lib/firmware/dsp.elf"), host, 0o644); err != nil {
		t.Fatal(err)
	}
	err := VerifyRootFS(testContext(t), root, p, nil)
	if !errors.Is(err, ErrUnrunnable) {
		t.Fatalf("VerifyRootFS = %v, want ErrUnrunnable", err)
	}
	for _, want := range []string{"usr/bin/hello is v5TE code", "arm920t executes v4T", "-march=armv4t"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := os.Stat(root + ".bootrig-verified"); err == nil {
		t.Error("a refused rootfs was stamped as verified")
	}
	sc, err := scanELF(root, mini)
	if err != nil || sc.Files != 1 || len(sc.Unfit) != 1 {
		t.Errorf("scanELF = %+v, %v; want hello alone", sc, err)
	}
	q, _ := target(t, "qemu-arm")
	if err := VerifyRootFS(testContext(t), root, q, nil); err != nil {
		t.Errorf("qemu-arm refuses an armel binary: %v", err)
	}
}

// TestRunAppletSeesSIGILL: a v5TE program on the ARMv4T model dies of
// SIGILL, and the check says so instead of comparing output.
func TestRunAppletSeesSIGILL(t *testing.T) {
	bin := armelProgram(t, t.TempDir())
	c := appletCheck{Want: regexpMust(`^1\.5\n$`)}
	err := runApplet(testContext(t), "ti925t", bin, c)
	if err == nil || !strings.Contains(err.Error(), "illegal instruction (signal 4)") {
		t.Errorf("runApplet on ti925t = %v, want killed by SIGILL", err)
	}
	if err := runApplet(testContext(t), "cortex-a15", bin, c); err != nil {
		t.Errorf("runApplet on cortex-a15 = %v", err)
	}
}

func TestAppletArgv(t *testing.T) {
	got := appletArgv("ti925t", "/r/bin/busybox", appletCheck{Args: []string{"ls", "-l", "/r"}})
	want := "qemu-arm-static -cpu ti925t /r/bin/busybox ls -l /r"
	if strings.Join(got, " ") != want {
		t.Errorf("appletArgv = %q, want %q", got, want)
	}
}

// TestLibgccForARMv4T: Debian armel's libgcc.a is refused for the
// arm920t with the level found, the level needed and the fix;
// gcc-arm-none-eabi's default multilib is taken.
func TestLibgccForARMv4T(t *testing.T) {
	p, mini := target(t, "mini2440")
	ctx := testContext(t)
	_, err := fittingLibgcc(ctx, []string{"arm-linux-gnueabi-gcc"}, p.Flags(), mini)
	if !errors.Is(err, ErrUnfitToolchain) {
		t.Fatalf("armel libgcc: %v, want ErrUnfitToolchain", err)
	}
	for _, want := range []string{"libgcc.a(", "v5TE", "arm920t executes v4T", "install gcc-arm-none-eabi"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	lib, err := fittingLibgcc(ctx, []string{"arm-linux-gnueabi-gcc", "arm-none-eabi-gcc"}, p.Flags(), mini)
	if err != nil || !strings.Contains(lib, "arm-none-eabi") {
		t.Errorf("fittingLibgcc = %q, %v; want gcc-arm-none-eabi's", lib, err)
	}
}

// TestBuildRefusesUnfitToolchain: a toolchain that makes no ARM code at
// all (the host's gcc, given as --cross-compile) is refused by the probe
// before anything is built.
func TestBuildRefusesUnfitToolchain(t *testing.T) {
	p, _ := target(t, "mini2440")
	cache := t.TempDir()
	res, err := Build(testContext(t), Config{Board: p, Target: TargetAll, Cache: cache, CrossCompile: "x86_64-linux-gnu-"})
	if !errors.Is(err, ErrUnfitToolchain) || !strings.Contains(err.Error(), "EM_X86_64") {
		t.Fatalf("Build = %v, want ErrUnfitToolchain naming x86-64", err)
	}
	if len(res.Compiled) != 0 {
		t.Errorf("compiled %v before refusing the toolchain", res.Compiled)
	}
	if _, err := os.Stat(filepath.Join(cache, "mini2440", "kernel-build")); err == nil {
		t.Error("a kernel build directory exists: the build started")
	}
}
