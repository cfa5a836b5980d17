package crossbuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrSource marks a source tree or tarball that cannot be used.
var ErrSource = errors.New("unusable source")

// source is a resolved source tree.
type source struct {
	Dir string // absolute path of the tree (holds its top Makefile)
	// ID identifies the tree's contents for the incremental stamp: the
	// tarball's path, size and mtime, or a directory's newest mtime and
	// file count.
	ID string
}

// defaultKernelTarball is Debian's linux-source package's tarball: the
// newest /usr/src/linux-source-*.tar.xz.
func defaultKernelTarball() (string, error) {
	m, _ := filepath.Glob("/usr/src/linux-source-*.tar.xz")
	if len(m) == 0 {
		return "", fmt.Errorf("%w: no /usr/src/linux-source-*.tar.xz: install it with 'apt-get install linux-source-6.1' or pass --kernel-src DIR|TARBALL", ErrSource)
	}
	sort.Strings(m)
	return m[len(m)-1], nil
}

// resolveSource turns a --kernel-src/--busybox-src value into a tree: a
// directory is used in place; a tarball is unpacked once into srcCache
// (a later call with the same tarball reuses the tree).
func resolveSource(ctx context.Context, r *runner, spec, srcCache string) (source, error) {
	abs, err := filepath.Abs(spec)
	if err != nil {
		return source{}, fmt.Errorf("%w: %s: %v", ErrSource, spec, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return source{}, fmt.Errorf("%w: %v", ErrSource, err)
	}
	if fi.IsDir() {
		return dirSource(abs)
	}
	return unpack(ctx, r, abs, fi, srcCache)
}

func dirSource(dir string) (source, error) {
	if _, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil {
		return source{}, fmt.Errorf("%w: %s has no top-level Makefile: is it a source tree?", ErrSource, dir)
	}
	id, err := treeID(dir)
	if err != nil {
		return source{}, fmt.Errorf("%w: %s: %v", ErrSource, dir, err)
	}
	return source{Dir: dir, ID: id}, nil
}

// treeID is a cheap fingerprint of a tree someone may edit: newest mtime
// and entry count (a few hundred ms for a kernel tree with a warm cache).
func treeID(dir string) (string, error) {
	var newest int64
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n++
		newest = max(newest, fi.ModTime().UnixNano())
		return nil
	})
	return fmt.Sprintf("dir:%s:%d:%d", dir, n, newest), err
}

// tarballStem is a tarball's name without its extensions:
// "linux-source-6.1.tar.xz" → "linux-source-6.1".
func tarballStem(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".tar.xz", ".tar.bz2", ".tar.gz", ".tgz", ".tar"} {
		if s, ok := strings.CutSuffix(base, ext); ok {
			return s
		}
	}
	return base
}

// unpackStep is tar extracting a tarball into dir.
func unpackStep(tarball, dir string) step {
	return step{Phase: "unpack " + filepath.Base(tarball), Args: []string{"tar", "-xf", tarball, "-C", dir}, Dir: dir}
}

func unpack(ctx context.Context, r *runner, tarball string, fi fs.FileInfo, srcCache string) (source, error) {
	id := fmt.Sprintf("tar:%s:%d:%d", tarball, fi.Size(), fi.ModTime().UnixNano())
	dest := filepath.Join(srcCache, tarballStem(tarball))
	marker := dest + ".unpacked"
	if b, err := os.ReadFile(marker); err == nil && string(b) == id {
		return source{Dir: dest, ID: id}, nil
	}
	tmp := dest + ".tmp"
	for _, d := range []string{dest, tmp} {
		if err := os.RemoveAll(d); err != nil {
			return source{}, err
		}
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return source{}, err
	}
	if _, err := r.Run(ctx, unpackStep(tarball, tmp)); err != nil {
		return source{}, err
	}
	top, err := onlyDir(tmp)
	if err != nil {
		return source{}, fmt.Errorf("%w: %s: %v", ErrSource, tarball, err)
	}
	if err := os.Rename(top, dest); err != nil {
		return source{}, err
	}
	os.RemoveAll(tmp)
	if err := os.WriteFile(marker, []byte(id), 0o644); err != nil {
		return source{}, err
	}
	return source{Dir: dest, ID: id}, nil
}

// onlyDir returns the tree inside an unpacked tarball: its single
// top-level directory, or dir itself when the tarball had no top level.
func onlyDir(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(ents) == 1 && ents[0].IsDir() {
		return filepath.Join(dir, ents[0].Name()), nil
	}
	if len(ents) == 0 {
		return "", errors.New("tarball is empty")
	}
	return dir, nil
}

// aptSourceStep fetches a Debian source package into dir with
// 'apt-get source' (deb-src must be enabled).
func aptSourceStep(pkg, dir string) step {
	return step{Phase: "apt-get source " + pkg, Args: []string{"apt-get", "source", pkg}, Dir: dir}
}

// debianSource returns the unpacked Debian source of pkg under dir
// (dir/pkg-VERSION), fetching it with apt-get source the first time.
func debianSource(ctx context.Context, r *runner, pkg, dir string) (source, error) {
	if s, ok := findDebianTree(pkg, dir); ok {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return source{}, err
	}
	if _, err := r.Run(ctx, aptSourceStep(pkg, dir)); err != nil {
		return source{}, fmt.Errorf("%w (is deb-src enabled in the apt sources? bootrig doctor --install enables it; or pass --%s-src DIR|TARBALL)", err, strings.ReplaceAll(pkg, "-", ""))
	}
	if s, ok := findDebianTree(pkg, dir); ok {
		return s, nil
	}
	return source{}, fmt.Errorf("%w: apt-get source %s left no %s-*/Makefile in %s", ErrSource, pkg, pkg, dir)
}

func findDebianTree(pkg, dir string) (source, bool) {
	m, _ := filepath.Glob(filepath.Join(dir, pkg+"-*", "Makefile"))
	if len(m) == 0 {
		return source{}, false
	}
	sort.Strings(m)
	tree := filepath.Dir(m[len(m)-1])
	return source{Dir: tree, ID: "debian:" + tree}, true
}
