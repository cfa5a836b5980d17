package crossbuild

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/uboot"
)

func testContext(t *testing.T) context.Context {
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		t.Cleanup(cancel)
	}
	return ctx
}

// TestBuildQEMUArm really builds busybox and the qemu-arm kernel in
// bootrig's own cache (DefaultCache: what 'bootrig up' reuses; the
// first time on a machine: about 4 minutes on 2 cores) and checks what
// came out; then builds again and checks that nothing was compiled.
func TestBuildQEMUArm(t *testing.T) {
	// The builds of different boards run at once (each board has its own
	// lock): the mini2440 kernel, the longest, need not wait for qemu-arm.
	t.Parallel()
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var progress bytes.Buffer
	cfg := Config{Board: p, Out: out, Progress: &progress}
	res, err := Build(testContext(t), cfg)
	t.Logf("first build (%s, compiled %v):\n%s", res.Elapsed, res.Compiled, progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Toolchain.Target == "" || !strings.HasPrefix(res.Toolchain.Target, "arm") {
		t.Errorf("toolchain %+v", res.Toolchain)
	}
	checkBusybox(t, res.Busybox)
	checkUImage(t, res.UImage, res.ZImage, uint32(p.Kernel.LoadAddr))
	config, err := os.ReadFile(filepath.Join(boardDir(DefaultCache(), "qemu-arm"), "kernel-build", ".config"))
	if err != nil {
		t.Fatal(err)
	}
	if bad, err := checkConfig(config, []byte(p.Kernel.Fragment), "qemu-arm kernel.fragment"); err != nil || len(bad) > 0 {
		t.Errorf("kernel .config does not hold the fragment: %v %v", bad, err)
	}
	checkRootFS(t, res, "ttyAMA0")
	checkUBoot(t, res.UBoot)

	progress.Reset()
	again, err := Build(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("no-op build: %s", again.Elapsed)
	if len(again.Compiled) != 0 || !strings.Contains(progress.String(), "kernel: up to date") || !strings.Contains(progress.String(), "u-boot: up to date") {
		t.Errorf("second build compiled %v:\n%s", again.Compiled, progress.String())
	}
}

// checkBusybox: an ARM, statically linked ELF, as file(1) and debug/elf see it.
func checkBusybox(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("file", "-b", path).Output()
	if err != nil {
		t.Fatalf("file %s: %v", path, err)
	}
	desc := string(out)
	for _, want := range []string{"ELF 32-bit LSB executable", "ARM", "statically linked"} {
		if !strings.Contains(desc, want) {
			t.Errorf("file says %q, want %q", strings.TrimSpace(desc), want)
		}
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("busybox has an ELF interpreter: not static")
		}
	}
}

// checkUImage: uboot.Verify and mkimage -l accept it, and its payload is
// the zImage.
func checkUImage(t *testing.T, path, zImage string, load uint32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := uboot.Verify(f); err != nil {
		t.Errorf("uboot.Verify(%s): %v", path, err)
	}
	out, err := exec.Command("mkimage", "-l", path).CombinedOutput()
	if err != nil {
		t.Fatalf("mkimage -l %s: %v\n%s", path, err, out)
	}
	if !strings.Contains(string(out), "ARM Linux Kernel Image") || !strings.Contains(string(out), fmt.Sprintf("Load Address: %08x", load)) {
		t.Errorf("mkimage -l:\n%s", out)
	}
	img, _ := os.ReadFile(path)
	z, _ := os.ReadFile(zImage)
	if len(img) != len(z)+uboot.HeaderSize || !bytes.Equal(img[uboot.HeaderSize:], z) {
		t.Error("uImage payload is not the zImage")
	}
}

func checkRootFS(t *testing.T, res Result, console string) {
	t.Helper()
	inittab, err := os.ReadFile(filepath.Join(res.RootFS, "etc", "inittab"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inittab), console+"::respawn:-/bin/sh") {
		t.Errorf("inittab:\n%s", inittab)
	}
	for _, p := range []string{"bin/busybox", "bin/sh", "sbin/init", "sbin/mdev", "etc/init.d/rcS", "etc/fstab"} {
		if _, err := os.Stat(filepath.Join(res.RootFS, p)); err != nil {
			t.Error(err)
		}
	}
	if b, err := os.ReadFile(res.DevTable); err != nil || !strings.Contains(string(b), "/dev/"+console) {
		t.Errorf("device table %s: %v\n%s", res.DevTable, err, b)
	}
}

// TestBuildMini2440Kernel builds the mini2440 kernel (mini2440_defconfig
// plus the profile's NFS-root fragment) with Debian's linux-source-6.1.
// It cannot boot here: building it is the check. Cold, it costs about 11
// CPU-minutes (1,491 objects, no debug info), seconds
// with the cache warm; -short leaves it out.
func TestBuildMini2440Kernel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mini2440 kernel (about 11 CPU-minutes cold)")
	}
	t.Parallel()
	p, err := boards.Lookup("mini2440")
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	res, err := Build(testContext(t), Config{Board: p, Target: TargetKernel, Out: t.TempDir(), Progress: &progress})
	t.Logf("build (%s, compiled %v):\n%s", res.Elapsed, res.Compiled, progress.String())
	if err != nil {
		t.Fatal(err)
	}
	checkUImage(t, res.UImage, res.ZImage, uint32(p.Kernel.LoadAddr))
	config, err := os.ReadFile(filepath.Join(boardDir(DefaultCache(), "mini2440"), "kernel-build", ".config"))
	if err != nil {
		t.Fatal(err)
	}
	if bad, err := checkConfig(config, []byte(p.Kernel.Fragment), "mini2440 kernel.fragment"); err != nil || len(bad) > 0 {
		t.Errorf("kernel .config does not hold the fragment: %v %v", bad, err)
	}
}
