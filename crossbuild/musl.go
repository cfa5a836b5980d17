package crossbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sysroot is a static C library bootrig builds for a board whose level
// the toolchain's own libraries are too new for: musl from Debian's
// source package, compiled with the board's flags, the kernel's UAPI
// headers, and a gcc specs file that makes the cross gcc compile and
// link against them and a libgcc.a of the board's level, and nothing of
// its own (no crtbegin.o, no libgcc, no glibc).
type sysroot struct {
	Dir    string   // BOARD/sysroot: include/, lib/, bootrig-gcc.specs
	Libgcc string   // the compiler-support library linked explicitly
	Flags  []string // the board's -march, -marm, -mfloat-abi
}

// SpecsPath is the gcc specs file in the sysroot.
func (s sysroot) SpecsPath() string { return filepath.Join(s.Dir, "bootrig-gcc.specs") }

// CFlags are what gcc needs to build for the sysroot: the board's flags,
// the specs, and a static, position-dependent executable (Debian's gcc
// makes PIEs by default).
func (s sysroot) CFlags() []string {
	return append(append([]string{}, s.Flags...), "-specs="+s.SpecsPath(), "-static", "-no-pie", "-fno-pie")
}

// specs is the gcc specs file for a sysroot at dir, modelled on musl's
// own musl-gcc.specs: musl's and the kernel's headers instead of the
// toolchain's, musl's crt1.o/crti.o/crtn.o and libc.a, libgcc given by
// path, static linking only.
func specs(dir, libgcc string) string {
	inc, lib := filepath.Join(dir, "include"), filepath.Join(dir, "lib")
	return "%rename cpp_options old_cpp_options\n\n" +
		"*cpp_options:\n-nostdinc -isystem " + inc + " -isystem include%s %(old_cpp_options)\n\n" +
		"*cc1:\n%(cc1_cpu) -nostdinc -isystem " + inc + " -isystem include%s\n\n" +
		"*link_libgcc:\n-L" + lib + "\n\n" +
		"*libgcc:\n" + libgcc + "\n\n" +
		"*startfile:\n" + lib + "/crt1.o " + lib + "/crti.o\n\n" +
		"*endfile:\n" + lib + "/crtn.o\n\n" +
		// libgcc from gcc-arm-none-eabi says its enums are short; no
		// libgcc function passes an enum, so the warning is noise.
		"*link:\n-nostdlib -static -z noexecstack --no-enum-size-warning %{rdynamic:-export-dynamic}\n\n"
}

// muslPlan builds musl out of tree and installs it into a sysroot.
type muslPlan struct {
	Src, Build, Dest string   // absolute paths
	Target, Prefix   string   // "arm-linux-gnueabi", "arm-linux-gnueabi-"
	Flags            []string // the board's flags
	Jobs             int
}

// Configure is musl's configure, run in the build directory.
func (m muslPlan) Configure() step {
	return step{Phase: "musl: configure", Dir: m.Build, Env: []string{"LC_ALL=C"}, Args: []string{
		filepath.Join(m.Src, "configure"), "--target=" + m.Target, "CROSS_COMPILE=" + m.Prefix, "CC=" + m.Prefix + "gcc",
		"CFLAGS=" + strings.Join(m.Flags, " "), "--prefix=/", "--disable-shared",
	}}
}

// Compile builds libc.a and the start files.
func (m muslPlan) Compile() step {
	args := []string{"make"}
	if m.Jobs > 1 {
		args = append(args, "-j"+strconv.Itoa(m.Jobs))
	}
	return step{Phase: "musl: compile", Dir: m.Build, Env: []string{"LC_ALL=C"}, Args: args}
}

// Install puts headers and libraries into Dest.
func (m muslPlan) Install() step {
	return step{Phase: "musl: install", Dir: m.Build, Env: []string{"LC_ALL=C"}, Args: []string{"make", "install", "DESTDIR=" + m.Dest}}
}

// headersStep installs the kernel's UAPI headers (linux/, asm/...) into
// a sysroot, from the kernel source the board's kernel is built from.
func headersStep(ksrc, build, arch, dest string) step {
	return kbuild{Src: ksrc, Build: build, Arch: arch}.Step("kernel headers: install", "headers_install", "INSTALL_HDR_PATH="+dest)
}

// sysrootBuild is one sysroot build: its plan, the sources and the
// stamp of everything it depends on.
type sysrootBuild struct {
	sys     sysroot
	musl    muslPlan
	headers step
	inputs  []string // source and toolchain IDs, libgcc's identity
}

func (s sysrootBuild) steps() []step {
	return []step{s.musl.Configure(), s.musl.Compile(), s.musl.Install(), s.headers}
}

func (s sysrootBuild) stamp() string {
	h := sha256.New()
	for _, st := range s.steps() {
		var args []string
		for _, a := range st.Args {
			if !strings.HasPrefix(a, "-j") {
				args = append(args, a)
			}
		}
		fmt.Fprintf(h, "%q %q %q\n", args, st.Env, st.Dir)
	}
	fmt.Fprintf(h, "%q\n%q\n", specs(s.sys.Dir, s.sys.Libgcc), s.inputs)
	return hex.EncodeToString(h.Sum(nil))
}

func (s sysrootBuild) upToDate() bool {
	b, err := os.ReadFile(filepath.Join(s.sys.Dir, stampFile))
	if err != nil || string(bytes.TrimSpace(b)) != s.stamp() {
		return false
	}
	for _, p := range []string{"lib/libc.a", "lib/crt1.o", "include/stdio.h", "include/linux/version.h"} {
		if _, err := os.Stat(filepath.Join(s.sys.Dir, p)); err != nil {
			return false
		}
	}
	_, err = os.Stat(s.sys.SpecsPath())
	return err == nil
}

// run builds the sysroot unless it is up to date; it reports whether it
// ran anything.
func (s sysrootBuild) run(ctx context.Context, r *runner) (bool, error) {
	if s.upToDate() {
		fmt.Fprintf(r.Out, "musl sysroot: up to date\n")
		return false, nil
	}
	for _, d := range []string{s.sys.Dir, s.musl.Build} {
		if err := os.RemoveAll(d); err != nil {
			return false, fmt.Errorf("musl sysroot: %w", err)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return false, fmt.Errorf("musl sysroot: %w", err)
		}
	}
	if err := os.MkdirAll(s.headers.Dir, 0o755); err != nil {
		return false, fmt.Errorf("kernel headers: %w", err)
	}
	for _, st := range s.steps() {
		if _, err := r.Run(ctx, st); err != nil {
			return true, err
		}
	}
	if err := os.WriteFile(s.sys.SpecsPath(), []byte(specs(s.sys.Dir, s.sys.Libgcc)), 0o644); err != nil {
		return true, fmt.Errorf("musl sysroot: %w", err)
	}
	return true, os.WriteFile(filepath.Join(s.sys.Dir, stampFile), []byte(s.stamp()+"\n"), 0o644)
}
