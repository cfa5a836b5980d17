package nfsroot

import (
	"errors"
	"os"

	nfs "github.com/willscott/go-nfs"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// object resolves a handle and stats the object, verified.
func (x *Export) object(h []byte) (*node, unix.Statx_t, error) {
	n, err := x.resolve(h)
	if err != nil {
		return nil, unix.Statx_t{}, err
	}
	st, err := x.stat(n)
	return n, st, err
}

// dirOf resolves a directory handle and opens the directory, verified.
// A handle of a non-directory is ENOTDIR.
func (x *Export) dirOf(h []byte) (*node, *os.File, unix.Statx_t, error) {
	n, err := x.resolve(h)
	if err != nil {
		return nil, nil, unix.Statx_t{}, err
	}
	f, st, err := x.openDir(n)
	if err != nil {
		// Classify: the object may exist but not be a directory.
		if ost, serr := x.stat(n); serr == nil && ost.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, nil, ost, unix.ENOTDIR
		}
		return nil, nil, unix.Statx_t{}, err
	}
	return n, f, st, nil
}

func nfsGetattr(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	if r.args.err != nil {
		return r.args.err
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.uint32(uint32(status(err)))
		return nil
	}
	a := r.x.attrOf(&st)
	e.uint32(uint32(nfs.NFSStatusOk))
	e.fattr(&a)
	return nil
}

// ACCESS bits (RFC 1813 3.3.4).
const (
	accessRead    = 0x01
	accessLookup  = 0x02
	accessModify  = 0x04
	accessExtend  = 0x08
	accessDelete  = 0x10
	accessExecute = 0x20
)

// accessFor computes the ACCESS answer for cred on a.
func accessFor(a *attr, c cred, want uint32, readOnly bool) uint32 {
	var rwx uint32
	switch {
	case c.uid == 0:
		rwx = 7
		if a.typ != nfs.FileTypeDirectory && a.mode&0o111 == 0 {
			rwx = 6
		}
	case c.uid == a.uid:
		rwx = a.mode >> 6 & 7
	case c.gid == a.gid || containsGID(c.gids, a.gid):
		rwx = a.mode >> 3 & 7
	default:
		rwx = a.mode & 7
	}
	var got uint32
	if rwx&4 != 0 {
		got |= accessRead
	}
	if rwx&2 != 0 {
		got |= accessModify | accessExtend | accessDelete
	}
	if rwx&1 != 0 {
		if a.typ == nfs.FileTypeDirectory {
			got |= accessLookup
		} else {
			got |= accessExecute
		}
	}
	if readOnly {
		got &^= accessModify | accessExtend | accessDelete
	}
	return got & want
}

func containsGID(gids []uint32, g uint32) bool {
	for _, x := range gids {
		if x == g {
			return true
		}
	}
	return false
}

func nfsAccess(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	want := r.args.uint32()
	if r.args.err != nil {
		return r.args.err
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	a := r.x.attrOf(&st)
	e.uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	e.uint32(accessFor(&a, r.cred, want, r.s.ReadOnly))
	return nil
}

func nfsSetattr(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	sa := r.args.sattr()
	guard := r.args.bool()
	var gsec, gnsec uint32
	if guard {
		gsec, gnsec = r.args.uint32(), r.args.uint32()
	}
	if r.args.err != nil {
		return r.args.err
	}
	n, st, err := r.x.object(h)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.wcc(nil, nil)
		return nil
	}
	switch {
	case r.s.ReadOnly:
		err = errReadOnly
	case guard && (uint32(st.Ctime.Sec) != gsec || st.Ctime.Nsec != gnsec):
		e.uint32(uint32(nfs.NFSStatusNotSync))
		a := r.x.attrOf(&st)
		e.wcc(&st, &a)
		return nil
	default:
		err = r.x.setattr(n, &st, sa)
	}
	after, serr := r.x.stat(n)
	e.uint32(uint32(status(err)))
	if serr != nil {
		e.wcc(&st, nil)
		return nil
	}
	a := r.x.attrOf(&after)
	e.wcc(&st, &a)
	return nil
}

