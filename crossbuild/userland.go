package crossbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bootrig/bootrig/armarch"
	"github.com/bootrig/bootrig/boards"
)

// userland is how code the board executes is compiled.
type userland struct {
	// Sysroot is bootrig's musl sysroot; nil when the toolchain's own
	// libraries fit the board and it is used as is.
	Sysroot *sysroot
	ID      []string // for the busybox stamp
}

// CC is kbuild's CC= for busybox: "" for the toolchain as is.
func (u userland) CC(t Toolchain) string {
	if u.Sysroot == nil {
		return ""
	}
	return strings.Join(append([]string{t.GCC}, u.Sysroot.CFlags()...), " ")
}

// libgccProviders are the compilers whose libgcc.a may fit the board,
// in order: the toolchain's own, then gcc-arm-none-eabi's (its default
// multilib is ARMv4T ARM code, with no clz or blx).
func libgccProviders(tc Toolchain) []string { return []string{tc.GCC, "arm-none-eabi-gcc"} }

// unfitError is the one error of a toolchain that cannot build for the
// board: the level found, the level needed, and the fix.
func unfitError(b *boards.Profile, t boards.Target, tc Toolchain, v verdict, how, fix string) error {
	return fmt.Errorf("%w: %sgcc %s %s gives %s code (%s); the %s's %s executes %s at most; %s",
		ErrUnfitToolchain, tc.Prefix, tc.Version, how, v.UnfitLevel, v.Unfit, b.Name, t.CPU.Name, t.CPU.Arch, fix)
}

// The fixes: for a toolchain that makes no usable ARM code, and for one
// whose own libraries are too new when bootrig's musl cannot help.
const (
	fixCompiler  = "fix: install Debian's ARM cross compiler (apt-get install gcc-arm-linux-gnueabi) or pass --cross-compile PREFIX of an ARM one, e.g. FriendlyARM's arm-linux- 4.4.3"
	fixToolchain = "fix: install gcc-arm-none-eabi (bootrig doctor --install) so bootrig builds musl for the board, " +
		"or pass --cross-compile PREFIX of a toolchain for the board's CPU, e.g. FriendlyARM's arm-linux- 4.4.3 for ARMv4T"
)

// userland probes the toolchain as is; when what it links does not fit
// the board, it builds (once) a musl sysroot with the board's flags and
// probes again through it, and runs that probe on the board's QEMU
// model. Either passes, or the build stops here. Verdicts are
// remembered, so a no-op build compiles no probe.
func (b builder) userland(ctx context.Context) (userland, error) {
	p, tc := b.c.Board, b.res.Toolchain
	t, err := p.Target()
	if err != nil {
		return userland{}, err
	}
	probeDir := filepath.Join(b.dir, "probe")
	own, err := b.probeOnce(ctx, filepath.Join(probeDir, "own"), nil, t, "")
	if err != nil {
		return userland{}, fmt.Errorf("%w: %s", err, fixCompiler)
	}
	if own.Unfit == "" {
		fmt.Fprintf(b.c.Progress, "userland: %sgcc's own libraries (%s) fit the %s\n", tc.Prefix, own.Level, t.CPU.Name)
		return userland{ID: []string{"own"}}, nil
	}
	fmt.Fprintf(b.c.Progress, "userland: %sgcc links %s code (%s); the %s executes %s: using musl built for %s\n",
		tc.Prefix, own.UnfitLevel, own.Unfit, t.CPU.Name, t.CPU.Arch, strings.Join(p.Flags(), " "))
	sys, err := b.sysroot(ctx, t)
	if err != nil {
		return userland{}, err
	}
	musl, err := b.probeOnce(ctx, filepath.Join(probeDir, "musl"), sys.sys.CFlags(), t, sys.stamp())
	if err != nil {
		return userland{}, fmt.Errorf("%w: %s", err, fixToolchain)
	}
	if musl.Unfit != "" {
		return userland{}, unfitError(p, t, tc, musl, "with bootrig's musl", fixToolchain)
	}
	fmt.Fprintf(b.c.Progress, "userland: musl sysroot %s (libgcc %s): the probe is %s and runs on qemu-arm -cpu %s\n",
		sys.sys.Dir, sys.sys.Libgcc, musl.Level, t.QEMU.Name)
	return userland{Sysroot: &sys.sys, ID: []string{"musl", sys.stamp()}}, nil
}

// verdict is a probe's outcome, kept in DIR/verdict.json under a key of
// everything it depends on.
type verdict struct {
	Key        string `json:"key"`
	Level      string `json:"level"`                 // the probe program's
	Unfit      string `json:"unfit,omitempty"`       // the object to blame; "" when all fit
	UnfitLevel string `json:"unfit_level,omitempty"` // what it needs
}

