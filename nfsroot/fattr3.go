package nfsroot

import (
	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// attr is fattr3: what the board sees of a file, the host's attributes
// with the metadata overlay applied.
type attr struct {
	typ          nfs.FileType
	mode         uint32 // 07777
	nlink        uint32
	uid, gid     uint32
	size, used   uint64
	major, minor uint32
	fsid, fileid uint64
	atime, mtime unix.StatxTimestamp
	ctime        unix.StatxTimestamp
}

func hostType(mode uint16) nfs.FileType {
	switch uint32(mode) & unix.S_IFMT {
	case unix.S_IFDIR:
		return nfs.FileTypeDirectory
	case unix.S_IFLNK:
		return nfs.FileTypeLink
	case unix.S_IFCHR:
		return nfs.FileTypeCharacter
	case unix.S_IFBLK:
		return nfs.FileTypeBlock
	case unix.S_IFIFO:
		return nfs.FileTypeFIFO
	case unix.S_IFSOCK:
		return nfs.FileTypeSocket
	}
	return nfs.FileTypeRegular
}

func typeOfIFMT(ifmt uint32) nfs.FileType { return hostType(uint16(ifmt)) }

// hostStat is what the board's attributes take from the host's.
type hostStat struct {
	key                 fileKey
	btime               uint64
	mode                uint16
	nlink, uid, gid     uint32
	rmajor, rminor      uint32
	size, blocks        uint64
	atime, mtime, ctime unix.StatxTimestamp
}

func hostStatOf(st *unix.Statx_t) hostStat {
	return hostStat{
		key: keyOf(st), btime: btimeOf(st), mode: st.Mode,
		nlink: st.Nlink, uid: st.Uid, gid: st.Gid, rmajor: st.Rdev_major, rminor: st.Rdev_minor,
		size: st.Size, blocks: st.Blocks, atime: st.Atime, mtime: st.Mtime, ctime: st.Ctime,
	}
}

// keepable reports whether h's attributes change only through the
// directory entry it was stat'ed by (see dirCache).
func (h *hostStat) keepable() bool {
	return uint32(h.mode)&unix.S_IFMT != unix.S_IFDIR && h.nlink == 1
}

// makeAttr applies the overlay m (when ok) to the host attributes st.
func (x *Export) makeAttr(st *unix.Statx_t, m meta, ok bool) attr {
	h := hostStatOf(st)
	return x.hostAttr(&h, m, ok)
}

// hostAttr applies the overlay m (when ok) to the host attributes h.
func (x *Export) hostAttr(h *hostStat, m meta, ok bool) attr {
	a := attr{
		typ: hostType(h.mode), mode: uint32(h.mode) & 0o7777, nlink: h.nlink,
		size: h.size, used: h.blocks * 512,
		fsid: x.rootKey.dev, fileid: h.key.ino,
		atime: h.atime, mtime: h.mtime, ctime: h.ctime,
	}
	if x.real {
		a.uid, a.gid = h.uid, h.gid
		a.major, a.minor = h.rmajor, h.rminor
	}
	if !ok {
		return a
	}
	if m.set&metaUID != 0 {
		a.uid = m.uid
	}
	if m.set&metaGID != 0 {
		a.gid = m.gid
	}
	if m.set&metaMode != 0 {
		a.mode = m.mode & 0o7777
	}
	if m.set&metaType != 0 && a.typ == nfs.FileTypeRegular {
		a.typ = typeOfIFMT(m.ftype)
		a.major, a.minor = m.major, m.minor
		a.size, a.used = 0, 0
	}
	return a
}

// attrOf reads the overlay for st and returns the board's attributes.
func (x *Export) attrOf(st *unix.Statx_t) attr {
	m, ok := x.st.meta(keyOf(st), btimeOf(st))
	return x.makeAttr(st, m, ok)
}

func (e *encoder) time(t unix.StatxTimestamp) {
	e.Uint32(uint32(t.Sec))
	e.Uint32(t.Nsec)
}

// fattr3 encodes a.
func (e *encoder) fattr(a *attr) {
	e.Uint32(uint32(a.typ))
	e.Uint32(a.mode)
	e.Uint32(a.nlink)
	e.Uint32(a.uid)
	e.Uint32(a.gid)
	e.Uint64(a.size)
	e.Uint64(a.used)
	e.Uint32(a.major)
	e.Uint32(a.minor)
	e.Uint64(a.fsid)
	e.Uint64(a.fileid)
	e.time(a.atime)
	e.time(a.mtime)
	e.time(a.ctime)
}

// postOp encodes post_op_attr: a may be nil.
func (e *encoder) postOp(a *attr) {
	e.Bool(a != nil)
	if a != nil {
		e.fattr(a)
	}
}

// wcc encodes wcc_data: pre_op_attr (from before, may be nil) and
// post_op_attr.
func (e *encoder) wcc(before *unix.Statx_t, after *attr) {
	e.Bool(before != nil)
	if before != nil {
		e.Uint64(before.Size)
		e.time(before.Mtime)
		e.time(before.Ctime)
	}
	e.postOp(after)
}

// sattr is a decoded sattr3.
type sattr struct {
	setMode, setUID, setGID, setSize bool
	mode, uid, gid                   uint32
	size                             uint64
	atime, mtime                     uint32 // timeDont, timeServer, timeClient
	atimeV, mtimeV                   unix.Timespec
}

const (
	timeDont   = 0
	timeServer = 1
	timeClient = 2
)

func (d *decoder) sattr() sattr {
	var s sattr
	if s.setMode = d.Bool(); s.setMode {
		s.mode = d.Uint32()
	}
	if s.setUID = d.Bool(); s.setUID {
		s.uid = d.Uint32()
	}
	if s.setGID = d.Bool(); s.setGID {
		s.gid = d.Uint32()
	}
	if s.setSize = d.Bool(); s.setSize {
		s.size = d.Uint64()
	}
	for _, t := range []struct {
		how *uint32
		v   *unix.Timespec
	}{{&s.atime, &s.atimeV}, {&s.mtime, &s.mtimeV}} {
		*t.how = d.Uint32()
		switch *t.how {
		case timeDont, timeServer:
		case timeClient:
			t.v.Sec = int64(d.Uint32())
			t.v.Nsec = int64(d.Uint32())
			if t.v.Nsec >= 1e9 {
				d.Fail()
			}
		default:
			d.Fail()
		}
	}
	return s
}

// links is links() of a hostStat.
func (h *hostStat) links() uint32 {
	if uint32(h.mode)&unix.S_IFMT == unix.S_IFDIR {
		return 0
	}
	return h.nlink
}
