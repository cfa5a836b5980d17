package nfsroot

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/internal/rawsys"
)

// dirCache keeps the listings of recently read directories: their names
// in cookie order and, for READDIRPLUS, the host attributes and handles
// of their entries. It is an optimisation only: an inotify watch on
// each directory kept tells it of every change the host (or the server
// itself) makes there, and the watches' queue is read before every use,
// under the same lock, so that a change made before a call started is
// seen by that call. Attributes are kept for at most attrTTL (what
// inotify does not report: atime, writes through mmap), and only for
// entries whose attributes can change only by a name in this directory:
// not subdirectories (their contents change theirs), nor files with
// other links. Without inotify, names are kept while the directory's
// change times stay the same, and no attributes are kept.
//
// Both are bounded: dirCacheDirs directories (and as many watches) and
// dirCacheEntries entries in all; the directory listed last is always
// kept, whatever its size.
type dirCache struct {
	mu      sync.Mutex
	fd      int // the inotify descriptor; -1: none
	byKey   map[fileKey]*listing
	watches map[int32]*dirWatch
	held    int    // entries of the listings kept
	tick    uint64 // use counter, for eviction
	buf     []byte // inotify events
}

const (
	dirCacheDirs    = 256
	dirCacheEntries = 1 << 16
	// attrTTL bounds how long an entry's attributes are kept.
	attrTTL = time.Second
	// watchMask is every event that changes a directory's names or
	// the attributes of an entry in it (IN_ACCESS, atime, is left to
	// attrTTL: the board's own READs would drop the entry each time).
	watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_ATTRIB | unix.IN_MODIFY | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
		unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK
)

// dirWatch is one inotify watch: the directory it is on, how many events
// it has seen, and the listing it guards (nil while none is kept).
type dirWatch struct {
	wd  int32
	key fileKey
	gen uint64
	l   *listing
}

// listing is a directory's entries, sorted by cookie.
type listing struct {
	key          fileKey
	btime        uint64
	ctime, mtime unix.StatxTimestamp
	w            *dirWatch // nil: not watched (no attributes kept)
	used         uint64
	entries      []dirent // never changed once made
	attrs        []*cachedAttr
}

// cachedAttr is an entry's host attributes and handle, as stat'ed at
// time at (monotonic, since start). Once kept it is never changed (a
// change replaces it), so calls read it without the lock.
type cachedAttr struct {
	at   int64
	hs   hostStat
	h    [handleLen]byte
	kept bool // in the cache: its node record was made
}

var monoStart = time.Now()

func mono() int64 { return int64(time.Since(monoStart)) + 1 }

func (c *dirCache) init() {
	c.fd = -1
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err == nil {
		c.fd = fd
	}
	c.byKey = map[fileKey]*listing{}
	c.watches = map[int32]*dirWatch{}
	c.buf = make([]byte, 16<<10)
}

func (c *dirCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	c.byKey, c.watches, c.held = map[fileKey]*listing{}, map[int32]*dirWatch{}, 0
}

// list returns the listing of the directory dir, whose attributes
// (fresh) are st: the one kept, or one read now.
func (c *dirCache) list(dir dirFD, st *unix.Statx_t) (*listing, error) {
	k, bt := keyOf(st), btimeOf(st)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drain()
	c.tick++
	if l := c.byKey[k]; l != nil {
		if l.btime == bt && l.ctime == st.Ctime && l.mtime == st.Mtime {
			l.used = c.tick
			return l, nil
		}
		c.remove(l, true)
	}
	w := c.watch(dir, k)
	ents, err := readDirents(dir)
	if err != nil {
		if w != nil && w.l == nil {
			c.unwatch(w)
		}
		return nil, err
	}
	l := &listing{key: k, btime: bt, ctime: st.Ctime, mtime: st.Mtime, w: w, used: c.tick, entries: ents}
	if w != nil {
		w.l = l
	}
	c.byKey[k] = l
	c.held += len(ents)
	c.evict(l)
	return l, nil
}

// watch puts an inotify watch on the open directory dir (key k),
// before it is read: nil if there can be none.
func (c *dirCache) watch(dir dirFD, k fileKey) *dirWatch {
	if c.fd < 0 {
		return nil
	}
	wd, err := unix.InotifyAddWatch(c.fd, procFd(int(dir.Fd())), watchMask)
	if err != nil {
		return nil
	}
	w := c.watches[int32(wd)]
	if w == nil || w.key != k {
		if w != nil && w.l != nil {
			c.remove(w.l, true)
		}
		w = &dirWatch{wd: int32(wd), key: k}
		c.watches[w.wd] = w
	}
	return w
}

func (c *dirCache) unwatch(w *dirWatch) {
	delete(c.watches, w.wd)
	unix.InotifyRmWatch(c.fd, uint32(w.wd))
}

// remove forgets l; its watch stays when keepWatch (the directory is
// listed again soon).
func (c *dirCache) remove(l *listing, keepWatch bool) {
	if c.byKey[l.key] != l {
		return
	}
	delete(c.byKey, l.key)
	c.held -= len(l.entries)
	if w := l.w; w != nil {
		w.l = nil
		if !keepWatch {
			c.unwatch(w)
		}
	}
}

