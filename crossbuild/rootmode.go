package crossbuild

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/devtable"
)

// Archive files in the build output, beside rootfs/.
const (
	cpioFile      = "initramfs.cpio"    // the tree as cpio newc (CONFIG_INITRAMFS_SOURCE of --root builtin)
	initramfsFile = "initramfs.cpio.gz" // the same, gzip'd
)

// ramFragment is what every root mode adds to the kernel's fragment: the
// initramfs unpacker and its gzip. In every mode, so that switching
// between nfs and initramfs leaves the kernel as it is (the shipped
// profiles already set both: then it changes nothing at all).
const ramFragment = "CONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\n"

// builtinFragment links the uncompressed archive at cpio into the
// kernel; the kernel image's own compression covers it.
func builtinFragment(cpio string) string {
	return "CONFIG_INITRAMFS_SOURCE=" + strconv.Quote(cpio) + "\nCONFIG_INITRAMFS_COMPRESSION_NONE=y\n"
}

// kernelFragment is the profile's kernel fragment plus what the root
// mode needs; cpio is the archive a builtin kernel links.
func kernelFragment(profile string, root boards.Root, cpio string) []byte {
	frag := profile
	if frag != "" && frag[len(frag)-1] != '\n' {
		frag += "\n"
	}
	frag += ramFragment
	if root == boards.RootBuiltin {
		frag += builtinFragment(cpio)
	}
	return []byte(frag)
}

// Errors of a root in RAM.
var (
	// ErrNotBootable marks a tree the kernel could not start from RAM:
	// no init to run, or no /dev/console to open.
	ErrNotBootable = errors.New("the root filesystem cannot boot from RAM")
	// ErrTooBig marks an image larger than its memory region or budget.
	ErrTooBig = errors.New("image too big")
)

// archive is the root filesystem packed for a RAM root.
type archive struct {
	CPIO []byte // cpio newc, uncompressed
	GZ   []byte // the same, gzip'd (deterministic: no name, no time)
}

// packArchive packs the tree and its device table, after checking that
// the kernel can start from it: init (the rdinit= the board is booted
// with) and /init are executables in the tree, and the table makes
// /dev/console.
func packArchive(dir string, table []devtable.Entry, init string) (archive, error) {
	if err := checkBootable(dir, table, init); err != nil {
		return archive{}, err
	}
	var raw bytes.Buffer
	if err := writeCPIO(&raw, dir, table); err != nil {
		return archive{}, err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		return archive{}, fmt.Errorf("initramfs: %w", err)
	}
	return archive{CPIO: raw.Bytes(), GZ: gz.Bytes()}, nil
}

// ID is the archive's content hash, an input of a builtin kernel.
func (a archive) ID() string {
	sum := sha256.Sum256(a.CPIO)
	return "initramfs " + hex.EncodeToString(sum[:])
}

// checkBootable reports, as ErrNotBootable, what would make the kernel
// fail to start from the tree as its initramfs: "No working init found"
// (neither init nor /init is an executable file in the tree, symlinks
// followed inside it) or "unable to open an initial console" (the device
// table makes no /dev/console character device 5:1).
func checkBootable(dir string, table []devtable.Entry, init string) error {
	for _, p := range []string{init, "/init"} {
		if err := executableIn(dir, p); err != nil {
			return fmt.Errorf("%w: %s: %w (the kernel would stop with \"No working init found\")", ErrNotBootable, p, err)
		}
	}
	for _, e := range table {
		if e.Path == "/dev/console" && e.Kind == devtable.Nod && e.DevType == 'c' && e.Major == 5 && e.Minor == 1 {
			return nil
		}
	}
	return fmt.Errorf("%w: the device table has no /dev/console (nod /dev/console 600 0 0 c 5 1): the kernel would say \"unable to open an initial console\"", ErrNotBootable)
}

// executableIn checks that name, resolved inside dir as the board would
// resolve it (absolute symlinks start at dir), is an executable regular
// file.
func executableIn(dir, name string) error {
	p, err := resolveIn(dir, name)
	if err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(dir, p))
	switch {
	case err != nil:
		return errors.New("not in the tree")
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", p)
	case fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not executable", p)
	}
	return nil
}

// resolveIn follows the symlinks of name inside dir (as if dir were /)
// and returns the final path, relative to dir.
func resolveIn(dir, name string) (string, error) {
	cur := filepath.Clean("/" + name)
	for hops := 0; hops < 40; hops++ {
		fi, err := os.Lstat(filepath.Join(dir, cur))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return cur, nil
		}
		target, err := os.Readlink(filepath.Join(dir, cur))
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(cur), target)
		}
		cur = filepath.Clean("/" + target)
	}
	return "", errors.New("too many levels of symbolic links")
}

// writeIfChanged writes data at path unless the file holds exactly that
// already (its mtime then stays: make sees nothing new); it reports
// whether it wrote.
func writeIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	return true, writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ArchiveFiles are the archive's files in a build output.
type ArchiveFiles struct {
	CPIO, Initramfs string
	UInitrd         string // "" unless asked for
	ID              string // the archive's content hash
	Sizes           Sizes  // CPIO and Initramfs (and UInitrd)
}

