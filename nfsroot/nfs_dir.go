package nfsroot

import (
	"hash/fnv"
	"slices"
	"sync"

	nfs "github.com/willscott/go-nfs"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// nfsLookup is LOOKUP (RFC 1813 section 3.3.3): it finds a name in a directory.
func nfsLookup(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	name := r.args.String(nfs.MNTNameLen + 1)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	dn, dir, dst, err := r.x.dirOf(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return nil
	}
	defer dir.Close()
	da := r.x.attrOf(&dst)
	err = r.user().may(&da, permExec)
	var cn *node
	var cst unix.Statx_t
	if err == nil {
		cn, cst, err = r.x.lookup(dn, dir, &dst, name)
	}
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(&da)
		return nil
	}
	ca := r.x.attrOf(&cst)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.Opaque(r.x.handle(cn))
	e.postOp(&ca)
	e.postOp(&da)
	return nil
}

// lookup finds name in the open directory dn and records it.
func (x *Export) lookup(dn *node, dir dirFD, dst *unix.Statx_t, name string) (*node, unix.Statx_t, error) {
	switch name {
	case ".":
		return dn, *dst, nil
	case "..":
		if dn.isRoot() {
			return dn, *dst, nil
		}
		pn := &node{comps: dn.comps[:len(dn.comps)-1]}
		f, err := x.openDirAt(pn.path())
		if err != nil {
			return nil, unix.Statx_t{}, ErrStale
		}
		defer f.Close()
		st, err := fstatx(f)
		if err != nil {
			return nil, st, err
		}
		pn.key, pn.btime = keyOf(&st), btimeOf(&st)
		return pn, st, nil
	}
	if err := checkName(name); err != nil {
		return nil, unix.Statx_t{}, err
	}
	st, err := statxAt(dir, name)
	if err != nil {
		return nil, st, err
	}
	cn := dn.child(name, &st)
	if err := x.record(dn, cn, links(&st)); err != nil {
		return nil, st, err
	}
	return cn, st, nil
}

// dirent is a directory entry with its READDIR cookie. Cookies are a
// hash of the name, so they stay valid while other entries come and go;
// a listing is sent in cookie order.
type dirent struct {
	cookie uint64
	name   string
	ino    uint64 // from getdents (0 for "." and "..")
}

const (
	cookieDot    = 1
	cookieDotDot = 2
)

func nameCookie(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	c := h.Sum64() >> 1
	if c <= cookieDotDot {
		c += 3
	}
	return c
}

// after returns the index in ents of the first entry following cookie.
func after(ents []dirent, cookie uint64) int {
	i, _ := slices.BinarySearchFunc(ents, cookie, cmpCookie)
	if i < len(ents) && ents[i].cookie == cookie {
		i++
	}
	return i
}

func cookieVerf(st *unix.Statx_t) []byte {
	var v [8]byte
	b := btimeOf(st) ^ st.Ino
	for i := range v {
		v[i] = byte(b >> (8 * i))
	}
	return v[:]
}

func xdrLen(s string) int { return 4 + (len(s)+3)&^3 }

// openDir is a directory opened for READDIR or READDIRPLUS, with its
// listing and the index of the entry that follows the client's cookie.
type openDir struct {
	dn    *node
	dir   dirFD
	st    unix.Statx_t
	attr  attr
	l     *listing
	first int
}

func (o *openDir) rest() []dirent { return o.l.entries[o.first:] }

// openListing opens the directory h names, checks that c may read it,
// and lists it after cookie. On
// failure it writes the error reply (status, then the directory's
// attributes when it has them) and returns false; on success the caller
// closes l.dir.
func (x *Export) openListing(e *encoder, h []byte, cookie uint64, c cred) (l openDir, ok bool) {
	dn, dir, dst, err := x.dirOf(h)
	if err != nil {
		e.Uint32(uint32(status(err)))
		e.postOp(nil)
		return l, false
	}
	da := x.attrOf(&dst)
	err = c.may(&da, permRead)
	var ls *listing
	if err == nil {
		ls, err = x.dirs.list(dir, &dst)
	}
	if err != nil {
		dir.Close()
		e.Uint32(uint32(status(err)))
		e.postOp(&da)
		return l, false
	}
	return openDir{dn: dn, dir: dir, st: dst, attr: da, l: ls, first: after(ls.entries, cookie)}, true
}

