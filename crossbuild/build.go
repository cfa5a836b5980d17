package crossbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/bootrig/bootrig/boards"
)

// Target is what a build produces.
type Target int

const (
	TargetAll     Target = iota // kernel, busybox and the rootfs
	TargetKernel                // the kernel image and uImage (and DTB)
	TargetBusybox               // the busybox binary
	TargetRootFS                // busybox installed into the rootfs skeleton
	TargetUBoot                 // the profile's U-Boot (uboot.build)
)

// ParseTarget parses the build command's argument.
func ParseTarget(s string) (Target, error) {
	switch s {
	case "", "all":
		return TargetAll, nil
	case "kernel":
		return TargetKernel, nil
	case "busybox":
		return TargetBusybox, nil
	case "rootfs":
		return TargetRootFS, nil
	case "uboot", "u-boot":
		return TargetUBoot, nil
	}
	return 0, fmt.Errorf("unknown build target %q: want kernel, busybox, rootfs, uboot or all", s)
}

// Config is one build.
type Config struct {
	Board  *boards.Profile
	Target Target
	Root   boards.Root // how the root reaches the board; default: the profile's
	Cache  string      // default DefaultCache(): sources in Cache/src, build trees in Cache/<board>
	Out    string      // default Cache/<board>/out

	CrossCompile string   // prefix; default: the profile's list, first found on PATH
	KernelSrc    string   // DIR or TARBALL; default: /usr/src/linux-source-*.tar.xz
	BusyboxSrc   string   // DIR or TARBALL; default: apt-get source busybox
	UBootSrc     string   // DIR or TARBALL; default: apt-get source u-boot
	Overlays     []string // copied over the rootfs in order
	// Tree is the directory a RAM root packs, with the device table
	// beside it (DevTablePath); default: the rootfs this build assembles.
	Tree        string
	CleanRootFS bool
	Jobs        int // make -j; default runtime.NumCPU()

	Progress io.Writer // for people; nil discards
	Bar      bool      // Progress is a terminal: draw progress bars
}