// WriteArchive packs the tree and its device table (refusing a tree the
// kernel cannot start: [ErrNotBootable]) into out: the cpio (linked by a builtin kernel), its gzip, and with
// initrd the U-Boot ramdisk image of the gzip (named for the board).
// Files are rewritten only when their content changed.
func WriteArchive(dir string, table []devtable.Entry, init, out string, initrd bool, board string) (ArchiveFiles, error) {
	a, err := packArchive(dir, table, init)
	if err != nil {
		return ArchiveFiles{}, fmt.Errorf("rootfs %s: %w", dir, err)
	}
	f := ArchiveFiles{CPIO: filepath.Join(out, cpioFile), Initramfs: filepath.Join(out, initramfsFile), ID: a.ID(),
		Sizes: Sizes{CPIO: int64(len(a.CPIO)), Initramfs: int64(len(a.GZ))}}
	if _, err := writeIfChanged(f.CPIO, a.CPIO); err != nil {
		return f, fmt.Errorf("initramfs: %w", err)
	}
	changed, err := writeIfChanged(f.Initramfs, a.GZ)
	if err != nil {
		return f, fmt.Errorf("initramfs: %w", err)
	}
	if !initrd {
		return f, nil
	}
	f.UInitrd = filepath.Join(out, boards.InitrdFile)
	if _, err := os.Stat(f.UInitrd); err != nil || changed {
		if err := writeUImage(ramdiskImage("initramfs "+board), f.Initramfs, f.UInitrd); err != nil {
			return f, err
		}
	}
	return f, nil
}

// archive packs the rootfs for a RAM root into the build output.
func (b builder) archive(context.Context) error {
	tree := b.res.RootFS
	if b.c.Tree != "" {
		tree = b.c.Tree
	}
	table, _, err := FindDevTable("", tree, b.c.Board.Linux.Console)
	if err != nil {
		return err
	}
	f, err := WriteArchive(tree, table, b.c.Board.Linux.Init, b.c.Out, b.c.Root == boards.RootInitramfs, b.c.Board.Name)
	if err != nil {
		return err
	}
	b.res.CPIO, b.res.Initramfs, b.res.UInitrd, *b.archiveID = f.CPIO, f.Initramfs, f.UInitrd, f.ID
	fmt.Fprintf(b.c.Progress, "initramfs: %s (%s, %s unpacked)\n", f.Initramfs, SizeText(f.Sizes.Initramfs), SizeText(f.Sizes.CPIO))
	return nil
}

// DevTablePath is where a rootfs directory's device table lives: beside
// it, DIR.devtable (bootrig build writes rootfs.devtable).
func DevTablePath(rootfs string) string { return filepath.Clean(rootfs) + ".devtable" }

// FindDevTable is the device table of the rootfs directory: file when
// given, else DIR.devtable beside the rootfs when it exists (as bootrig
// build writes it), else the default one for the board's console. from
// is the file read, "" for the default.
func FindDevTable(file, rootfs, console string) (table []devtable.Entry, from string, err error) {
	if file == "" {
		file = DevTablePath(rootfs)
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) || rootfs == "" {
			return DeviceTable(console), "", nil
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, file, fmt.Errorf("device table: %w", err)
	}
	defer f.Close()
	table, err = devtable.Parse(f, file)
	return table, file, err
}

// checkSizes checks the built images against the memory regions they are
// loaded into and the profile's budgets.
func checkSizes(p *boards.Profile, s Sizes) error {
	checks := []struct {
		what, where string
		size        int64
		max         boards.Size
	}{
		{"kernel uImage", "memory.regions.kernel", s.UImage, p.Memory.Regions["kernel"].Size},
		{"initramfs uInitrd", "memory.regions.ramdisk", s.UInitrd, p.Memory.Regions["ramdisk"].Size},
		{"kernel uImage", "limits.kernel", s.UImage, p.Limits.Kernel},
		{"initramfs (gzip'd cpio)", "limits.initramfs", s.Initramfs, p.Limits.Initramfs},
	}
	for _, c := range checks {
		if c.size > 0 && c.max > 0 && c.size > int64(c.max) {
			return fmt.Errorf("%w: the %s is %s (%d bytes), over the %s profile's %s of %s (%d bytes)",
				ErrTooBig, c.what, SizeText(c.size), c.size, p.Name, c.where, c.max, uint64(c.max))
		}
	}
	return nil
}

// SizeText is a size for people: 1.5M, 512.0K, 100B.
func SizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// kernelTree is the kernel's build directory (in the board's cache) for
// a root mode. A builtin kernel links the archive, so it has a tree of
// its own: switching modes rebuilds no kernel, and a new archive only
// relinks the builtin one.
func kernelTree(root boards.Root) string {
	if root == boards.RootBuiltin {
		return "kernel-build-builtin"
	}
	return "kernel-build"
}

// seedStep copies the plain kernel tree (objects, .config, mtimes) to a
// new one, so that a builtin kernel's first build compiles only what its
// configuration changes: usr/ and the link.
func seedStep(from, to string) step {
	return step{Phase: "kernel: seed " + filepath.Base(to) + " from " + filepath.Base(from), Args: []string{"cp", "-a", from, to}}
}

// seedBuiltinTree seeds a builtin kernel's missing tree from the plain
// one, when that one has been configured; through a temporary name, so
// an interrupted copy is never taken for a tree.
func (b builder) seedBuiltinTree(ctx context.Context, build string) error {
	if b.c.Root != boards.RootBuiltin {
		return nil
	}
	if _, err := os.Stat(build); err == nil {
		return nil
	}
	plain := filepath.Join(b.dir, kernelTree(boards.RootNFS))
	if _, err := os.Stat(filepath.Join(plain, ".config")); err != nil {
		return nil // nothing to seed from: a cold build
	}
	tmp := build + ".seed"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	if _, err := b.r.Run(ctx, seedStep(plain, tmp)); err != nil {
		return err
	}
	return os.Rename(tmp, build)
}