// nfsReaddir is READDIR (RFC 1813 section 3.3.16): it lists a directory's names and file ids.
func nfsReaddir(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	cookie := r.args.Uint64()
	r.args.Fixed(8)
	count := r.args.Uint32()
	if r.args.Err() != nil {
		return r.args.Err()
	}
	l, ok := r.x.openListing(e, h, cookie, r.user())
	if !ok {
		return nil
	}
	defer l.dir.Close()
	rest := l.rest()
	size, n := 4+88+8+8, 0
	for _, d := range rest {
		sz := 4 + 8 + xdrLen(d.name) + 8
		if size+sz > int(min(count, r.maxReply)) {
			break
		}
		size += sz
		n++
	}
	if n == 0 && len(rest) > 0 {
		e.Uint32(uint32(nfs.NFSStatusTooSmall))
		e.postOp(&l.attr)
		return nil
	}
	e.Reserve(size + 1024)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&l.attr)
	e.Fixed(cookieVerf(&l.st))
	for _, d := range rest[:n] {
		e.Bool(true)
		e.Uint64(fileid(&l.st, d))
		e.String(d.name)
		e.Uint64(d.cookie)
	}
	e.Bool(false)
	e.Bool(n == len(rest))
	return nil
}

// fileid is an entry's inode number as the directory lists it (the
// directory's own for "." and ".."; the board only compares them).
func fileid(dst *unix.Statx_t, d dirent) uint64 {
	if d.cookie <= cookieDotDot || d.ino == 0 {
		return dst.Ino
	}
	return d.ino
}

// nfsReaddirplus is READDIRPLUS (RFC 1813 section 3.3.17): it lists a directory with each entry's attributes and handle.
func nfsReaddirplus(r *request, e *encoder) error {
	h := r.args.Opaque(fhMax)
	cookie := r.args.Uint64()
	r.args.Fixed(8)
	dircount := r.args.Uint32()
	maxcount := r.args.Uint32()
	if r.args.Err() != nil {
		return r.args.Err()
	}
	l, ok := r.x.openListing(e, h, cookie, r.user())
	if !ok {
		return nil
	}
	defer l.dir.Close()
	maxcount = min(maxcount, r.maxReply)
	if dircount == 0 {
		dircount = maxcount
	}
	rest := l.rest()
	b := r.x.plusEntries(&l, int(dircount), int(maxcount))
	defer putPlusEntries(b.out)
	if len(b.out) == 0 && len(rest) > 0 {
		e.Uint32(uint32(nfs.NFSStatusTooSmall))
		e.postOp(&l.attr)
		return nil
	}
	if err := r.x.recordEntries(l.dn.key, b.out); err != nil {
		e.Uint32(uint32(nfs.NFSStatusServerFault))
		e.postOp(&l.attr)
		return nil
	}
	if b.fresh {
		r.x.dirs.storeAttrs(l.l, l.first, b.out, b.gen)
	}
	e.Reserve(b.size + 1024)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&l.attr)
	e.Fixed(cookieVerf(&l.st))
	r.x.encodePlus(e, b.out, l.st.Ino)
	e.Bool(false)
	e.Bool(len(b.out) == len(rest))
	return nil
}

// encodePlus appends the entryplus3 of out, with the overlay applied
// to their attributes; dirIno is the fileid of "." and "..".
func (x *Export) encodePlus(e *encoder, out []plusEntry, dirIno uint64) {
	s := x.st
	s.metaMu.RLock()
	defer s.metaMu.RUnlock()
	for _, p := range out {
		e.Bool(true)
		ca := p.ca
		if ca == nil {
			e.Uint64(dirIno)
		} else {
			e.Uint64(ca.hs.key.ino)
		}
		e.String(p.d.name)
		e.Uint64(p.d.cookie)
		if ca == nil {
			e.postOp(nil)
			e.Bool(false)
			continue
		}
		m, ok := s.metas[ca.hs.key]
		a := x.hostAttr(&ca.hs, m, ok && m.btime == ca.hs.btime)
		e.postOp(&a)
		e.Bool(true)
		e.Opaque(ca.h[:])
	}
}

// plusEntry is a READDIRPLUS entry: the name, and for entries that
// could be stat'ed, host attributes and handle.
type plusEntry struct {
	d  *dirent
	ca *cachedAttr // nil: none
}

// plusBatch is the entries of one READDIRPLUS reply.
type plusBatch struct {
	out   []plusEntry
	size  int    // the reply's estimated size
	gen   uint64 // the directory's watch generation before the stats
	fresh bool   // some entries were stat'ed now (ca.kept false)
}

// plusPool holds the entry slices of READDIRPLUS replies (one in use
// per call), of at most maxPooledEntries.
var plusPool sync.Pool

const maxPooledEntries = 4096

