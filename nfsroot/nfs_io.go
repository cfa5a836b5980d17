package nfsroot

import (
	"encoding/binary"
	"errors"
	"io"
	"os"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// stable_how (RFC 1813 3.3.7).
const (
	unstable = 0
	dataSync = 1
	fileSync = 2
)

// nfsRead is READ (RFC 1813 section 3.3.6): it reads from a regular file.
func nfsRead(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	off := r.args.Uint64()
	count := r.args.Uint32()
	if r.args.Err() != nil {
		return r.args.Err()
	}
	fail := func(err error) error {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	n, err := r.x.resolve(h)
	if err != nil {
		return fail(err)
	}
	f, err := r.x.files.open(r.x, n, false)
	if err != nil {
		return fail(err)
	}
	defer r.x.files.release(f)
	st, err := fstatx(f.f)
	if err != nil {
		return fail(err)
	}
	count = min(count, r.maxReply)
	a := r.x.attrOf(&st)
	if err := r.user().mayRead(&a); err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(&a)
		return nil
	}
	e.Reserve(int(count) + 256)
	head := len(e.B)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	// count, eof and the data's length are patched in after the read,
	// which goes straight into the reply.
	at := len(e.B)
	e.Uint32(0)
	e.Uint32(0)
	e.Uint32(0)
	start := len(e.B)
	e.B = e.B[:start+int(count)]
	got, err := f.f.ReadAt(e.B[start:], int64(off))
	if err != nil && !errors.Is(err, io.EOF) {
		e.B = e.B[:head]
		return fail(err)
	}
	e.B = e.B[:start+got]
	for i := got; i%4 != 0; i++ {
		e.B = append(e.B, 0)
	}
	eof := errors.Is(err, io.EOF) || off+uint64(got) >= st.Size
	binary.BigEndian.PutUint32(e.B[at:], uint32(got))
	if eof {
		binary.BigEndian.PutUint32(e.B[at+4:], 1)
	}
	binary.BigEndian.PutUint32(e.B[at+8:], uint32(got))
	return nil
}

// nfsWrite is WRITE (RFC 1813 section 3.3.7): it writes to a regular file.
func nfsWrite(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	off := r.args.Uint64()
	count := r.args.Uint32()
	stable := r.args.Uint32()
	data := r.args.Opaque(maxIO)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	if int(count) < len(data) {
		data = data[:count]
	}
	fail := func(err error) error {
		e.Uint32(uint32(status(err)))
		e.wcc(nil, nil)
		return nil
	}
	if r.s.ReadOnly {
		return fail(errReadOnly)
	}
	n, err := r.x.resolve(h)
	if err != nil {
		return fail(err)
	}
	f, err := r.x.files.open(r.x, n, true)
	if err != nil {
		return fail(err)
	}
	defer r.x.files.release(f)
	before, err := fstatx(f.f)
	if err != nil {
		return fail(err)
	}
	c, ba := r.user(), r.x.attrOf(&before)
	if err := c.mayWrite(&ba); err != nil {
		return fail(err)
	}
	if _, err := f.f.WriteAt(data, int64(off)); err != nil {
		return fail(err)
	}
	if err := r.x.dropPrivs(f.f, &before, &ba, c); err != nil {
		return fail(err)
	}
	committed := uint32(unstable)
	if stable != unstable {
		if err := syncData(f.f, stable == dataSync); err != nil {
			return fail(err)
		}
		if err := r.x.st.sync(); err != nil {
			return fail(err)
		}
		committed = stable
	}
	st, err := fstatx(f.f)
	e.Uint32(uint32(nfs.NFSStatusOk))
	if err == nil {
		a := r.x.attrOf(&st)
		e.wcc(&before, &a)
	} else {
		e.wcc(&before, nil)
	}
	e.Uint32(uint32(len(data)))
	e.Uint32(committed)
	e.Fixed(r.s.verf[:])
	return nil
}

// syncData makes f's data stable: fdatasync (what reading it back
// needs: data, size) when dataOnly, else fsync (all its metadata too).
func syncData(f *os.File, dataOnly bool) error {
	if !dataOnly {
		return f.Sync()
	}
	return eintr(func() error { return unix.Fdatasync(int(f.Fd())) })
}

// nfsCommit is COMMIT (RFC 1813 section 3.3.21): it makes earlier
// unstable writes stable, with fdatasync of the file (and of the
// metadata store when the board changed ownership or modes since its
// last sync, which is rare and otherwise waits up to metaSyncInterval).
func nfsCommit(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	r.args.Uint64()
	r.args.Uint32()
	if r.args.Err() != nil {
		return r.args.Err()
	}
	fail := func(err error) error {
		e.Uint32(uint32(status(err)))
		e.wcc(nil, nil)
		return nil
	}
	n, err := r.x.resolve(h)
	if err != nil {
		return fail(err)
	}
	f, err := r.x.files.open(r.x, n, false)
	if err != nil {
		return fail(err)
	}
	defer r.x.files.release(f)
	st, err := fstatx(f.f)
	if err != nil {
		return fail(err)
	}
	if a := r.x.attrOf(&st); r.user().mayWrite(&a) != nil {
		return fail(unix.EACCES)
	}
	if err := syncData(f.f, true); err != nil {
		return fail(err)
	}
	if err := r.x.st.sync(); err != nil {
		return fail(err)
	}
	if st, err = fstatx(f.f); err != nil {
		return fail(err)
	}
	a := r.x.attrOf(&st)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.wcc(nil, &a)
	e.Fixed(r.s.verf[:])
	return nil
}

// nfsReadlink is READLINK (RFC 1813 section 3.3.5): it reads a symbolic link's target.
func nfsReadlink(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	n, err := r.x.resolve(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	if n.isRoot() {
		e.Uint32(uint32(nfs.NFSStatusInval))
		e.postOp(nil)
		return nil
	}
	dir, st, err := r.x.parentDir(n)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	defer dir.Close()
	a := r.x.attrOf(&st)
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		e.Uint32(uint32(nfs.NFSStatusInval))
		e.postOp(&a)
		return nil
	}
	buf := make([]byte, 4096)
	got, err := unix.Readlinkat(int(dir.Fd()), n.name(), buf)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(&a)
		return nil
	}
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	e.Opaque(buf[:got])
	return nil
}

