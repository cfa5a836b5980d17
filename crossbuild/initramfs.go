package crossbuild

import (
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/crossbuild/cpio"
	"github.com/bootrig/bootrig/devtable"
)

// record is one archive member: its header and where its data comes
// from (a host file) or what it is (a symlink target).
type record struct {
	hdr    cpio.Header
	source string   // regular files: host path of the contents
	data   string   // symlinks: the target
	names  []string // a hard-linked file's names, the data on the last (as gen_init_cpio)
}

// writeCPIO writes dir and the device table as a cpio newc archive (not
// compressed): the tree's files, directories and symlinks owned by root,
// then the table's entries over them (its nodes, modes and owners win;
// missing parent directories are added). Directories come before their
// contents and the archive ends with the TRAILER!!! record. No root
// privileges are needed: device nodes exist only in the archive.
func writeCPIO(w io.Writer, dir string, table []devtable.Entry) error {
	recs := map[string]*record{}
	if dir != "" {
		if err := walkTree(dir, recs); err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
	}
	for _, e := range table {
		if err := addEntry(recs, e); err != nil {
			return fmt.Errorf("initramfs: device table line %d (%s): %w", e.Line, e.Path, err)
		}
	}
	addParents(recs)
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	sort.Strings(names) // a parent is a prefix of its children: it sorts first
	cw := cpio.NewWriter(w)
	for _, n := range names {
		if err := writeRecord(cw, recs[n]); err != nil {
			return fmt.Errorf("initramfs: %s: %w", n, err)
		}
	}
	return cw.Close()
}

// writeInitramfs is writeCPIO compressed with gzip, as the kernel and
// U-Boot take it.
func writeInitramfs(w io.Writer, dir string, table []devtable.Entry) error {
	zw := gzip.NewWriter(w)
	if err := writeCPIO(zw, dir, table); err != nil {
		return err
	}
	return zw.Close()
}

func walkTree(dir string, recs map[string]*record) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		r := &record{hdr: cpio.Header{Name: filepath.ToSlash(rel), Mode: unixMode(fi.Mode()), Mtime: fi.ModTime().Unix()}}
		switch {
		case fi.Mode().IsRegular():
			r.hdr.Mode |= cpio.TypeRegular
			r.hdr.Size = fi.Size()
			r.source = p
		case fi.IsDir():
			r.hdr.Mode |= cpio.TypeDir
		case fi.Mode()&fs.ModeSymlink != 0:
			if r.data, err = os.Readlink(p); err != nil {
				return err
			}
			r.hdr.Mode |= cpio.TypeSymlink
			r.hdr.Size = int64(len(r.data))
		default:
			// A fifo or socket (any user can make one) or a device node
			// is kept as it is; the device table can still override it.
			if err := special(r, fi); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		recs[r.hdr.Name] = r
		return nil
	})
}

// special fills in the type (and device numbers) of a fifo, socket or
// device node found in the tree.
func special(r *record, fi fs.FileInfo) error {
	m := fi.Mode()
	switch {
	case m&fs.ModeNamedPipe != 0:
		r.hdr.Mode |= cpio.TypeFIFO
	case m&fs.ModeSocket != 0:
		r.hdr.Mode |= cpio.TypeSocket
	case m&fs.ModeDevice != 0:
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("device node without device numbers")
		}
		r.hdr.Mode |= cpio.TypeBlock
		if m&fs.ModeCharDevice != 0 {
			r.hdr.Mode = r.hdr.Mode&^cpio.TypeBlock | cpio.TypeChar
		}
		r.hdr.RMajor, r.hdr.RMinor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	default:
		return fmt.Errorf("file type %v cannot go into a cpio archive", m.Type())
	}
	return nil
}

func unixMode(m fs.FileMode) uint32 { return devtable.UnixMode(m) }

