package nfsroot

import (
	"encoding/binary"
	"errors"
	"io"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// stable_how (RFC 1813 3.3.7).
const (
	unstable = 0
	dataSync = 1
	fileSync = 2
)

func nfsRead(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	off := r.args.uint64()
	count := r.args.uint32()
	if r.args.err != nil {
		return r.args.err
	}
	fail := func(err error) error {
		e.uint32(uint32(status(err)))
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
		e.uint32(uint32(status(err)))
		e.postOp(&a)
		return nil
	}
	e.reserve(int(count) + 256)
	head := len(e.b)
	e.uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	// count, eof and the data's length are patched in after the read,
	// which goes straight into the reply.
	at := len(e.b)
	e.uint32(0)
	e.uint32(0)
	e.uint32(0)
	start := len(e.b)
	e.b = e.b[:start+int(count)]
	got, err := f.f.ReadAt(e.b[start:], int64(off))
	if err != nil && !errors.Is(err, io.EOF) {
		e.b = e.b[:head]
		return fail(err)
	}
	e.b = e.b[:start+got]
	for i := got; i%4 != 0; i++ {
		e.b = append(e.b, 0)
	}
	eof := errors.Is(err, io.EOF) || off+uint64(got) >= st.Size
	binary.BigEndian.PutUint32(e.b[at:], uint32(got))
	if eof {
		binary.BigEndian.PutUint32(e.b[at+4:], 1)
	}
	binary.BigEndian.PutUint32(e.b[at+8:], uint32(got))
	return nil
}

func nfsWrite(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	off := r.args.uint64()
	count := r.args.uint32()
	stable := r.args.uint32()
	data := r.args.opaque(maxIO)
	if r.args.err != nil {
		return r.args.err
	}
	if int(count) < len(data) {
		data = data[:count]
	}
	fail := func(err error) error {
		e.uint32(uint32(status(err)))
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
		if err := f.f.Sync(); err != nil {
			return fail(err)
		}
		if err := r.x.st.sync(); err != nil {
			return fail(err)
		}
		committed = fileSync
	}
	st, err := fstatx(f.f)
	e.uint32(uint32(nfs.NFSStatusOk))
	if err == nil {
		a := r.x.attrOf(&st)
		e.wcc(&before, &a)
	} else {
		e.wcc(&before, nil)
	}
	e.uint32(uint32(len(data)))
	e.uint32(committed)
	e.fixed(r.s.verf[:])
	return nil
}

func nfsCommit(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	r.args.uint64()
	r.args.uint32()
	if r.args.err != nil {
		return r.args.err
	}
	fail := func(err error) error {
		e.uint32(uint32(status(err)))
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
	if err := f.f.Sync(); err != nil {
		return fail(err)
	}
	if err := r.x.st.sync(); err != nil {
		return fail(err)
	}
	if st, err = fstatx(f.f); err != nil {
		return fail(err)
	}
	a := r.x.attrOf(&st)
	e.uint32(uint32(nfs.NFSStatusOk))
	e.wcc(nil, &a)
	e.fixed(r.s.verf[:])
	return nil
}

func nfsReadlink(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	if r.args.err != nil {
		return r.args.err
	}
	n, err := r.x.resolve(h)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	if n.isRoot() {
		e.uint32(uint32(nfs.NFSStatusInval))
		e.postOp(nil)
		return nil
	}
	dir, st, err := r.x.parentDir(n)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	defer dir.Close()
	a := r.x.attrOf(&st)
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		e.uint32(uint32(nfs.NFSStatusInval))
		e.postOp(&a)
		return nil
	}
	buf := make([]byte, 4096)
	got, err := unix.Readlinkat(int(dir.Fd()), n.name(), buf)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(&a)
		return nil
	}
	e.uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	e.opaque(buf[:got])
	return nil
}

// fsHead decodes the single handle argument of FSSTAT, FSINFO and
// PATHCONF and writes the status and post_op_attr; ok reports success.
func fsHead(r *request, e *encoder) (ok bool, err error) {
	h := r.args.opaque(fhMax)
	if r.args.err != nil {
		return false, r.args.err
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(nil)
		return false, nil
	}
	a := r.x.attrOf(&st)
	e.uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	return true, nil
}

func nfsFsstat(r *request, e *encoder) error {
	h := r.args.opaque(fhMax)
	if r.args.err != nil {
		return r.args.err
	}
	_, st, err := r.x.object(h)
	if err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	var fs unix.Statfs_t
	if err := r.x.statfs(&fs); err != nil {
		e.uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	a := r.x.attrOf(&st)
	e.uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&a)
	bs := uint64(fs.Bsize)
	e.uint64(fs.Blocks * bs)
	e.uint64(fs.Bfree * bs)
	e.uint64(fs.Bavail * bs)
	e.uint64(fs.Files)
	e.uint64(fs.Ffree)
	e.uint64(fs.Ffree)
	e.uint32(0)
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

func nfsFsinfo(r *request, e *encoder) error {
	ok, err := fsHead(r, e)
	if !ok {
		return err
	}
	e.uint32(maxIO)  // rtmax
	e.uint32(maxIO)  // rtpref
	e.uint32(4096)   // rtmult
	e.uint32(maxIO)  // wtmax
	e.uint32(maxIO)  // wtpref
	e.uint32(4096)   // wtmult
	e.uint32(dtpref) // dtpref
	e.uint64(1<<63 - 1)
	e.uint32(0) // time_delta: 1 ns
	e.uint32(1)
	e.uint32(fsfLink | fsfSymlink | fsfHomogeneous | fsfCanSetTime)
	return nil
}

func nfsPathconf(r *request, e *encoder) error {
	ok, err := fsHead(r, e)
	if !ok {
		return err
	}
	e.uint32(65000) // linkmax
	e.uint32(255)   // name_max
	e.bool(true)    // no_trunc
	e.bool(true)    // chown_restricted
	e.bool(false)   // case_insensitive
	e.bool(true)    // case_preserving
	return nil
}
