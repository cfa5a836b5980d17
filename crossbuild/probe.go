package crossbuild

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bootrig/bootrig/armarch"
	"github.com/bootrig/bootrig/boards"
)

// ErrUnfitToolchain marks a toolchain that cannot build code the board
// executes.
var ErrUnfitToolchain = errors.New("toolchain cannot build code the board executes")

// probeC is the probe program: 64-bit division and float formatting
// (libgcc's and the C library's helpers) and a switch (a jump table).
const probeC = `#include <stdio.h>
int main(int argc, char **argv) {
	volatile long long a = 1234567890123LL, b = argc + 6;
	volatile double d = 3.25;
	switch (argc) {
	case 1: puts("one"); break;
	case 2: puts("two"); break;
	case 3: puts("three"); break;
	case 4: puts("four"); break;
	default: puts("many");
	}
	printf("%lld %lld %.2f\n", a / b, a % b, d * argc);
	return 0;
}
`

// probeWant is what the probe prints when run with two arguments.
const probeWant = "three\n137174210013 6 9.75\n"

// object is one ELF object and the build attributes it carries.
type object struct {
	Name  string // "libc.a(printf.o)", "/usr/lib/.../crt1.o"
	Attrs armarch.Attributes
}

// probeResult is what linking the probe program showed.
type probeResult struct {
	Binary  string // the linked program
	Attrs   armarch.Attributes
	Objects []object // every input the linker used, archive members included
}

// probeSteps compile the probe with gcc (and any flags: the board's
// -march, a sysroot's -specs), then link it statically, printing every
// input file and archive member the link used (ld -t -t).
func probeSteps(gcc string, flags []string, dir string) []step {
	cc := append(append([]string{gcc}, flags...), "-O2")
	env := []string{"LC_ALL=C"}
	return []step{
		{Phase: "toolchain probe: compile", Args: append(append([]string{}, cc...), "-c", "-o", "probe.o", "probe.c"), Env: env, Dir: dir},
		{Phase: "toolchain probe: link", Args: append(append([]string{}, cc...), "-static", "-o", "probe", "probe.o", "-Wl,-t,-t"), Env: env, Dir: dir},
	}
}

// probe compiles and links the probe program in dir and reads the build
// attributes of the result and of every object it pulled in.
func probe(ctx context.Context, gcc string, flags []string, dir string) (probeResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return probeResult{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "probe.c"), []byte(probeC), 0o644); err != nil {
		return probeResult{}, err
	}
	var trace []byte
	for _, s := range probeSteps(gcc, flags, dir) {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, s.Args[0], s.Args[1:]...)
		cmd.Dir, cmd.Env = s.Dir, mergeEnv(os.Environ(), s.Env)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return probeResult{}, fmt.Errorf("%w: %s: %v: %s", ErrUnfitToolchain, strings.Join(s.Args, " "), err, firstLines(stderr.String(), 3))
		}
		trace = stdout.Bytes()
	}
	res := probeResult{Binary: filepath.Join(dir, "probe")}
	var err error
	if res.Attrs, err = fileAttrs(res.Binary); err != nil {
		return res, fmt.Errorf("%w: the probe program %s: %w", ErrUnfitToolchain, res.Binary, err)
	}
	res.Objects, err = traceObjects(trace, dir)
	return res, err
}

// traceObjects reads the attributes of the inputs ld -t -t listed: a
// path per object file, "(archive)member" per archive member.
func traceObjects(trace []byte, dir string) ([]object, error) {
	var out []object
	archives := map[string][]armarch.Member{}
	sc := bufio.NewScanner(bytes.NewReader(trace))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		lib, member, isMember := strings.Cut(strings.TrimPrefix(l, "("), ")")
		switch {
		case strings.HasPrefix(l, "(") && isMember:
			attrs, err := memberAttrs(archives, lib, member)
			if err != nil {
				return nil, err
			}
			out = append(out, object{Name: filepath.Base(lib) + "(" + member + ")", Attrs: attrs})
		case strings.HasSuffix(l, ".o"):
			p := l
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			attrs, err := fileAttrs(p)
			if err != nil {
				return nil, fmt.Errorf("toolchain probe: %s: %w", l, err)
			}
			out = append(out, object{Name: filepath.Clean(l), Attrs: attrs})
		}
	}
	return out, nil
}

func memberAttrs(archives map[string][]armarch.Member, lib, member string) (armarch.Attributes, error) {
	ms, ok := archives[lib]
	if !ok {
		data, err := os.ReadFile(lib)
		if err != nil {
			return armarch.Attributes{}, fmt.Errorf("toolchain probe: %w", err)
		}
		if ms, err = armarch.ReadArchive(data); err != nil {
			return armarch.Attributes{}, fmt.Errorf("toolchain probe: %s: %w", lib, err)
		}
		archives[lib] = ms
	}
	for _, m := range ms {
		if m.Name == member {
			a, err := armarch.ReadELF(bytes.NewReader(m.Data))
			if err != nil {
				return a, fmt.Errorf("toolchain probe: %s(%s): %w", lib, member, err)
			}
			return a, nil
		}
	}
	return armarch.Attributes{}, fmt.Errorf("toolchain probe: ld used %s(%s), which the archive does not hold", lib, member)
}

func fileAttrs(path string) (armarch.Attributes, error) {
	f, err := os.Open(path)
	if err != nil {
		return armarch.Attributes{}, err
	}
	defer f.Close()
	return armarch.ReadELF(f)
}

// Unfit is the object of the probe needing the highest level the
// target cannot execute, or nil: an input the link pulled in when one
// is to blame (the program's own level is the highest of its inputs').
func (r probeResult) Unfit(t boards.Target) *object {
	all := append(append([]object{}, r.Objects...), object{Name: filepath.Base(r.Binary), Attrs: r.Attrs})
	worst := -1
	for i, o := range all {
		if fits(o.Attrs, t) {
			continue
		}
		if worst < 0 || !o.Attrs.CPUArch.RunsOn(all[worst].Attrs.CPUArch) {
			worst = i
		}
	}
	if worst < 0 {
		return nil
	}
	return &all[worst]
}

// fits reports whether code with attributes a runs on the target's CPU.
func fits(a armarch.Attributes, t boards.Target) bool {
	return a.HasCPUArch && a.CPUArch.RunsOn(t.CPU.Arch) && (t.CPU.VFP || !a.NeedsVFP())
}

// levelOf says what an object needs, for errors: "v5TE", "v4T with VFP".
func levelOf(a armarch.Attributes) string {
	switch {
	case !a.HasCPUArch:
		return "no Tag_CPU_arch"
	case a.NeedsVFP():
		return a.CPUArch.String() + " with VFP"
	}
	return a.CPUArch.String()
}

func firstLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[:n]
	}
	return strings.Join(ls, "; ")
}
