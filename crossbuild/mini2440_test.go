package crossbuild

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/armarch"
)

// TestBuildMini2440RootFS builds the mini2440's userland in bootrig's
// cache (bootrig's musl for ARMv4T, busybox against it; about 5 minutes
// on 2 cores the first time, seconds after) and proves it on the board's
// CPU: no ELF file of the rootfs needs more than v4T, and every applet of
// appletChecks prints what it should under qemu-arm-static -cpu ti925t.
// A second build compiles nothing.
func TestBuildMini2440RootFS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds musl and busybox for the mini2440 (minutes cold)")
	}
	t.Parallel()
	p, mini := target(t, "mini2440")
	var progress bytes.Buffer
	cfg := Config{Board: p, Target: TargetRootFS, Out: t.TempDir(), Progress: &progress}
	res, err := Build(testContext(t), cfg)
	t.Logf("build (%s, compiled %v):\n%s", res.Elapsed, res.Compiled, progress.String())
	if err != nil {
		t.Fatal(err)
	}
	checkBusybox(t, res.Busybox)
	if res.Sysroot == "" {
		t.Fatal("busybox was not built against bootrig's musl")
	}
	if o, err := unfitMember(filepath.Join(res.Sysroot, "lib", "libc.a"), mini); err != nil || o != nil {
		t.Errorf("musl's libc.a: %v, %v; want every member at v4T", o, err)
	}
	f, err := os.Open(filepath.Join(res.RootFS, "bin", "busybox"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := armarch.ReadELF(f)
	f.Close()
	if err != nil || a.CPUArch != armarch.V4T || a.NeedsVFP() {
		t.Errorf("rootfs busybox: %+v, %v; want Tag_CPU_arch v4T, no VFP", a, err)
	}
	sc, err := scanELF(res.RootFS, mini)
	if err != nil || sc.Files == 0 || len(sc.Unfit) > 0 {
		t.Errorf("scanELF: %d ELF files, unfit %+v, %v", sc.Files, sc.Unfit, err)
	}
	bb := filepath.Join(res.RootFS, "bin", "busybox")
	for _, c := range appletChecks(res.RootFS) {
		if err := runApplet(testContext(t), mini.QEMU.Name, bb, c); err != nil {
			t.Errorf("busybox %s on qemu-arm -cpu %s: %v", strings.Join(c.Args, " "), mini.QEMU.Name, err)
		}
	}

	// A toolchain that targets ARMv4T with its own libraries (as
	// FriendlyARM's arm-linux-gcc 4.4.3 does; here Debian's gcc wrapped
	// around the musl just built) passes the probe and is used as is.
	wrapper := filepath.Join(t.TempDir(), "armv4t-linux-gcc")
	script := "#!/bin/sh\nexec arm-linux-gnueabi-gcc " + strings.Join((&sysroot{Dir: res.Sysroot, Flags: p.Flags()}).CFlags(), " ") + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	own := builder{c: Config{Board: p, Progress: &progress}, res: &Result{Toolchain: Toolchain{Prefix: "armv4t-linux-", GCC: wrapper}}, dir: t.TempDir()}
	if u, err := own.userland(testContext(t)); err != nil || u.Sysroot != nil {
		t.Errorf("an ARMv4T toolchain: userland %+v, %v; want it used as is", u, err)
	}

	// A pass is remembered, but not past a new ELF file.
	if err := VerifyRootFS(testContext(t), res.RootFS, p, nil); err != nil {
		t.Fatalf("verifying the built rootfs again: %v", err)
	}
	armel, _ := os.ReadFile(armelProgram(t, t.TempDir()))
	os.WriteFile(filepath.Join(res.RootFS, "usr", "bin", "hello"), armel, 0o755)
	if err := VerifyRootFS(testContext(t), res.RootFS, p, nil); !errors.Is(err, ErrUnrunnable) || !strings.Contains(err.Error(), "usr/bin/hello is v5TE") {
		t.Errorf("an armel program added to a verified rootfs: %v, want it refused", err)
	}
	os.Remove(filepath.Join(res.RootFS, "usr", "bin", "hello"))

	progress.Reset()
	again, err := Build(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("no-op build: %s", again.Elapsed)
	if len(again.Compiled) != 0 || !strings.Contains(progress.String(), "musl sysroot: up to date") {
		t.Errorf("second build compiled %v:\n%s", again.Compiled, progress.String())
	}
}