// probeOnce probes the toolchain with flags in dir, unless a verdict
// for the same toolchain, flags, board CPU and sysroot is there. With a
// sysroot, a fitting probe must also run on the board's QEMU model.
func (b builder) probeOnce(ctx context.Context, dir string, flags []string, t boards.Target, sysroot string) (verdict, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %+v %q", b.toolchainID(), flags, probeC, t, sysroot)
	key := hex.EncodeToString(h.Sum(nil))
	path := filepath.Join(dir, "verdict.json")
	var v verdict
	if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &v) == nil && v.Key == key {
		return v, nil
	}
	res, err := probe(ctx, b.res.Toolchain.GCC, flags, dir)
	if err != nil {
		return v, err
	}
	v = verdict{Key: key, Level: levelOf(res.Attrs)}
	if o := res.Unfit(t); o != nil {
		v.Unfit, v.UnfitLevel = o.Name, levelOf(o.Attrs)
	} else if sysroot != "" {
		if err := runProbe(ctx, res.Binary, t.QEMU.Name); err != nil {
			return v, err
		}
	}
	data, _ := json.Marshal(v)
	return v, os.WriteFile(path, data, 0o644)
}

// sysroot builds bootrig's musl for the target, with the first libgcc.a
// whose every member fits it.
func (b builder) sysroot(ctx context.Context, t boards.Target) (sysrootBuild, error) {
	p, tc := b.c.Board, b.res.Toolchain
	libgcc, err := fittingLibgcc(ctx, libgccProviders(tc), p.Flags(), t)
	if err != nil {
		return sysrootBuild{}, err
	}
	var musl, kernel source
	err = b.withSources(ctx, func(dir string) (err error) {
		if musl, err = debianSource(ctx, b.r, "musl", filepath.Join(dir, "musl-apt")); err != nil {
			return fmt.Errorf("musl source: %w", err)
		}
		kernel, err = b.kernelSource(ctx, dir)
		return err
	})
	if err != nil {
		return sysrootBuild{}, err
	}
	sys := sysroot{Dir: filepath.Join(b.dir, "sysroot"), Libgcc: libgcc, Flags: p.Flags()}
	build := filepath.Join(b.dir, "musl-build")
	fi, err := os.Stat(libgcc)
	if err != nil {
		return sysrootBuild{}, err
	}
	s := sysrootBuild{
		sys:     sys,
		musl:    muslPlan{Src: musl.Dir, Build: build, Dest: sys.Dir, Target: tc.Target, Prefix: tc.Prefix, Flags: sys.Flags, Jobs: b.c.Jobs},
		headers: headersStep(kernel.Dir, filepath.Join(build, "linux-headers"), p.Arch, sys.Dir),
		inputs:  append([]string{musl.ID, kernel.ID, fmt.Sprintf("%s:%d:%d", libgcc, fi.Size(), fi.ModTime().UnixNano())}, b.toolchainID()...),
	}
	compiled, err := s.run(ctx, b.r)
	if compiled {
		b.res.Compiled = append(b.res.Compiled, "musl")
	}
	return s, err
}

// fittingLibgcc returns the first libgcc.a of the compilers gccs (for
// the board's flags) whose members all fit.
func fittingLibgcc(ctx context.Context, gccs, flags []string, t boards.Target) (string, error) {
	var tried []string
	for _, gcc := range gccs {
		path, err := gccQuery(ctx, gcc, append(append([]string{}, flags...), "-print-libgcc-file-name")...)
		if err != nil || !filepath.IsAbs(path) {
			tried = append(tried, gcc+": none")
			continue
		}
		o, err := unfitMember(path, t)
		if err != nil {
			return "", err
		}
		if o == nil {
			return path, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %s", o.Name, levelOf(o.Attrs)))
	}
	return "", fmt.Errorf("%w: no libgcc.a for %s: %s; the %s executes %s at most; fix: install gcc-arm-none-eabi (bootrig doctor --install)",
		ErrUnfitToolchain, strings.Join(flags, " "), strings.Join(tried, ", "), t.CPU.Name, t.CPU.Arch)
}

// unfitMember is the first member of a static library that does not
// fit t, or nil.
func unfitMember(lib string, t boards.Target) (*object, error) {
	data, err := os.ReadFile(lib)
	if err != nil {
		return nil, err
	}
	ms, err := armarch.ReadArchive(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lib, err)
	}
	for _, m := range ms {
		a, err := armarch.ReadELF(bytes.NewReader(m.Data))
		if err != nil {
			return nil, fmt.Errorf("%s(%s): %w", lib, m.Name, err)
		}
		if !fits(a, t) {
			return &object{Name: filepath.Base(lib) + "(" + m.Name + ")", Attrs: a}, nil
		}
	}
	return nil, nil
}

// runProbe runs the linked probe on the board's QEMU model and checks
// what it prints: the attributes say what the code claims, running it
// shows what it does.
func runProbe(ctx context.Context, bin, model string) error {
	cmd := exec.CommandContext(ctx, "qemu-arm-static", "-cpu", model, bin, "a", "b")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != probeWant {
		return fmt.Errorf("%w: the probe program %s under qemu-arm-static -cpu %s: %v: printed %q, want %q (install qemu-user-static: bootrig doctor --install)",
			ErrUnfitToolchain, bin, model, err, out, probeWant)
	}
	return nil
}