// setattr applies sa to n (whose attributes are st).
func (x *Export) setattr(n *node, st *unix.Statx_t, sa sattr) error {
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if sa.setSize {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return unix.EISDIR
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return unix.EINVAL
		}
		f, err := x.openFile(n, true)
		if err != nil {
			return err
		}
		err = f.Truncate(int64(sa.size))
		f.Close()
		if err != nil {
			return err
		}
	}
	// Owner before mode: a chown clears setuid and setgid on the host.
	if sa.setUID || sa.setGID {
		if err := x.chown(n, st, sa); err != nil {
			return err
		}
	}
	if sa.setMode && !isLink {
		if err := x.chmod(n, st, sa.mode&0o7777); err != nil {
			return err
		}
	}
	if sa.atime != timeDont || sa.mtime != timeDont {
		ts := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		for i, t := range []struct {
			how uint32
			v   unix.Timespec
		}{{sa.atime, sa.atimeV}, {sa.mtime, sa.mtimeV}} {
			switch t.how {
			case timeServer:
				ts[i] = unix.Timespec{Nsec: unix.UTIME_NOW}
			case timeClient:
				ts[i] = t.v
			}
		}
		if err := x.atNode(n, func(dirfd int, name string, flags int) error {
			return unix.UtimesNanoAt(dirfd, name, ts[:], flags)
		}); err != nil {
			return err
		}
	}
	return nil
}

// atNode runs fn on n as (dirfd, name, AT_SYMLINK_NOFOLLOW), or on the
// root as (rootfd, "", AT_EMPTY_PATH).
func (x *Export) atNode(n *node, fn func(dirfd int, name string, flags int) error) error {
	if n.isRoot() {
		f, err := x.root.Open(".")
		if err != nil {
			return err
		}
		defer f.Close()
		return fn(int(f.Fd()), "", unix.AT_EMPTY_PATH)
	}
	dir, _, err := x.parentDir(n)
	if err != nil {
		return err
	}
	defer dir.Close()
	return fn(int(dir.Fd()), n.name(), unix.AT_SYMLINK_NOFOLLOW)
}

// hostMode is the permission a host object gets for board mode m: the
// board's rwx bits, always readable and writable by its host owner and
// never setuid/setgid on the host.
func hostMode(m uint32, dir bool) uint32 {
	if dir {
		return m&0o777 | 0o700
	}
	return m&0o777 | 0o600
}

func (x *Export) chmod(n *node, st *unix.Statx_t, mode uint32) error {
	dir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	host := hostMode(mode, dir)
	if x.real {
		host = mode
	}
	err := x.atNode(n, func(dirfd int, name string, flags int) error {
		if name == "" {
			return unix.Fchmod(dirfd, host)
		}
		return unix.Fchmodat(dirfd, name, host, 0)
	})
	if err != nil || x.real {
		return err
	}
	return x.updateMeta(st, func(m *meta) {
		m.set |= metaMode
		m.mode = mode
	})
}

func (x *Export) chown(n *node, st *unix.Statx_t, sa sattr) error {
	if x.real {
		uid, gid := -1, -1
		if sa.setUID {
			uid = int(sa.uid)
		}
		if sa.setGID {
			gid = int(sa.gid)
		}
		return x.atNode(n, func(dirfd int, name string, flags int) error {
			return unix.Fchownat(dirfd, name, uid, gid, flags)
		})
	}
	return x.updateMeta(st, func(m *meta) {
		if sa.setUID {
			m.set |= metaUID
			m.uid = sa.uid
		}
		if sa.setGID {
			m.set |= metaGID
			m.gid = sa.gid
		}
	})
}

// updateMeta changes st's overlay record. It reaches the disk with the
// next COMMIT or FILE_SYNC write, or within metaSyncInterval.
func (x *Export) updateMeta(st *unix.Statx_t, fn func(*meta)) error {
	k, bt := keyOf(st), btimeOf(st)
	err := x.st.update(func(tx *bolt.Tx) error {
		m, ok := metaTx(tx, k, bt) // not the mirror: it lags the commit
		if !ok {
			m = meta{btime: bt}
		}
		fn(&m)
		return x.st.putMeta(tx, k, m)
	})
	if err != nil {
		return errors.Join(unix.EIO, err)
	}
	x.st.dirty.Store(true)
	return nil
}
