package nfsroot

import (
	"bytes"
	"encoding/binary"
	"errors"

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
func (r *request) createReply(e *encoder, dir dirFD, dst *unix.Statx_t, m *made, err error) {
	e.Uint32(uint32(status(err)))
	if err == nil {
		a := r.x.attrOf(&m.st)
		e.Bool(true)
		e.Opaque(r.x.handle(m.n))
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

// creating is the directory a CREATE, MKDIR, SYMLINK or MKNOD makes an
// object in, and the caller.
type creating struct {
	dn  *node
	dir dirFD
	da  attr // the board's attributes of dir
	c   cred
}

// makeIn opens the directory of a diropargs3 and runs mk for name; mk
// checks the caller may create there, creates the object and returns
// its attributes.
func (r *request) makeIn(e *encoder, h []byte, name string, mk func(in *creating) (unix.Statx_t, error)) {
	dn, dir, dst, err := r.x.dirOf(h)
	if err != nil {
		r.createReply(e, nil, nil, nil, err)
		return
	}
	defer dir.Close()
	in := &creating{dn: dn, dir: dir, da: r.x.attrOf(&dst), c: r.user()}
	if err = checkName(name); err == nil && r.s.ReadOnly {
		err = errReadOnly
	}
	if err == nil {
		err = in.c.may(&in.da, permExec)
	}
	var m made
	if err == nil {
		m.st, err = mk(in)
	}
	if err == nil {
		m.n = dn.child(name, &m.st)
		err = r.x.record(dn, m.n, links(&m.st))
	}
	r.createReply(e, dir, &dst, &m, err)
}

// own gives the object p that in.c just made its owner, group and mode
// (sa, else defMode) and returns its attributes after.
func (r *request) own(in *creating, p *pathFd, sa sattr, defMode uint32, extra func(*meta)) (unix.Statx_t, error) {
	isDir := p.st.Mode&unix.S_IFMT == unix.S_IFDIR
	uid, gid, mode := in.c.newOwner(&in.da, sa, defMode, isDir)
	if err := r.x.setOwner(p, uid, gid, mode, extra); err != nil {
		return p.st, err
	}
	err := p.refresh()
	return p.st, err
}

// openMade opens the entry name that was just made in dir, checking it
// is still of the kind made (ifmt).
func openMade(dir dirFD, name string, ifmt uint32) (*pathFd, error) {
	p, err := openPathAt(int(dir.Fd()), name)
	if err != nil {
		return nil, err
	}
	if uint32(p.st.Mode)&unix.S_IFMT != ifmt {
		p.close()
		return nil, unix.ENOENT
	}
	return p, nil
}

// nfsCreate is CREATE (RFC 1813 section 3.3.8): it creates a regular file (unchecked, guarded or exclusive).
func nfsCreate(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	how := r.args.Uint32()
	var sa sattr
	var verf []byte
	switch how {
	case createUnchecked, createGuarded:
		sa = r.args.sattr()
	case createExclusive:
		verf = r.args.Fixed(8)
	default:
		return errGarbage
	}
	if r.args.Err() != nil {
		return r.args.Err()
	}
	r.makeIn(e, h, name, func(in *creating) (unix.Statx_t, error) {
		if _, err := statxAt(in.dir, name); err == nil {
			return r.x.createExisting(in, name, how, sa, verf)
		}
		if err := in.c.mayCreate(&in.da); err != nil {
			return unix.Statx_t{}, err
		}
		fd, err := openat(in.dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			return r.x.createExisting(in, name, how, sa, verf)
		}
		if err != nil {
			return unix.Statx_t{}, err
		}
		// Everything after acts on the descriptor the create returned.
		p := &pathFd{fd: fd}
		defer p.close()
		if sa.setSize {
			err = unix.Ftruncate(fd, int64(sa.size))
		}
		if err == nil {
			err = p.refresh()
		}
		if err != nil {
			return unix.Statx_t{}, err
		}
		var extra func(*meta)
		mode := uint32(0o644)
		if how == createExclusive {
			v := binary.BigEndian.Uint64(verf)
			extra = func(m *meta) { m.set |= metaVerf; m.createVerf = v }
			mode = 0o600 // until the client's SETATTR
		}
		return r.own(in, p, sa, mode, extra)
	})
	return nil
}

// createExisting answers a CREATE of a name that exists: UNCHECKED
// opens it (applying a size, for a caller that may write it), GUARDED
// fails, EXCLUSIVE succeeds only for the retry of the same create (same
// verifier).
func (x *Export) createExisting(in *creating, name string, how uint32, sa sattr, verf []byte) (unix.Statx_t, error) {
	p, err := openPathAt(int(in.dir.Fd()), name)
	if err != nil {
		return unix.Statx_t{}, err
	}
	defer p.close()
	st := p.st
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
	a := x.attrOf(&st)
	if a.typ != nfs.FileTypeRegular {
		return st, unix.EEXIST
	}
	if !sa.setSize {
		return st, nil
	}
	if err := in.c.mayWrite(&a); err != nil {
		return st, err
	}
	if err := p.truncate(int64(sa.size)); err != nil {
		return st, err
	}
	if mode, changed := in.c.afterWrite(&a); changed {
		if err := x.setOwner(p, a.uid, a.gid, mode, nil); err != nil {
			return st, err
		}
	}
	err = p.refresh()
	return p.st, err
}

// nfsMkdir is MKDIR (RFC 1813 section 3.3.9): it creates a directory.
func nfsMkdir(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	sa := r.args.sattr()
	if r.args.Err() != nil {
		return r.args.Err()
	}
	r.makeIn(e, h, name, func(in *creating) (unix.Statx_t, error) {
		if err := in.c.mayCreate(&in.da); err != nil {
			return unix.Statx_t{}, err
		}
		if err := unix.Mkdirat(int(in.dir.Fd()), name, 0o700); err != nil {
			return unix.Statx_t{}, err
		}
		p, err := openMade(in.dir, name, unix.S_IFDIR)
		if err != nil {
			return unix.Statx_t{}, err
		}
		defer p.close()
		return r.own(in, p, sa, 0o755, nil)
	})
	return nil
}

// nfsSymlink is SYMLINK (RFC 1813 section 3.3.10): it creates a symbolic link.
func nfsSymlink(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	sa := r.args.sattr()
	target := r.args.String(4096)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	r.makeIn(e, h, name, func(in *creating) (unix.Statx_t, error) {
		if target == "" || bytes.IndexByte([]byte(target), 0) >= 0 {
			return unix.Statx_t{}, unix.EINVAL
		}
		if err := in.c.mayCreate(&in.da); err != nil {
			return unix.Statx_t{}, err
		}
		// The target is stored verbatim: the board resolves it.
		if err := unix.Symlinkat(target, int(in.dir.Fd()), name); err != nil {
			return unix.Statx_t{}, err
		}
		p, err := openMade(in.dir, name, unix.S_IFLNK)
		if err != nil {
			return unix.Statx_t{}, err
		}
		defer p.close()
		sa.setMode = false
		return r.own(in, p, sa, 0o777, nil)
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

// nfsMknod is MKNOD (RFC 1813 section 3.3.11): it creates a device, FIFO or socket node.
func nfsMknod(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	typ := nfs.FileType(r.args.Uint32())
	var sa sattr
	var major, minor uint32
	ifmt, known := mknodTypes[typ]
	if known {
		sa = r.args.sattr()
		if typ == nfs.FileTypeCharacter || typ == nfs.FileTypeBlock {
			major, minor = r.args.Uint32(), r.args.Uint32()
		}
	}
	if r.args.Err() != nil {
		return r.args.Err()
	}
	if !known {
		e.Uint32(uint32(nfs.NFSStatusBadType))
		e.wcc(nil, nil)
		return nil
	}
	r.makeIn(e, h, name, func(in *creating) (unix.Statx_t, error) {
		if err := in.c.mayCreate(&in.da); err != nil {
			return unix.Statx_t{}, err
		}
		if (ifmt == unix.S_IFCHR || ifmt == unix.S_IFBLK) && !in.c.root() {
			return unix.Statx_t{}, unix.EPERM // CAP_MKNOD
		}
		p, err := r.x.mknod(in.dir, name, ifmt, major, minor)
		if err != nil {
			return unix.Statx_t{}, err
		}
		defer p.close()
		return r.own(in, p, sa, 0o644, func(m *meta) {
			if !r.x.real {
				m.set |= metaType
				m.ftype, m.major, m.minor = ifmt, major, minor
			}
		})
	})
	return nil
}

// mknod makes a device node, fifo or socket name in dir: on the host
// with --real-ownership, else an empty placeholder file.
func (x *Export) mknod(dir dirFD, name string, ifmt, major, minor uint32) (*pathFd, error) {
	if x.real {
		if err := unix.Mknodat(int(dir.Fd()), name, ifmt|0o600, int(unix.Mkdev(major, minor))); err != nil {
			return nil, err
		}
		return openMade(dir, name, ifmt)
	}
	fd, err := openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	p := &pathFd{fd: fd}
	if err := p.refresh(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// nfsLink is LINK (RFC 1813 section 3.3.15): it makes a hard link.
func nfsLink(r *request, e *encoder) error {
	fh := r.args.Opaque(fhMax)
	dh := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	fail := func(err error, fa *attr) error {
		e.Uint32(uint32(status(err)))
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
	da := r.x.attrOf(&dst)
	err = r.user().mayCreate(&da)
	if err == nil && fst.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = unix.EISDIR
	}
	if err == nil { // the entry itself: no AT_SYMLINK_FOLLOW
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
	e.Uint32(uint32(status(err)))
	e.postOp(&fa)
	if after, serr := fstatx(dir); serr == nil {
		da := r.x.attrOf(&after)
		e.wcc(&dst, &da)
	} else {
		e.wcc(&dst, nil)
	}
	return nil
}
