package crossbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/uboot"
)

// builder runs one Build: it turns the profile and config into plans
// and runs them, filling in the result.
type builder struct {
	c   Config
	r   *runner
	res *Result
	dir string // the board's build directory
	// archiveID is the packed rootfs's hash (set by archive), an input
	// of a builtin kernel.
	archiveID *string
	// user is how busybox is compiled (set by run, before the steps).
	user userland
}

func (b builder) run(ctx context.Context) error {
	// Busybox is built unless only the kernel is, and then too when
	// the kernel links the rootfs in.
	if b.c.Target != TargetKernel || b.c.Root == boards.RootBuiltin {
		var err error
		if b.user, err = b.userland(ctx); err != nil {
			return err
		}
	}
	for _, step := range b.steps() {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// steps are the parts of the build in order. A builtin kernel links the
// packed rootfs, so the tree comes first then.
func (b builder) steps() []func(context.Context) error {
	t, root := b.c.Target, b.c.Root
	kernel, tree := t == TargetAll || t == TargetKernel, t == TargetAll || t == TargetRootFS
	var steps []func(context.Context) error
	if t == TargetAll || t == TargetUBoot {
		steps = append(steps, b.uboot)
	}
	if t == TargetUBoot {
		return steps
	}
	switch {
	case root == boards.RootBuiltin && (kernel || tree):
		return append(steps, b.busybox, b.rootfs, b.verify, b.archive, b.kernel)
	case kernel:
		steps = append(steps, b.kernel)
	}
	if t == TargetKernel {
		return steps
	}
	steps = append(steps, b.busybox)
	if t == TargetBusybox {
		return steps
	}
	steps = append(steps, b.rootfs, b.verify)
	if root.InRAM() {
		steps = append(steps, b.archive)
	}
	return steps
}

func (b builder) kernel(ctx context.Context) error {
	var src source
	err := b.withSources(ctx, func(dir string) (err error) {
		src, err = b.kernelSource(ctx, dir)
		return err
	})
	if err != nil {
		return err
	}
	plan := b.kernelPlan(src.Dir)
	if err := b.seedBuiltinTree(ctx, plan.Build); err != nil {
		return err
	}
	inputs := append([]string{src.ID}, b.toolchainID()...)
	if b.c.Root == boards.RootBuiltin {
		inputs = append(inputs, *b.archiveID)
	}
	comp := component{
		name: "kernel", build: plan.Build,
		configure: plan.Configure(), resolve: plan.Resolve(), compile: plan.Compile(),
		fragment:     kernelFragment(b.c.Board.Kernel.Fragment, b.c.Root, filepath.Join(b.c.Out, cpioFile)),
		fragmentName: b.fragmentName("kernel"),
		inputs:       inputs,
		outputs:      nonEmpty(plan.ImagePath(), plan.DTBPath()),
	}
	compiled, err := comp.run(ctx, b.r)
	if err != nil {
		return err
	}
	if compiled {
		b.res.Compiled = append(b.res.Compiled, "kernel")
	}
	b.res.ZImage = plan.ImagePath()
	b.res.UImage = filepath.Join(b.c.Out, b.c.Root.KernelFile())
	if err := b.uImage(plan.ImagePath(), b.res.UImage); err != nil {
		return err
	}
	if dtb := plan.DTBPath(); dtb != "" {
		b.res.DTB = filepath.Join(b.c.Out, filepath.Base(dtb))
		return copyIfChanged(dtb, b.res.DTB)
	}
	return nil
}

// kernelSource resolves --kernel-src, else Debian's linux-source
// tarball, in the source cache dir (locked by the caller).
func (b builder) kernelSource(ctx context.Context, dir string) (source, error) {
	spec := b.c.KernelSrc
	if spec == "" {
		var err error
		if spec, err = defaultKernelTarball(); err != nil {
			return source{}, err
		}
	}
	src, err := resolveSource(ctx, b.r, spec, dir)
	if err != nil {
		return src, fmt.Errorf("kernel source: %w", err)
	}
	return src, nil
}

// verify checks the assembled rootfs against the board's CPU.
func (b builder) verify(ctx context.Context) error {
	return VerifyRootFS(ctx, b.res.RootFS, b.c.Board, b.c.Progress)
}

// withSources runs f with the shared source cache (Cache/src) locked:
// builds of different boards share it and must not unpack at once.
func (b builder) withSources(ctx context.Context, f func(dir string) error) error {
	dir := filepath.Join(b.c.Cache, "src")
	unlock, err := lock(ctx, filepath.Join(dir, ".lock"), b.c.Progress)
	if err != nil {
		return err
	}
	defer unlock()
	return f(dir)
}

// kernelPlanFor is the kernel plan for a board.
func kernelPlanFor(p kernelInputs) kernelPlan {
	return kernelPlan{
		kbuild:    kbuild{Src: p.Src, Build: p.Build, Arch: p.Arch, CrossCompile: p.CrossCompile, Jobs: p.Jobs},
		Defconfig: p.Defconfig, Image: p.Image, DTB: dtbTarget(p.DTB),
	}
}

// kernelInputs are the plan's inputs, from a profile and a config.
type kernelInputs struct {
	Src, Build, Arch, CrossCompile string
	Jobs                           int
	Defconfig, Image, DTB          string // the profile's kernel fields
}

func (b builder) kernelPlan(src string) kernelPlan {
	k := b.c.Board.Kernel
	return kernelPlanFor(kernelInputs{
		Src: src, Build: filepath.Join(b.dir, kernelTree(b.c.Root)), Arch: b.c.Board.Arch,
		CrossCompile: b.res.Toolchain.Prefix, Jobs: b.c.Jobs,
		Defconfig: k.Defconfig, Image: k.Image, DTB: k.DTB,
	})
}

// busyboxPlanFor is the busybox plan for a source tree and build dir.
func busyboxPlanFor(src, build, arch, crossCompile string, jobs int) busyboxPlan {
	return busyboxPlan{kbuild{Src: src, Build: build, Arch: arch, CrossCompile: crossCompile, Jobs: jobs}}
}

func (b builder) busybox(ctx context.Context) error {
	var src source
	err := b.withSources(ctx, func(dir string) (err error) {
		if b.c.BusyboxSrc != "" {
			src, err = resolveSource(ctx, b.r, b.c.BusyboxSrc, dir)
		} else {
			src, err = debianSource(ctx, b.r, "busybox", filepath.Join(dir, "busybox-apt"))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("busybox source: %w", err)
	}
	cc := b.user.CC(b.res.Toolchain)
	inputs := append([]string{src.ID}, b.toolchainID()...)
	if b.user.Sysroot != nil {
		inputs = append(inputs, b.user.ID...) // unchanged for the toolchain as is
		b.res.Sysroot = b.user.Sysroot.Dir
	}
	comp := func(build string) component {
		plan := busyboxPlanFor(src.Dir, build, b.c.Board.Arch, b.res.Toolchain.Prefix, b.c.Jobs)
		plan.CC = cc
		return component{
			name: "busybox", build: plan.Build,
			configure: plan.Configure(), resolve: plan.Resolve(), compile: plan.Compile(),
			fragment: []byte(b.c.Board.Busybox.Fragment), fragmentName: b.fragmentName("busybox"),
			inputs:  inputs,
			outputs: []string{plan.BinaryPath(), plan.LinksPath()},
		}
	}
	// Boards that would build the same busybox share one tree, named by
	// the stamp of every input but the tree's own path.
	shared := filepath.Join(b.c.Cache, "busybox", comp("").stamp()[:16])
	unlock, err := lock(ctx, shared+".lock", b.c.Progress)
	if err != nil {
		return err
	}
	defer unlock()
	if err := linkBuildTree(filepath.Join(b.dir, "busybox-build"), shared); err != nil {
		return fmt.Errorf("busybox: %w", err)
	}
	c := comp(shared)
	compiled, err := c.run(ctx, b.r)
	if err != nil {
		return err
	}
	if compiled {
		b.res.Compiled = append(b.res.Compiled, "busybox")
		pruneTrees(filepath.Dir(shared), filepath.Join(b.c.Cache, "*", "busybox-build"))
	}
	b.res.Busybox = c.outputs[0]
	return nil
}

// pruneTrees removes the trees in dir that no board links to (links, a
// glob) and no build holds the lock of: the trees of inputs since
// changed, about 30 MB each. It does what it can; what it cannot remove
// waits for the next build.
func pruneTrees(dir, links string) {
	used := map[string]bool{}
	names, _ := filepath.Glob(links)
	for _, l := range names {
		if t, err := os.Readlink(l); err == nil {
			used[filepath.Base(t)] = true
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		tree := filepath.Join(dir, e.Name())
		if !e.IsDir() || used[e.Name()] {
			continue
		}
		if unlock, ok, _ := tryLock(tree + ".lock"); ok {
			os.RemoveAll(tree)
			unlock()
		}
	}
}

// linkBuildTree makes link, the board's name for a build tree, a
// symbolic link to tree (relative, so the cache can move). A directory
// there (a cache from before the trees were shared) is removed: its
// stamp named its own path, so it would have been rebuilt anyway.
func linkBuildTree(link, tree string) error {
	rel, err := filepath.Rel(filepath.Dir(link), tree)
	if err != nil {
		return err
	}
	if cur, err := os.Readlink(link); err == nil && cur == rel {
		return nil
	}
	if err := os.RemoveAll(link); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	return os.Symlink(rel, link)
}

func (b builder) rootfs(context.Context) error {
	plan := busyboxPlanFor("", filepath.Join(b.dir, "busybox-build"), "", "", 0)
	fs := rootFS{
		Dir:      filepath.Join(b.c.Out, "rootfs"),
		DevTable: DevTablePath(filepath.Join(b.c.Out, "rootfs")),
		Console:  b.c.Board.Linux.Console,
		Hostname: b.c.Board.Name,
		Busybox:  plan.BinaryPath(),
		Links:    plan.LinksPath(),
		Overlays: b.c.Overlays,
		Clean:    b.c.CleanRootFS,
	}
	fmt.Fprintf(b.c.Progress, "rootfs: %s\n", fs.Dir)
	if err := fs.Assemble(); err != nil {
		return err
	}
	b.res.RootFS, b.res.DevTable = fs.Dir, fs.DevTable
	return nil
}

func (b builder) fragmentName(part string) string {
	src := b.c.Board.Source
	if src == "" {
		src = b.c.Board.Name
	}
	return src + " " + part + ".fragment"
}

func (b builder) toolchainID() []string {
	t := b.res.Toolchain
	return []string{t.Prefix, t.GCC, t.Version, t.Target}
}

// uImage wraps the kernel image unless out already is that image: newer
// than it, with the same header fields.
func (b builder) uImage(image, out string) error {
	k := b.c.Board.Kernel
	h := kernelImage("Linux "+b.c.Board.Name, uint32(k.LoadAddr), uint32(k.EntryAddr))
	if upToDate(out, image) && sameHeader(out, h, image) {
		return nil
	}
	return writeUImage(h, image, out)
}

// sameHeader reports whether the uImage at path has h's fields and
// payload's size.
func sameHeader(path string, h uboot.Header, payload string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	got, err := uboot.ReadHeader(f)
	fi, serr := os.Stat(payload)
	if err != nil || serr != nil {
		return false
	}
	return got.Name == h.Name && got.Load == h.Load && got.Entry == h.Entry && got.Type == h.Type &&
		got.Arch == h.Arch && got.Comp == h.Comp && int64(got.Size) == fi.Size()
}

// upToDate reports whether out exists and is not older than in.
func upToDate(out, in string) bool {
	o, err := os.Stat(out)
	if err != nil {
		return false
	}
	i, err := os.Stat(in)
	return err == nil && !o.ModTime().Before(i.ModTime())
}

func copyIfChanged(src, dst string) error {
	if upToDate(dst, src) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomic(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
