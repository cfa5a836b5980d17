package nfsroot

import (
	nfs "github.com/willscott/go-nfs"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// dirWcc writes wcc_data for a directory that was changed.
func (r *request) dirWcc(e *encoder, dir dirFD, before *unix.Statx_t) {
	if dir == nil {
		e.wcc(nil, nil)
		return
	}
	if after, err := fstatx(dir); err == nil {
		a := r.x.attrOf(&after)
		e.wcc(before, &a)
		return
	}
	e.wcc(before, nil)
}

// nfsRemove is REMOVE (RFC 1813 section 3.3.12): it removes a non-directory.
func nfsRemove(r *request, e *encoder) error { return r.unlink(e, 0) }

// nfsRmdir is RMDIR (RFC 1813 section 3.3.13): it removes an empty directory.
func nfsRmdir(r *request, e *encoder) error { return r.unlink(e, unix.AT_REMOVEDIR) }

// unlink serves REMOVE (flags 0) and RMDIR (AT_REMOVEDIR).
func (r *request) unlink(e *encoder, flags int) error {
	h := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	dn, dir, dst, err := r.x.dirOf(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.wcc(nil, nil)
		return nil
	}
	defer dir.Close()
	da := r.x.attrOf(&dst)
	err = r.x.unlink(dn, dir, &da, name, flags, r.user(), r.s.ReadOnly)
	e.Uint32(uint32(status(err)))
	r.dirWcc(e, dir, &dst)
	return nil
}

// unlink removes name from dn (open as dir, the board's attributes da)
// for c.
func (x *Export) unlink(dn *node, dir dirFD, da *attr, name string, flags int, c cred, readOnly bool) error {
	switch {
	case flags != 0 && name == ".":
		return unix.EINVAL
	case flags != 0 && name == "..":
		return unix.ENOTEMPTY
	}
	if err := checkName(name); err != nil {
		return err
	}
	if readOnly {
		return errReadOnly
	}
	if err := c.may(da, permExec); err != nil {
		return err
	}
	st, err := statxAt(dir, name)
	if err != nil {
		return err
	}
	va := x.attrOf(&st)
	if err := c.mayDelete(da, &va); err != nil {
		return err
	}
	if flags == 0 && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR
	}
	if err := unix.Unlinkat(int(dir.Fd()), name, flags); err != nil {
		return err
	}
	x.gone(dn.key, name, &st)
	return nil
}

// gone updates the store after the entry name of directory dirKey,
// whose attributes were st, was unlinked or replaced.
func (x *Export) gone(dirKey fileKey, name string, st *unix.Statx_t) {
	k := keyOf(st)
	x.files.drop(k)
	x.known.drop(k)
	defer x.known.drop(k)
	lost := false
	x.st.update(func(tx *bolt.Tx) error {
		if st.Nlink <= 1 || st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return x.st.forget(tx, k)
		}
		if err := delAlias(tx, k, dirKey, name); err != nil {
			return err
		}
		if rec, ok := getNode(tx, k); ok && rec.parent == dirKey && rec.name == name {
			lost = true
			return tx.Bucket(bucketNodes).Delete(k.bytes())
		}
		return nil
	})
	if lost {
		x.relink(k)
	}
}

// nfsRename is RENAME (RFC 1813 section 3.3.14): it renames an object, within the export.
func nfsRename(r *request, e *encoder) error {
	fh := r.args.Opaque(fhMax)
	fname := r.args.String(nfs.MNTNameLen + 1)
	th := r.args.Opaque(fhMax)
	tname := r.args.String(nfs.MNTNameLen + 1)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	fail := func(err error) error {
		e.Uint32(uint32(status(err)))
		e.wcc(nil, nil)
		e.wcc(nil, nil)
		return nil
	}
	fdn, fdir, fst, err := r.x.dirOf(fh)
	if err != nil {
		return fail(err)
	}
	defer fdir.Close()
	tdn, tdir, tst, err := r.x.dirOf(th)
	if err != nil {
		return fail(err)
	}
	defer tdir.Close()
	err = r.x.rename(renameDirs{fdn, fdir, r.x.attrOf(&fst)}, fname, renameDirs{tdn, tdir, r.x.attrOf(&tst)}, tname, r.user(), r.s.ReadOnly)
	e.Uint32(uint32(status(err)))
	r.dirWcc(e, fdir, &fst)
	r.dirWcc(e, tdir, &tst)
	return nil
}

// renameDirs is one side of a RENAME: the directory, open, and its
// board attributes.
type renameDirs struct {
	dn  *node
	dir dirFD
	a   attr
}

func (x *Export) rename(from renameDirs, fname string, to renameDirs, tname string, c cred, readOnly bool) error {
	if err := checkName(fname); err != nil {
		return err
	}
	if err := checkName(tname); err != nil {
		return err
	}
	if readOnly {
		return errReadOnly
	}
	fdn, fdir, tdn, tdir := from.dn, from.dir, to.dn, to.dir
	src, err := statxAt(fdir, fname)
	if err != nil {
		return err
	}
	dst, derr := statxAt(tdir, tname)
	if err := x.mayRename(from, &src, to, &dst, derr == nil, c); err != nil {
		return err
	}
	if err := unix.Renameat(int(fdir.Fd()), fname, int(tdir.Fd()), tname); err != nil {
		return err
	}
	if derr == nil && keyOf(&dst) != keyOf(&src) {
		x.gone(tdn.key, tname, &dst)
	}
	moved := tdn.child(tname, &src)
	x.known.drop(moved.key)
	defer x.known.drop(moved.key)
	return x.st.db.Update(func(tx *bolt.Tx) error {
		rec := nodeRec{btime: moved.btime, parent: tdn.key, name: tname}
		if links(&src) > 1 {
			if err := delAlias(tx, moved.key, fdn.key, fname); err != nil {
				return err
			}
			if err := putAlias(tx, moved.key, rec); err != nil {
				return err
			}
		}
		return putNode(tx, moved.key, rec)
	})
}

// mayRename is vfs_rename's permission check: c may delete the source
// entry, and delete the target entry or create in the target directory;
// a directory moving to another parent must be writable (its "..").
func (x *Export) mayRename(from renameDirs, src *unix.Statx_t, to renameDirs, dst *unix.Statx_t, exists bool, c cred) error {
	sa := x.attrOf(src)
	if err := c.mayDelete(&from.a, &sa); err != nil {
		return err
	}
	if exists {
		ta := x.attrOf(dst)
		if err := c.mayDelete(&to.a, &ta); err != nil {
			return err
		}
	} else if err := c.mayCreate(&to.a); err != nil {
		return err
	}
	if sa.typ == nfs.FileTypeDirectory && from.dn.key != to.dn.key {
		return c.may(&sa, permWrite)
	}
	return nil
}
