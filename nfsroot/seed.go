package nfsroot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/devtable"
)

// Seed creates the device table's entries in the export and records
// their ownership, modes and device numbers in the overlay (or, with
// RealOwnership, on the host). The table is authoritative for the
// ownership and modes of the paths it names: they are applied at every
// start. What is missing is created (a file entry's contents copied from
// its source); what exists keeps its contents. Device nodes, fifos and
// sockets are empty placeholder files on the host.
//
// A path the board changed into another kind of file (a device node
// removed and replaced by a symlink, a directory by a file) is the
// board's: Seed logs it (one line per entry) and leaves it alone.
func (x *Export) Seed(entries []devtable.Entry) error {
	for _, ent := range entries {
		where := ent.Path
		if ent.Line > 0 {
			where = fmt.Sprintf("line %d (%s)", ent.Line, ent.Path)
		}
		err := x.seedOne(ent)
		if errors.Is(err, ErrSeedConflict) {
			x.log.Warn("device table entry left as the board changed it", "entry", where, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("device table %s: %w", where, err)
		}
	}
	x.st.dirty.Store(true)
	return x.st.sync()
}

// ErrSeedConflict marks a device table entry whose path is, in the
// export, another kind of file than the entry makes (or lies under one).
var ErrSeedConflict = errors.New("exists in the export as another kind of file")

func (x *Export) seedOne(ent devtable.Entry) error {
	rel := strings.TrimPrefix(path.Clean("/"+ent.Path), "/")
	if rel == "" {
		return ErrBadName
	}
	parent, name := path.Dir(rel), path.Base(rel)
	dir, err := x.seedDir(parent)
	if err != nil {
		return err
	}
	defer dir.Close()
	return x.seedIn(dir, name, ent)
}

// seedDir makes and opens the directory parent of an entry.
func (x *Export) seedDir(parent string) (*os.File, error) {
	err := x.root.MkdirAll(parent, 0o755)
	var dir *os.File
	if err == nil {
		dir, err = x.root.OpenFile(parent, os.O_RDONLY|unix.O_DIRECTORY, 0)
	}
	if err != nil && (isNotFound(err) || errors.Is(err, unix.EEXIST)) {
		return nil, fmt.Errorf("%s: %w (%v)", parent, ErrSeedConflict, err)
	}
	return dir, err
}

// seedIn applies ent to name in dir.
func (x *Export) seedIn(dir *os.File, name string, ent devtable.Entry) error {
	st, err := statxAt(dir, name)
	exists := err == nil
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	want := map[devtable.Kind]uint32{
		devtable.Dir: unix.S_IFDIR, devtable.Slink: unix.S_IFLNK, devtable.File: unix.S_IFREG,
		devtable.Nod: unix.S_IFREG, devtable.Pipe: unix.S_IFREG, devtable.Sock: unix.S_IFREG,
	}[ent.Kind]
	ifmt := map[devtable.Kind]uint32{devtable.Pipe: unix.S_IFIFO, devtable.Sock: unix.S_IFSOCK, devtable.Nod: unix.S_IFCHR}[ent.Kind]
	if ent.Kind == devtable.Nod && ent.DevType == 'b' {
		ifmt = unix.S_IFBLK
	}
	if x.real && ifmt != 0 {
		want = ifmt
	}
	if exists && uint32(st.Mode)&unix.S_IFMT != want {
		return fmt.Errorf("%s %w", ent.Path, ErrSeedConflict)
	}
	if !exists { // an existing file keeps what the board wrote into it
		if err := x.seedCreate(dir, name, ent, ifmt); err != nil {
			return err
		}
	}
	p, err := openPathAt(int(dir.Fd()), name)
	if err != nil {
		return err
	}
	defer p.close()
	if uint32(p.st.Mode)&unix.S_IFMT != want {
		return fmt.Errorf("%s %w", ent.Path, ErrSeedConflict)
	}
	mode := devtable.UnixMode(ent.Mode)
	if x.real {
		return x.setHostOwner(p, ent.UID, ent.GID, mode, nil)
	}
	if ent.Kind != devtable.Slink {
		if err := p.chmod(hostMode(mode, ent.Kind == devtable.Dir)); err != nil {
			return err
		}
	}
	m := meta{btime: btimeOf(&p.st), set: metaUID | metaGID | metaMode, uid: ent.UID, gid: ent.GID, mode: mode}
	if ifmt != 0 {
		m.set |= metaType
		m.ftype, m.major, m.minor = ifmt, ent.Major, ent.Minor
	}
	return x.putMetaRaw(keyOf(&p.st), m)
}

func (x *Export) seedCreate(dir *os.File, name string, ent devtable.Entry, ifmt uint32) error {
	fd := int(dir.Fd())
	switch {
	case ent.Kind == devtable.Dir:
		return unix.Mkdirat(fd, name, 0o755)
	case ent.Kind == devtable.Slink:
		return unix.Symlinkat(ent.Target, fd, name)
	case ent.Kind == devtable.File:
		return copyInto(dir, name, ent.Location(os.Getenv))
	case x.real:
		return unix.Mknodat(fd, name, ifmt|0o600, int(unix.Mkdev(ent.Major, ent.Minor)))
	}
	nfd, err := openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	return unix.Close(nfd)
}

// copyInto writes the host file src as name in dir (replacing it).
func copyInto(dir *os.File, name, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fd, err := openat(dir, name, unix.O_CREAT|unix.O_TRUNC|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	out := os.NewFile(uintptr(fd), name)
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
