package nfsroot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"

	nfs "github.com/willscott/go-nfs"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// createhow3 modes.
const (
	createUnchecked = 0
	createGuarded   = 1
	createExclusive = 2
)

// made is the outcome of a CREATE, MKDIR, SYMLINK or MKNOD.
type made struct {
	n  *node
	st unix.Statx_t
}

// createReply writes the common CREATE/MKDIR/SYMLINK/MKNOD result.
func (r *request) createReply(e *encoder, dir *os.File, dst *unix.Statx_t, m *made, err error) {
	e.uint32(uint32(status(err)))
	if err == nil {
		a := r.x.attrOf(&m.st)
		e.bool(true)
		e.opaque(m.n.handle())
		e.postOp(&a)
	}
	if dir == nil {
		e.wcc(nil, nil)
		return
	}
	if after, serr := fstatx(dir); serr == nil {
		a := r.x.attrOf(&after)
		e.wcc(dst, &a)
		return
	}
	e.wcc(dst, nil)
}

// makeIn opens the directory of a diropargs3 and runs mk for name; mk
// creates the object and returns its attributes.
func (r *request) makeIn(e *encoder, h []byte, name string, mk func(dn *node, dir *os.File, dst *unix.Statx_t) (unix.Statx_t, error)) {
	dn, dir, dst, err := r.x.dirOf(h)
	if err != nil {
		r.createReply(e, nil, nil, nil, err)
		return
	}
	defer dir.Close()
	if err = checkName(name); err == nil && r.s.ReadOnly {
		err = errReadOnly
	}
	var m made
	if err == nil {
		m.st, err = mk(dn, dir, &dst)
	}
	if err == nil {
		m.n = dn.child(name, &m.st)
		err = r.x.record(dn, m.n, links(&m.st))
	}
	r.createReply(e, dir, &dst, &m, err)
}

