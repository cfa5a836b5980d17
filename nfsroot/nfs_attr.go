package nfsroot

import (
	"errors"

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
func (x *Export) dirOf(h []byte) (*node, dirFD, unix.Statx_t, error) {
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

// nfsGetattr is GETATTR (RFC 1813 section 3.3.1): it returns a file's attributes.
func nfsGetattr(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		return nil
	}
	a := r.x.attrOf(&st)
	e.Uint32(uint32(nfs.NFSStatusOk))
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

// nfsAccess is ACCESS (RFC 1813 section 3.3.4): it says which accesses the caller has to a file.
func nfsAccess(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	want := r.args.Uint32()
	if r.args.Err() != nil {
		return r.args.Err()
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	a := r.x.attrOf(&st)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	e.Uint32(r.user().access(&a, want, r.s.ReadOnly))
	return nil
}

// nfsSetattr is SETATTR (RFC 1813 section 3.3.2): it changes a file's attributes, as far as the caller may.
func nfsSetattr(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	sa := r.args.sattr()
	guard := r.args.Bool()
	var gsec, gnsec uint32
	if guard {
		gsec, gnsec = r.args.Uint32(), r.args.Uint32()
	}
	if r.args.Err() != nil {
		return r.args.Err()
	}
	n, st, err := r.x.object(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.wcc(nil, nil)
		return nil
	}
	switch {
	case r.s.ReadOnly:
		err = errReadOnly
	case guard && (uint32(st.Ctime.Sec) != gsec || st.Ctime.Nsec != gnsec):
		e.Uint32(uint32(nfs.NFSStatusNotSync))
		a := r.x.attrOf(&st)
		e.wcc(&st, &a)
		return nil
	default:
		err = r.x.setattr(n, sa, r.user())
	}
	after, serr := r.x.stat(n)
	e.Uint32(uint32(status(err)))
	if serr != nil {
		e.wcc(&st, nil)
		return nil
	}
	a := r.x.attrOf(&after)
	e.wcc(&st, &a)
	return nil
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