// evict drops the watches left without a listing (their directories
// changed) and the least recently used listings (never keep) until the
// cache is within its bounds.
func (c *dirCache) evict(keep *listing) {
	if len(c.watches) > dirCacheDirs {
		for _, w := range c.watches {
			if w.l == nil {
				c.unwatch(w)
			}
		}
	}
	for len(c.byKey) > dirCacheDirs || len(c.watches) > dirCacheDirs || c.held > dirCacheEntries {
		var old *listing
		for _, l := range c.byKey {
			if l != keep && (old == nil || l.used < old.used) {
				old = l
			}
		}
		if old == nil {
			return
		}
		c.remove(old, false)
	}
}

// drain reads the events queued on the watches and forgets what they
// change; called with c.mu held.
func (c *dirCache) drain() {
	if c.fd < 0 {
		return
	}
	for {
		n, err := rawsys.Read(c.fd, c.buf) // non-blocking (IN_NONBLOCK)
		if err != nil || n <= 0 {
			return
		}
		c.apply(c.buf[:n])
	}
}

// apply handles a buffer of inotify events.
func (c *dirCache) apply(b []byte) {
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b[0:]))
		mask := binary.NativeEndian.Uint32(b[4:])
		nameLen := int(binary.NativeEndian.Uint32(b[12:]))
		end := unix.SizeofInotifyEvent + nameLen
		if end > len(b) {
			end = len(b)
		}
		name := b[unix.SizeofInotifyEvent:end]
		if i := slices.Index(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[end:]
		if mask&unix.IN_Q_OVERFLOW != 0 {
			for _, l := range c.byKey {
				c.remove(l, true)
			}
			for _, w := range c.watches {
				w.gen++
			}
			continue
		}
		w := c.watches[wd]
		if w == nil {
			continue
		}
		w.gen++
		switch {
		case mask&unix.IN_IGNORED != 0:
			if w.l != nil {
				c.remove(w.l, true)
			}
			delete(c.watches, wd)
		case w.l == nil:
		case len(name) > 0 && mask&^(unix.IN_ATTRIB|unix.IN_MODIFY|unix.IN_ISDIR) == 0:
			w.l.forgetAttr(string(name))
		default:
			c.remove(w.l, true)
		}
	}
}

// forgetAttr drops the attributes kept for name.
func (l *listing) forgetAttr(name string) {
	if l.attrs == nil {
		return
	}
	c := nameCookie(name)
	i, _ := slices.BinarySearchFunc(l.entries, c, cmpCookie)
	for ; i < len(l.entries) && l.entries[i].cookie == c; i++ {
		l.attrs[i] = nil
	}
}

// cached reports whether l is still the listing kept for its directory,
// with no change seen since gen.
func (c *dirCache) cached(l *listing, gen uint64) bool {
	return l.w != nil && c.byKey[l.key] == l && l.w.gen == gen
}

// lookupAttrs fills, for the entries out[i] = l.entries[base+i], the
// attributes kept and still fresh; it returns the watch's generation
// for storeAttrs. (list has just read the events that came before the
// call.)
func (c *dirCache) lookupAttrs(l *listing, base int, out []plusEntry) (gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.w == nil {
		return 0
	}
	if c.byKey[l.key] == l && l.attrs != nil {
		now := mono()
		for i := range out {
			if a := l.attrs[base+i]; a != nil && now-a.at < int64(attrTTL) {
				out[i].ca = a
			}
		}
	}
	return l.w.gen
}

// storeAttrs keeps the attributes of out's entries stat'ed by this call
// (and recorded), unless an event read since gen says the directory
// changed. (The events of a change after the stat that are not read
// yet are read before the next use, and drop what is stored here.)
func (c *dirCache) storeAttrs(l *listing, base int, out []plusEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cached(l, gen) {
		return
	}
	for i, p := range out {
		if p.ca == nil || p.ca.kept || !p.ca.hs.keepable() {
			continue
		}
		if l.attrs == nil {
			l.attrs = make([]*cachedAttr, len(l.entries))
		}
		p.ca.kept = true
		l.attrs[base+i] = p.ca
	}
}

// readDirents reads the open directory dir whole (getdents64), in
// cookie order, with "." and "..".
func readDirents(dir dirFD) ([]dirent, error) {
	ents := []dirent{{cookie: cookieDot, name: "."}, {cookie: cookieDotDot, name: ".."}}
	buf := make([]byte, 32<<10)
	fd := int(dir.Fd())
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		ents = appendDirents(ents, buf[:n])
	}
	slices.SortFunc(ents, func(a, b dirent) int { return cmpCookie(a, b.cookie) })
	return ents, nil
}

// appendDirents appends the entries of a getdents64 buffer
// (linux_dirent64: ino, off, reclen, type, name), but "." and "..".
func appendDirents(ents []dirent, b []byte) []dirent {
	for len(b) >= 19 {
		ino := binary.NativeEndian.Uint64(b[0:])
		reclen := int(binary.NativeEndian.Uint16(b[16:]))
		if reclen < 19 || reclen > len(b) {
			break
		}
		name := b[19:reclen]
		if i := slices.Index(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[reclen:]
		if s := string(name); s != "." && s != ".." && s != "" {
			ents = append(ents, dirent{cookie: nameCookie(s), name: s, ino: ino})
		}
	}
	return ents
}

func cmpCookie(d dirent, c uint64) int {
	switch {
	case d.cookie < c:
		return -1
	case d.cookie > c:
		return 1
	}
	return 0
}