// own sets a new object's owner and mode: in the overlay, or on the host
// with --real-ownership. typ and rdev describe a device placeholder.
func (r *request) own(dir *os.File, dst *unix.Statx_t, name string, st *unix.Statx_t, sa sattr, defMode uint32, extra func(*meta)) error {
	pa := r.x.attrOf(dst)
	uid, gid := r.cred.uid, r.cred.gid
	if pa.mode&unix.S_ISGID != 0 {
		gid = pa.gid
	}
	if sa.setUID {
		uid = sa.uid
	}
	if sa.setGID {
		gid = sa.gid
	}
	mode := defMode
	if sa.setMode {
		mode = sa.mode & 0o7777
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && pa.mode&unix.S_ISGID != 0 {
		mode |= unix.S_ISGID
	}
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if r.x.real {
		// Owner before mode: a chown clears setuid and setgid.
		if err := unix.Fchownat(int(dir.Fd()), name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if !isLink {
			if err := unix.Fchmodat(int(dir.Fd()), name, mode, 0); err != nil {
				return err
			}
		}
		if extra != nil {
			return r.x.updateMeta(st, extra)
		}
		return nil
	}
	if !isLink {
		if err := unix.Fchmodat(int(dir.Fd()), name, hostMode(mode, isDir), 0); err != nil {
			return err
		}
	}
	if uid == 0 && gid == 0 && extra == nil && (isLink || hostMode(mode, isDir) == mode) {
		// What the host shows is the board's view: no record (and none
		// left over from an earlier file with this inode number).
		return r.x.dropMeta(keyOf(st))
	}
	return r.x.updateMeta(st, func(m *meta) {
		*m = meta{btime: m.btime, set: metaUID | metaGID | metaMode, uid: uid, gid: gid, mode: mode}
		if extra != nil {
			extra(m)
		}
	})
}

func nfsCreate(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	name := r.args.string(nfs.MNTNameLen + 1)
	how := r.args.uint32()
	var sa sattr
	var verf []byte
	switch how {
	case createUnchecked, createGuarded:
		sa = r.args.sattr()
	case createExclusive:
		verf = r.args.fixed(8)
	default:
		return errGarbage
	}
	if r.args.err != nil {
		return r.args.err
	}
	r.makeIn(e, h, name, func(dn *node, dir *os.File, dst *unix.Statx_t) (unix.Statx_t, error) {
		fd, err := openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			return r.x.createExisting(dir, name, how, sa, verf)
		}
		if err != nil {
			return unix.Statx_t{}, err
		}
		if sa.setSize {
			err = unix.Ftruncate(fd, int64(sa.size))
		}
		unix.Close(fd)
		if err != nil {
			return unix.Statx_t{}, err
		}
		st, err := statxAt(dir, name)
		if err != nil {
			return st, err
		}
		var extra func(*meta)
		if how == createExclusive {
			v := binary.BigEndian.Uint64(verf)
			extra = func(m *meta) { m.set |= metaVerf; m.createVerf = v }
		}
		mode := uint32(0o644)
		if how == createExclusive {
			mode = 0o600 // until the client's SETATTR
		}
		if err := r.own(dir, dst, name, &st, sa, mode, extra); err != nil {
			return st, err
		}
		return statxAt(dir, name)
	})
	return nil
}

// createExisting answers a CREATE of a name that exists: UNCHECKED
// opens it (applying a size), GUARDED fails, EXCLUSIVE succeeds only for
// the retry of the same create (same verifier).
func (x *Export) createExisting(dir *os.File, name string, how uint32, sa sattr, verf []byte) (unix.Statx_t, error) {
	st, err := statxAt(dir, name)
	if err != nil {
		return st, err
	}
	switch how {
	case createGuarded:
		return st, unix.EEXIST
	case createExclusive:
		m, ok := x.st.meta(keyOf(&st), btimeOf(&st))
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], m.createVerf)
		if !ok || m.set&metaVerf == 0 || !bytes.Equal(v[:], verf) {
			return st, unix.EEXIST
		}
		return st, nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return st, unix.EEXIST
	}
	if sa.setSize {
		fd, err := openat(dir, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return st, err
		}
		err = unix.Ftruncate(fd, int64(sa.size))
		unix.Close(fd)
		if err != nil {
			return st, err
		}
	}
	return statxAt(dir, name)
}

func nfsMkdir(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	name := r.args.string(nfs.MNTNameLen + 1)
	sa := r.args.sattr()
	if r.args.err != nil {
		return r.args.err
	}
	r.makeIn(e, h, name, func(dn *node, dir *os.File, dst *unix.Statx_t) (unix.Statx_t, error) {
		if err := unix.Mkdirat(int(dir.Fd()), name, 0o700); err != nil {
			return unix.Statx_t{}, err
		}
		st, err := statxAt(dir, name)
		if err != nil {
			return st, err
		}
		if err := r.own(dir, dst, name, &st, sa, 0o755, nil); err != nil {
			return st, err
		}
		return statxAt(dir, name)
	})
	return nil
}

func nfsSymlink(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	name := r.args.string(nfs.MNTNameLen + 1)
	sa := r.args.sattr()
	target := r.args.string(4096)
	if r.args.err != nil {
		return r.args.err
	}
	r.makeIn(e, h, name, func(dn *node, dir *os.File, dst *unix.Statx_t) (unix.Statx_t, error) {
		if target == "" || bytes.IndexByte([]byte(target), 0) >= 0 {
			return unix.Statx_t{}, unix.EINVAL
		}
		// The target is stored verbatim: the board resolves it.
		if err := unix.Symlinkat(target, int(dir.Fd()), name); err != nil {
			return unix.Statx_t{}, err
		}
		st, err := statxAt(dir, name)
		if err != nil {
			return st, err
		}
		sa.setMode = false
		if err := r.own(dir, dst, name, &st, sa, 0o777, nil); err != nil {
			return st, err
		}
		return st, nil
	})
	return nil
}