// Result is what a build produced. Paths are empty for parts not built.
type Result struct {
	Toolchain Toolchain     `json:"toolchain"`
	UImage    string        `json:"uimage,omitempty"`
	ZImage    string        `json:"zimage,omitempty"`
	DTB       string        `json:"dtb,omitempty"`
	Busybox   string        `json:"busybox,omitempty"`
	Sysroot   string        `json:"sysroot,omitempty"` // bootrig's musl, when busybox was built against it
	RootFS    string        `json:"rootfs,omitempty"`
	DevTable  string        `json:"devtable,omitempty"` // gen_init_cpio table for the NFS server
	UBoot     string        `json:"uboot,omitempty"`    // u-boot.bin, when the profile has uboot.build
	Root      boards.Root   `json:"root"`
	CPIO      string        `json:"cpio,omitempty"`      // RAM roots: the tree as cpio newc
	Initramfs string        `json:"initramfs,omitempty"` // RAM roots: the cpio gzip'd
	UInitrd   string        `json:"uinitrd,omitempty"`   // --root initramfs: its U-Boot ramdisk image
	Log       string        `json:"log"`                 // the full log of the last build that ran a command
	Compiled  []string      `json:"compiled"`            // parts make ran for ("kernel", "busybox")
	Sizes     Sizes         `json:"sizes"`
	Limits    boards.Limits `json:"limits"` // the profile's budgets for them
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// Sizes are in bytes.
type Sizes struct {
	ZImage  int64 `json:"zimage,omitempty"`
	UImage  int64 `json:"uimage,omitempty"`
	Busybox int64 `json:"busybox,omitempty"`
	UBoot   int64 `json:"uboot,omitempty"`
	RootFS  int64 `json:"rootfs,omitempty"` // regular files, symlinks counted as their own size
	// RAM roots: the archive uncompressed and gzip'd, and its ramdisk image.
	CPIO      int64 `json:"cpio,omitempty"`
	Initramfs int64 `json:"initramfs,omitempty"`
	UInitrd   int64 `json:"uinitrd,omitempty"`
}

// lazyFile creates (truncates) its file at the first write: a build
// that runs nothing leaves the previous build's log in place.
type lazyFile struct {
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.Create(l.path)
	}
	if l.err != nil {
		return 0, fmt.Errorf("build log: %w", l.err)
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// DefaultCache is bootrig's cache: $BOOTRIG_CACHE, else ~/.cache/bootrig.
func DefaultCache() string {
	if d := os.Getenv("BOOTRIG_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "bootrig")
}

// boardDir is the board's build directory in the cache.
func boardDir(cache, board string) string { return filepath.Join(cache, board) }

// DefaultOut is where a board's build results go by default.
func DefaultOut(cache, board string) string { return filepath.Join(cache, board, "out") }

// Build builds what is stale for the board and returns the paths of the
// results. A second call with nothing changed runs no make and returns
// in well under two seconds. Builds of the same board are serialized
// with a lock in the cache, so concurrent callers wait for each other.
func Build(ctx context.Context, c Config) (Result, error) {
	start := time.Now()
	if c.Board == nil {
		return Result{}, errors.New("build: no board profile in the config")
	}
	c = c.withDefaults()
	bdir := boardDir(c.Cache, c.Board.Name)
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return Result{}, fmt.Errorf("build: %w", err)
	}
	unlock, err := lock(ctx, filepath.Join(bdir, ".lock"), c.Progress)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	res := Result{Log: filepath.Join(bdir, "build.log"), Compiled: []string{}}
	logf := &lazyFile{path: res.Log}
	defer logf.Close()
	r := &runner{Log: logf, LogPath: res.Log, Out: c.Progress, Bar: c.Bar, Tail: 40}
	prefixes := c.Board.CrossCompile
	if c.CrossCompile != "" {
		prefixes = []string{c.CrossCompile}
	}
	if res.Toolchain, err = findToolchain(ctx, prefixes); err != nil {
		return res, err
	}
	fmt.Fprintf(c.Progress, "toolchain: %s\n", res.Toolchain)
	res.Root, res.Limits = c.Root, c.Board.Limits
	b := builder{c: c, r: r, res: &res, dir: bdir, archiveID: new(string)}
	if err := b.run(ctx); err != nil {
		return res, err
	}
	res.Sizes = sizes(res)
	res.Elapsed = time.Since(start)
	return res, checkSizes(c.Board, res.Sizes)
}

func (c Config) withDefaults() Config {
	if c.Cache == "" {
		c.Cache = DefaultCache()
	}
	if c.Out == "" {
		c.Out = DefaultOut(c.Cache, c.Board.Name)
	}
	if c.Jobs <= 0 {
		c.Jobs = runtime.NumCPU()
	}
	if c.Root == "" {
		c.Root = c.Board.RootMode()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// lock takes an exclusive flock on path, waiting (until ctx is done)
// for another build of the same board to finish.
func lock(ctx context.Context, path string, progress io.Writer) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("build lock: %w", err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for said := false; ; said = true {
		unlock, ok, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("build lock %s: %w", path, err)
		}
		if ok {
			return unlock, nil
		}
		if !said {
			fmt.Fprintf(progress, "waiting for another bootrig build to release %s\n", path)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for another bootrig build to release %s: %w", path, ctx.Err())
		}
	}
}

// tryLock takes the exclusive flock on path (made if missing) if no one
// holds it; ok is false, with no error, while another does.
func tryLock(path string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return func() { f.Close() }, true, nil
	}
	f.Close()
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, false, nil
	}
	return nil, false, err
}

func sizes(res Result) Sizes {
	size := func(p string) int64 {
		if p == "" {
			return 0
		}
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	s := Sizes{ZImage: size(res.ZImage), UImage: size(res.UImage), Busybox: size(res.Busybox),
		CPIO: size(res.CPIO), Initramfs: size(res.Initramfs), UInitrd: size(res.UInitrd), UBoot: size(res.UBoot)}
	if res.RootFS != "" {
		filepath.WalkDir(res.RootFS, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if fi, err := d.Info(); err == nil {
				s.RootFS += fi.Size()
			}
			return nil
		})
	}
	return s
}