func addEntry(recs map[string]*record, e devtable.Entry) error {
	name := strings.TrimPrefix(path.Clean(e.Path), "/")
	r := &record{hdr: cpio.Header{Name: name, Mode: devtable.UnixMode(e.Mode), UID: e.UID, GID: e.GID}}
	switch e.Kind {
	case devtable.Dir:
		r.hdr.Mode |= cpio.TypeDir
		if old, ok := recs[name]; ok {
			r.hdr.Mtime = old.hdr.Mtime
		}
	case devtable.Nod:
		r.hdr.Mode |= cpio.TypeChar
		if e.DevType == 'b' {
			r.hdr.Mode = r.hdr.Mode&^cpio.TypeChar | cpio.TypeBlock
		}
		r.hdr.RMajor, r.hdr.RMinor = e.Major, e.Minor
	case devtable.Slink:
		r.hdr.Mode |= cpio.TypeSymlink
		r.data = e.Target
		r.hdr.Size = int64(len(e.Target))
	case devtable.Pipe:
		r.hdr.Mode |= cpio.TypeFIFO
	case devtable.Sock:
		r.hdr.Mode |= cpio.TypeSocket
	case devtable.File:
		return addFile(recs, r, e)
	default:
		return fmt.Errorf("unknown entry kind %v", e.Kind)
	}
	recs[name] = r
	return nil
}

// addFile adds a file entry: its location with ${VAR} expanded, and its
// hard links as one record kept under the name that sorts last, so that
// the parent directories of every name come before it.
func addFile(recs map[string]*record, r *record, e devtable.Entry) error {
	src := e.Location(os.Getenv)
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	r.hdr.Mode |= cpio.TypeRegular
	r.hdr.Size, r.hdr.Mtime, r.source = fi.Size(), fi.ModTime().Unix(), src
	key := r.hdr.Name
	if len(e.Links) > 0 {
		r.names = []string{r.hdr.Name}
		for _, l := range e.Links {
			r.names = append(r.names, strings.TrimPrefix(l, "/"))
		}
		for _, n := range r.names {
			delete(recs, n)
			key = max(key, n)
		}
		r.hdr.Nlink = uint32(len(r.names))
	}
	recs[key] = r
	return nil
}

// addParents adds a root-owned 0755 directory for every missing parent.
func addParents(recs map[string]*record) {
	for n := range recs {
		for d := path.Dir(n); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := recs[d]; !ok {
				recs[d] = &record{hdr: cpio.Header{Name: d, Mode: cpio.TypeDir | 0o755}}
			}
		}
	}
}

func writeRecord(cw *cpio.Writer, r *record) error {
	if len(r.names) > 0 {
		return writeLinks(cw, r)
	}
	if r.source != "" {
		f, err := os.Open(r.source)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.Size() != r.hdr.Size {
			return fmt.Errorf("%s changed size while packing", r.source)
		}
		if err := cw.WriteHeader(&r.hdr); err != nil {
			return err
		}
		_, err = io.Copy(cw, f)
		return err
	}
	if err := cw.WriteHeader(&r.hdr); err != nil {
		return err
	}
	_, err := io.WriteString(cw, r.data)
	return err
}

// writeLinks writes a hard-linked file: one record per name with the
// same inode and link count, the data on the last, as gen_init_cpio and
// GNU cpio do (the kernel links the names as it unpacks).
func writeLinks(cw *cpio.Writer, r *record) error {
	ino := cw.NextIno()
	for i, n := range r.names {
		one := *r
		one.names = nil
		one.hdr.Name, one.hdr.Ino = n, ino
		if i < len(r.names)-1 {
			one.hdr.Size, one.source = 0, ""
		}
		if err := writeRecord(cw, &one); err != nil {
			return err
		}
	}
	return nil
}

// Initramfs is an initramfs file to write.
type Initramfs struct {
	Dir   string
	Table []devtable.Entry
	// UImage wraps the gzip'd archive in a U-Boot legacy ramdisk image
	// (type ramdisk, compression none: the kernel unpacks the gzip).
	UImage bool
}

// WriteFile writes the initramfs to out, through a temporary file.
func (i Initramfs) WriteFile(out string) error {
	archive := out
	if i.UImage {
		archive = out + ".cpio.gz"
		defer os.Remove(archive)
	}
	err := writeAtomic(archive, func(w io.Writer) error { return writeInitramfs(w, i.Dir, i.Table) })
	if err != nil {
		return fmt.Errorf("initramfs %s: %w", out, err)
	}
	if !i.UImage {
		return nil
	}
	return writeUImage(ramdiskImage("initramfs"), archive, out)
}
