package crossbuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bootrig/bootrig/devtable"
)

// rootFS is how a root filesystem directory is assembled.
type rootFS struct {
	Dir      string // the rootfs directory (created)
	DevTable string // where the device table for the NFS server goes
	Console  string // the board's console device: "ttyAMA0"
	Hostname string
	Busybox  string // the built busybox binary
	Links    string // its busybox.links
	Overlays []string
	Clean    bool // start from an empty directory
}

// Assemble builds the root filesystem: the skeleton's directories and
// files (only those missing: a rebuild keeps what the board or the user
// wrote), busybox and its applet links, the overlays on top (they win),
// and the device table beside the directory. All writes stay inside Dir
// (os.Root), whatever symlinks it holds.
func (r rootFS) Assemble() error {
	if r.Clean {
		if err := os.RemoveAll(r.Dir); err != nil {
			return fmt.Errorf("rootfs: clean %s: %w", r.Dir, err)
		}
		if r.DevTable != "" {
			os.Remove(r.DevTable)
		}
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	root, err := os.OpenRoot(r.Dir)
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	defer root.Close()
	for _, step := range []func(*os.Root) error{r.skeleton, r.busybox, r.overlays} {
		if err := step(root); err != nil {
			return fmt.Errorf("rootfs %s: %w", r.Dir, err)
		}
	}
	return r.writeDevTable()
}

func (r rootFS) skeleton(root *os.Root) error {
	for _, d := range skeletonDirs {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for d, mode := range map[string]fs.FileMode{"tmp": 0o777 | fs.ModeSticky, "root": 0o700} {
		if err := root.Chmod(d, mode); err != nil {
			return err
		}
	}
	for _, f := range skeleton(r.Console, r.Hostname) {
		if err := upgradeSuperseded(root, f); err != nil {
			return err
		}
		if err := createOnce(root, f.Path, []byte(f.Data), f.Mode); err != nil {
			return err
		}
	}
	if _, err := root.Lstat(initLink); errors.Is(err, fs.ErrNotExist) {
		return root.Symlink(initTarget, initLink)
	}
	return nil
}

// upgradeSuperseded replaces f's file when it holds what an earlier
// bootrig wrote there, unedited (see superseded).
func upgradeSuperseded(root *os.Root, f skelFile) error {
	old, err := root.ReadFile(f.Path)
	if err != nil {
		return nil // missing: createOnce writes it; unreadable: left alone
	}
	sum := sha256.Sum256(old)
	if !slices.Contains(superseded[f.Path], hex.EncodeToString(sum[:])) {
		return nil
	}
	return replaceFile(root, f.Path, []byte(f.Data), f.Mode)
}

// createOnce writes a file unless something is already at name.
func createOnce(root *os.Root, name string, data []byte, mode fs.FileMode) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return root.Chmod(name, mode) // umask
}

// busybox installs the binary (replacing it atomically when it changed,
// so a board running from this rootfs keeps its open copy) and creates
// the applet links that are missing.
func (r rootFS) busybox(root *os.Root) error {
	if r.Busybox == "" {
		return nil
	}
	bin, err := os.ReadFile(r.Busybox)
	if err != nil {
		return err
	}
	if err := replaceFile(root, "bin/busybox", bin, 0o755); err != nil {
		return err
	}
	links, err := os.ReadFile(r.Links)
	if err != nil {
		return err
	}
	for _, l := range parseLinks(links) {
		if _, err := root.Lstat(l); err == nil {
			continue
		}
		if err := root.MkdirAll(path.Dir(l), 0o755); err != nil {
			return err
		}
		if err := root.Symlink(linkTarget(l), l); err != nil {
			return err
		}
	}
	return nil
}

// parseLinks reads busybox.links: one absolute applet path per line.
// It returns them relative to the root ("bin/ls").
func parseLinks(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.Trim(path.Clean("/"+strings.TrimSpace(sc.Text())), "/")
		if l != "" && l != "bin/busybox" && !strings.Contains(l, "..") {
			out = append(out, l)
		}
	}
	return out
}

// linkTarget is the relative symlink from an applet path to /bin/busybox:
// "usr/bin/env" → "../../bin/busybox", "bin/ls" → "busybox".
func linkTarget(applet string) string {
	rel, err := filepath.Rel(path.Dir(applet), "bin")
	if err != nil {
		return "/bin/busybox"
	}
	return path.Join(filepath.ToSlash(rel), "busybox")
}

// replaceFile writes data at name unless it already holds exactly that,
// through a temporary file and a rename.
func replaceFile(root *os.Root, name string, data []byte, mode fs.FileMode) error {
	if old, err := root.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return root.Chmod(name, mode)
	}
	tmp := name + ".bootrig-new"
	if err := root.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := root.Chmod(tmp, mode); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}

// overlays copies each overlay directory over the rootfs, like
// Buildroot's BR2_ROOTFS_OVERLAY: files and symlinks replace what is
// there, directories merge.
func (r rootFS) overlays(root *os.Root) error {
	for _, o := range r.Overlays {
		if err := copyOverlay(root, o); err != nil {
			return fmt.Errorf("--overlay %s: %w", o, err)
		}
	}
	return nil
}

func copyOverlay(root *os.Root, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := root.MkdirAll(rel, 0o755); err != nil {
				return err
			}
			return root.Chmod(rel, info.Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid))
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return root.Symlink(target, rel)
		case d.Type().IsRegular():
			return copyFileInto(root, p, rel, info.Mode())
		}
		return fmt.Errorf("%s: %s files cannot be copied; list device nodes in the device table", p, d.Type())
	})
}

func copyFileInto(root *os.Root, src, rel string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := root.Lstat(rel); err == nil && !fi.Mode().IsRegular() {
		if err := root.RemoveAll(rel); err != nil {
			return err
		}
	}
	out, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return root.Chmod(rel, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

func (r rootFS) writeDevTable() error {
	if r.DevTable == "" {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("# Device table (gen_init_cpio syntax) for " + r.Dir + ", written by 'bootrig build'.\n")
	if err := devtable.Write(&b, DeviceTable(r.Console)); err != nil {
		return err
	}
	f, err := os.OpenFile(r.DevTable, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil // the user's edits win, as in the rootfs
	}
	if err != nil {
		return fmt.Errorf("device table: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("device table %s: %w", r.DevTable, err)
	}
	return f.Close()
}
