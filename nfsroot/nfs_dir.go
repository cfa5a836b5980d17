package nfsroot

import (
	"hash/fnv"
	"os"
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
func (x *Export) lookup(dn *node, dir *os.File, dst *unix.Statx_t, name string) (*node, unix.Statx_t, error) {
	switch name {
	case ".":
		return dn, *dst, nil
	case "..":
		if dn.isRoot() {
			return dn, *dst, nil
		}
		pn := &node{comps: dn.comps[:len(dn.comps)-1]}
		f, err := x.root.OpenFile(pn.path(), os.O_RDONLY|unix.O_DIRECTORY, 0)
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

// listing is a directory's sorted entries, cached while the directory's
// change time is unchanged.
type listing struct {
	key     fileKey
	ctime   unix.StatxTimestamp
	mtime   unix.StatxTimestamp
	entries []dirent
}

type listCache struct {
	mu sync.Mutex
	l  []*listing // most recent first
}

const listCacheSize = 8

func (c *listCache) get(k fileKey, st *unix.Statx_t) *listing {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.l {
		if l.key == k && l.ctime == st.Ctime && l.mtime == st.Mtime {
			return l
		}
	}
	return nil
}

func (c *listCache) put(l *listing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.l = slices.DeleteFunc(c.l, func(o *listing) bool { return o.key == l.key })
	c.l = append([]*listing{l}, c.l...)
	if len(c.l) > listCacheSize {
		c.l = c.l[:listCacheSize]
	}
}

// list reads the directory dir (attributes st) in cookie order.
func (x *Export) list(dir *os.File, st *unix.Statx_t) ([]dirent, error) {
	if l := x.dirs.get(keyOf(st), st); l != nil {
		return l.entries, nil
	}
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	ents := make([]dirent, 0, len(names)+2)
	ents = append(ents, dirent{cookieDot, "."}, dirent{cookieDotDot, ".."})
	for _, n := range names {
		ents = append(ents, dirent{nameCookie(n), n})
	}
	slices.SortFunc(ents, func(a, b dirent) int {
		switch {
		case a.cookie < b.cookie:
			return -1
		case a.cookie > b.cookie:
			return 1
		}
		return 0
	})
	x.dirs.put(&listing{key: keyOf(st), ctime: st.Ctime, mtime: st.Mtime, entries: ents})
	return ents, nil
}

// after returns the entries following cookie.
func after(ents []dirent, cookie uint64) []dirent {
	i, _ := slices.BinarySearchFunc(ents, cookie, func(d dirent, c uint64) int {
		switch {
		case d.cookie < c:
			return -1
		case d.cookie > c:
			return 1
		}
		return 0
	})
	if i < len(ents) && ents[i].cookie == cookie {
		i++
	}
	return ents[i:]
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

// openDir is a directory opened for READDIR or READDIRPLUS, with the
// entries that follow the client's cookie.
type openDir struct {
	dn   *node
	dir  *os.File
	st   unix.Statx_t
	attr attr
	rest []dirent
}

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
	var ents []dirent
	if err == nil {
		ents, err = x.list(dir, &dst)
	}
	if err != nil {
		dir.Close()
		e.Uint32(uint32(status(err)))
		e.postOp(&da)
		return l, false
	}
	return openDir{dn: dn, dir: dir, st: dst, attr: da, rest: after(ents, cookie)}, true
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
	dn, dir, dst, da, rest := l.dn, l.dir, l.st, l.attr, l.rest
	size := 4 + 88 + 8 + 8
	var out []dirent
	for _, d := range rest {
		sz := 4 + 8 + xdrLen(d.name) + 8
		if size+sz > int(min(count, r.maxReply)) {
			break
		}
		size += sz
		out = append(out, d)
	}
	if len(out) == 0 && len(rest) > 0 {
		e.Uint32(uint32(nfs.NFSStatusTooSmall))
		e.postOp(&da)
		return nil
	}
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&da)
	e.Fixed(cookieVerf(&dst))
	for _, d := range out {
		e.Bool(true)
		e.Uint64(r.x.fileid(dn, dir, &dst, d))
		e.String(d.name)
		e.Uint64(d.cookie)
	}
	e.Bool(false)
	e.Bool(len(out) == len(rest))
	return nil
}

// fileid is an entry's inode number (the directory's own for "." and
// ".."; the board only compares them).
func (x *Export) fileid(dn *node, dir *os.File, dst *unix.Statx_t, d dirent) uint64 {
	if d.cookie <= cookieDotDot {
		return dst.Ino
	}
	var st unix.Statx_t
	if err := unix.Statx(int(dir.Fd()), d.name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_DONT_SYNC, unix.STATX_INO, &st); err != nil {
		return nameCookie(d.name)
	}
	return st.Ino
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
	dn, dir, dst, da, rest := l.dn, l.dir, l.st, l.attr, l.rest
	maxcount = min(maxcount, r.maxReply)
	if dircount == 0 {
		dircount = maxcount
	}
	out, size := statEntries(dir, rest, int(dircount), int(maxcount))
	if len(out) == 0 && len(rest) > 0 {
		e.Uint32(uint32(nfs.NFSStatusTooSmall))
		e.postOp(&da)
		return nil
	}
	if err := r.x.recordEntries(dn.key, out); err != nil {
		e.Uint32(uint32(nfs.NFSStatusServerFault))
		e.postOp(&da)
		return nil
	}
	e.Reserve(size + 1024)
	e.Uint32(uint32(nfs.NFSStatusOk))
	e.postOp(&da)
	e.Fixed(cookieVerf(&dst))
	for i := range out {
		p := &out[i]
		e.Bool(true)
		if p.ok {
			e.Uint64(p.st.Ino)
		} else {
			e.Uint64(dst.Ino)
		}
		e.String(p.d.name)
		e.Uint64(p.d.cookie)
		if p.ok {
			e.postOp(&p.a)
			e.Bool(true)
			e.Opaque(r.x.makeHandle(p.k, p.bt))
		} else {
			e.postOp(nil)
			e.Bool(false)
		}
	}
	e.Bool(false)
	e.Bool(len(out) == len(rest))
	return nil
}

// plusEntry is a READDIRPLUS entry: the name, and for entries that
// could be stat'ed (not "." or ".."), attributes and handle.
type plusEntry struct {
	d  dirent
	ok bool
	st unix.Statx_t
	k  fileKey
	bt uint64
	a  attr
}

// statEntries stats the entries of rest that fit in dircount and
// maxcount bytes; size is the reply's estimated size.
func statEntries(dir *os.File, rest []dirent, dircount, maxcount int) (out []plusEntry, size int) {
	size, dsize := 4+88+8+8, 0
	for _, d := range rest {
		p := plusEntry{d: d}
		if d.cookie > cookieDotDot {
			if err := statxRetry(int(dir.Fd()), d.name, unix.AT_SYMLINK_NOFOLLOW, &p.st); err == nil {
				p.ok = true
				p.k, p.bt = keyOf(&p.st), btimeOf(&p.st)
			}
		}
		sz := 4 + 8 + xdrLen(d.name) + 8
		dsz := sz
		if p.ok {
			sz += 4 + 84 + 4 + 4 + handleLen
		} else {
			sz += 8
		}
		if size+sz > maxcount || dsize+dsz > dircount {
			break
		}
		size, dsize = size+sz, dsize+dsz
		out = append(out, p)
	}
	return out, size
}

// recordEntries applies the overlay to the entries' attributes and
// records where each lives (so its handle resolves later): entries seen
// before cost no store access, the others one read transaction, and one
// write transaction for the records that changed.
func (x *Export) recordEntries(dirKey fileKey, out []plusEntry) error {
	var unknown []int
	for i := range out {
		p := &out[i]
		if !p.ok {
			continue
		}
		m, ok := x.st.meta(p.k, p.bt)
		p.a = x.makeAttr(&p.st, m, ok)
		if p.k != x.rootKey && !x.known.has(p.k, nodeRec{p.bt, dirKey, p.d.name}) {
			unknown = append(unknown, i)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	var stale []int
	x.st.db.View(func(tx *bolt.Tx) error {
		for _, i := range unknown {
			p := &out[i]
			rec := nodeRec{p.bt, dirKey, p.d.name}
			if old, ok := getNode(tx, p.k); !ok || old != rec || links(&p.st) > 1 {
				stale = append(stale, i)
			} else {
				x.known.add(p.k, rec)
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
			rec := nodeRec{p.bt, dirKey, p.d.name}
			if links(&p.st) > 1 {
				if err := putAlias(tx, p.k, rec); err != nil {
					return err
				}
			}
			if err := putNode(tx, p.k, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, i := range stale {
		x.known.add(out[i].k, nodeRec{out[i].bt, dirKey, out[i].d.name})
	}
	return nil
}