// ftype3 values MKNOD accepts.
var mknodTypes = map[nfs.FileType]uint32{
	nfs.FileTypeCharacter: unix.S_IFCHR,
	nfs.FileTypeBlock:     unix.S_IFBLK,
	nfs.FileTypeSocket:    unix.S_IFSOCK,
	nfs.FileTypeFIFO:      unix.S_IFIFO,
}

func nfsMknod(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	name := r.args.string(nfs.MNTNameLen + 1)
	typ := nfs.FileType(r.args.uint32())
	var sa sattr
	var major, minor uint32
	ifmt, known := mknodTypes[typ]
	if known {
		sa = r.args.sattr()
		if typ == nfs.FileTypeCharacter || typ == nfs.FileTypeBlock {
			major, minor = r.args.uint32(), r.args.uint32()
		}
	}
	if r.args.err != nil {
		return r.args.err
	}
	if !known {
		e.uint32(uint32(nfs.NFSStatusBadType))
		e.wcc(nil, nil)
		return nil
	}
	r.makeIn(e, h, name, func(dn *node, dir *os.File, dst *unix.Statx_t) (unix.Statx_t, error) {
		if r.x.real {
			err := unix.Mknodat(int(dir.Fd()), name, ifmt|0o600, int(unix.Mkdev(major, minor)))
			if err != nil {
				return unix.Statx_t{}, err
			}
		} else {
			fd, err := openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			if err != nil {
				return unix.Statx_t{}, err
			}
			unix.Close(fd)
		}
		st, err := statxAt(dir, name)
		if err != nil {
			return st, err
		}
		err = r.own(dir, dst, name, &st, sa, 0o644, func(m *meta) {
			if !r.x.real {
				m.set |= metaType
				m.ftype, m.major, m.minor = ifmt, major, minor
			}
		})
		if err != nil {
			return st, err
		}
		return statxAt(dir, name)
	})
	return nil
}

func nfsLink(r *request, e *encoder) error {
	fh := r.args.opaque(fhMax)
	dh := r.args.opaque(fhMax)
	name := r.args.string(nfs.MNTNameLen + 1)
	if r.args.err != nil {
		return r.args.err
	}
	fail := func(err error, fa *attr) error {
		e.uint32(uint32(status(err)))
		e.postOp(fa)
		e.wcc(nil, nil)
		return nil
	}
	if r.s.ReadOnly {
		return fail(errReadOnly, nil)
	}
	if err := checkName(name); err != nil {
		return fail(err, nil)
	}
	fn, err := r.x.resolve(fh)
	if err != nil {
		return fail(err, nil)
	}
	src, fst, err := r.x.parentDir(fn)
	if err != nil {
		return fail(err, nil)
	}
	defer src.Close()
	_, dir, dst, err := r.x.dirOf(dh)
	if err != nil {
		fa := r.x.attrOf(&fst)
		return fail(err, &fa)
	}
	defer dir.Close()
	if fst.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = unix.EISDIR
	} else {
		err = unix.Linkat(int(src.Fd()), fn.name(), int(dir.Fd()), name, 0)
	}
	if after, serr := statxAt(src, fn.name()); serr == nil {
		fst = after
	}
	if err == nil {
		// Both names are the file's now: either can carry its handle.
		r.x.st.db.Update(func(tx *bolt.Tx) error {
			src := nodeRec{btime: fn.btime, parent: keyOf(&dst), name: name}
			if pn, ok := getNode(tx, fn.key); ok {
				if err := putAlias(tx, fn.key, pn); err != nil {
					return err
				}
			}
			return putAlias(tx, fn.key, src)
		})
	}
	fa := r.x.attrOf(&fst)
	e.uint32(uint32(status(err)))
	e.postOp(&fa)
	if after, serr := fstatx(dir); serr == nil {
		da := r.x.attrOf(&after)
		e.wcc(&dst, &da)
	} else {
		e.wcc(&dst, nil)
	}
	return nil
}