func getPlusEntries(n int) []plusEntry {
	if p, _ := plusPool.Get().(*[]plusEntry); p != nil && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]plusEntry, n, max(n, 64))
}

func putPlusEntries(out []plusEntry) {
	if cap(out) <= maxPooledEntries {
		clear(out)
		plusPool.Put(&out)
	}
}

// plusEntries are the entries of l after its cookie that fit in
// dircount and maxcount bytes, with their host attributes and handles:
// kept ones, or stat'ed now.
func (x *Export) plusEntries(l *openDir, dircount, maxcount int) plusBatch {
	rest := l.rest()
	size, dsize, n := 4+88+8+8, 0, 0
	for _, d := range rest {
		dsz := 4 + 8 + xdrLen(d.name) + 8
		sz := dsz + 4 + 84 + 4 + 4 + handleLen
		if size+sz > maxcount || dsize+dsz > dircount {
			break
		}
		size, dsize, n = size+sz, dsize+dsz, n+1
	}
	b := plusBatch{out: getPlusEntries(n), size: size}
	for i := range b.out {
		b.out[i].d = &rest[i]
	}
	b.gen = x.dirs.lookupAttrs(l.l, l.first, b.out)
	at := mono()
	fd := int(l.dir.Fd())
	var st unix.Statx_t
	for i := range b.out {
		p := &b.out[i]
		if p.d.cookie <= cookieDotDot {
			p.ca = x.dotAttr(l, p.d.cookie)
			continue
		}
		if p.ca != nil {
			continue
		}
		if err := statxRetry(fd, p.d.name, unix.AT_SYMLINK_NOFOLLOW, &st); err == nil {
			ca := &cachedAttr{at: at, hs: hostStatOf(&st)}
			ca.h = x.handleOf(ca.hs.key, ca.hs.btime)
			p.ca, b.fresh = ca, true
		}
	}
	return b
}

// dotAttr is the attributes and handle of "." or ".." (cookie) in the
// listed directory l, nil if they cannot be had. Clients that list with
// READDIRPLUS (libnfs) LOOKUP every entry that comes without them.
// ".." is the export's root at the root, otherwise the directory
// above l on its path, opened beneath the root as LOOKUP opens it.
func (x *Export) dotAttr(l *openDir, cookie uint64) *cachedAttr {
	n, st := l.dn, l.st
	if cookie == cookieDotDot {
		var err error
		if n, st, err = x.lookup(l.dn, l.dir, &l.st, ".."); err != nil {
			return nil
		}
	}
	return &cachedAttr{hs: hostStatOf(&st), h: x.handleOf(n.key, n.btime)}
}

// recordEntries records where the entries stat'ed now live (so their
// handles resolve later; kept ones were recorded when they were
// stat'ed): entries seen before cost no store access, the others one
// read transaction, and one write transaction for the records that
// changed.
func (x *Export) recordEntries(dirKey fileKey, out []plusEntry) error {
	var unknown []int
	x.known.mu.RLock()
	for i, p := range out {
		if p.ca == nil || p.ca.kept || p.ca.hs.key == x.rootKey || p.d.cookie <= cookieDotDot {
			continue
		}
		if old, ok := x.known.m[p.ca.hs.key]; !ok || old != (nodeRec{p.ca.hs.btime, dirKey, p.d.name}) {
			unknown = append(unknown, i)
		}
	}
	x.known.mu.RUnlock()
	if len(unknown) == 0 {
		return nil
	}
	var stale []int
	x.st.db.View(func(tx *bolt.Tx) error {
		for _, i := range unknown {
			p := &out[i]
			rec := nodeRec{p.ca.hs.btime, dirKey, p.d.name}
			if old, ok := getNode(tx, p.ca.hs.key); !ok || old != rec || p.ca.hs.links() > 1 {
				stale = append(stale, i)
			} else {
				x.known.add(p.ca.hs.key, rec)
			}
		}
		return nil
	})
	if len(stale) == 0 {
		return nil
	}
	err := x.st.db.Update(func(tx *bolt.Tx) error {
		for _, i := range stale {
			p := &out[i]
			rec := nodeRec{p.ca.hs.btime, dirKey, p.d.name}
			if p.ca.hs.links() > 1 {
				if err := putAlias(tx, p.ca.hs.key, rec); err != nil {
					return err
				}
			}
			if err := putNode(tx, p.ca.hs.key, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, i := range stale {
		p := &out[i]
		x.known.add(p.ca.hs.key, nodeRec{p.ca.hs.btime, dirKey, p.d.name})
	}
	return nil
}