// fsHead decodes the single handle argument of FSSTAT, FSINFO and
// PATHCONF and writes the status and post_op_attr; ok reports success.
func fsHead(r *request, e *encoder) (ok bool, err error) {
	h := r.args.Opaque(fhMax)
	if r.args.Err() != nil {
		return false, r.args.Err()
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return false, nil
	}
	a := r.x.attrOf(&st)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	return true, nil
}

// nfsFsstat is FSSTAT (RFC 1813 section 3.3.18): it reports the export's space and file counts.
func nfsFsstat(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	var fs unix.Statfs_t
	if err := r.x.statfs(&fs); err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	a := r.x.attrOf(&st)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	bs := uint64(fs.Bsize)
	e.Uint64(fs.Blocks * bs)
	e.Uint64(fs.Bfree * bs)
	e.Uint64(fs.Bavail * bs)
	e.Uint64(fs.Files)
	e.Uint64(fs.Ffree)
	e.Uint64(fs.Ffree)
	e.Uint32(0)
	return nil
}

func (x *Export) statfs(fs *unix.Statfs_t) error {
	f, err := x.root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fstatfs(int(f.Fd()), fs)
}

// FSINFO properties.
const (
	fsfLink        = 0x01
	fsfSymlink     = 0x02
	fsfHomogeneous = 0x08
	fsfCanSetTime  = 0x10
)

// nfsFsinfo is FSINFO (RFC 1813 section 3.3.19): it reports the server's transfer sizes and properties.
func nfsFsinfo(r *request, e *encoder) error {
	ok, err := fsHead(r, e)
	if !ok {
		return err
	}
	e.Uint32(maxIO)  // rtmax
	e.Uint32(maxIO)  // rtpref
	e.Uint32(4096)   // rtmult
	e.Uint32(maxIO)  // wtmax
	e.Uint32(maxIO)  // wtpref
	e.Uint32(4096)   // wtmult
	e.Uint32(dtpref) // dtpref
	e.Uint64(1<<63 - 1)
	e.Uint32(0) // time_delta: 1 ns
	e.Uint32(1)
	e.Uint32(fsfLink | fsfSymlink | fsfHomogeneous | fsfCanSetTime)
	return nil
}

// nfsPathconf is PATHCONF (RFC 1813 section 3.3.20): it reports name and link limits.
func nfsPathconf(r *request, e *encoder) error {
	ok, err := fsHead(r, e)
	if !ok {
		return err
	}
	e.Uint32(65000) // linkmax
	e.Uint32(255)   // name_max
	e.Bool(true)    // no_trunc
	e.Bool(true)    // chown_restricted
	e.Bool(false)   // case_insensitive
	e.Bool(true)    // case_preserving
	return nil
}
