package nfsroot

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/internal/rawsys"
)

// Errors the filesystem layer reports; the NFS layer maps them to status
// codes.
var (
	ErrStale     = errors.New("nfsroot: stale file handle")
	ErrBadHandle = errors.New("nfsroot: malformed file handle")
	ErrBadName   = errors.New("nfsroot: name is not a single path component")
	ErrNameLong  = errors.New("nfsroot: name longer than 255 bytes")
)

// ExportOptions configure OpenExport.
type ExportOptions struct {
	// StatePath is the metadata store file. Empty: a file beside the
	// export, <parent>/.<base>.bootrig-meta.db (never inside it).
	StatePath string
	// RealOwnership serves the host's own ownership, modes and device
	// files, and applies chown and mknod on the host (bootrig as root).
	RealOwnership bool
	// Log receives what Seed leaves alone (nil: slog.Default()).
	Log *slog.Logger
}

// Export is a directory served as a root filesystem: the host tree,
// reached only through an os.Root, plus the metadata store.
type Export struct {
	dir     string
	realDir string // dir with symlinks resolved: the kernel's name for it
	root    *os.Root
	rootDir *os.File // the root directory, opened through root: openat2's anchor
	st      *store
	rootKey fileKey
	rootBt  uint64
	real    bool
	log     *slog.Logger
	hblock  cipher.Block // AES-256 with the handles' key: their tags
	dirs    dirCache
	files   fileCache
	known   knownSet
}

// DefaultStatePath is where OpenExport keeps dir's metadata store.
func DefaultStatePath(dir string) string {
	dir = filepath.Clean(dir)
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".bootrig-meta.db")
}

// OpenExport opens dir for serving.
func OpenExport(dir string, opt ExportOptions) (*Export, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", abs, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", abs, err)
	}
	rootDir, err := root.Open(".")
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("export %s: %w", abs, err)
	}
	fail := func(err error) (*Export, error) {
		rootDir.Close()
		root.Close()
		return nil, err
	}
	x := &Export{dir: abs, realDir: real, root: root, rootDir: rootDir, real: opt.RealOwnership, log: opt.Log}
	if x.log == nil {
		x.log = slog.Default()
	}
	st, err := x.statRoot()
	if err != nil {
		return fail(err)
	}
	x.rootKey, x.rootBt = keyOf(&st), btimeOf(&st)
	path := opt.StatePath
	if path == "" {
		path = DefaultStatePath(abs)
	}
	if strings.HasPrefix(filepath.Clean(path)+"/", abs+"/") {
		return fail(fmt.Errorf("metadata store %s is inside the export %s: keep it outside", path, abs))
	}
	key, err := loadHandleKey(handleKeyPath(path))
	if err != nil {
		return fail(err)
	}
	if x.hblock, err = aes.NewCipher(key); err != nil {
		return fail(fmt.Errorf("handle key %s: %w", handleKeyPath(path), err))
	}
	if x.st, err = openStore(path); err != nil {
		return fail(err)
	}
	x.dirs.init()
	return x, nil
}

// Dir is the export's absolute host path.
func (x *Export) Dir() string { return x.dir }

// Close closes the export and its store.
func (x *Export) Close() error {
	x.files.closeAll()
	x.dirs.close()
	x.rootDir.Close()
	err := x.st.close()
	if e := x.root.Close(); err == nil {
		err = e
	}
	return err
}

func (x *Export) statRoot() (unix.Statx_t, error) {
	var st unix.Statx_t
	if err := rawsys.Statx(int(x.rootDir.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, statxMask, &st); err != nil {
		return st, fmt.Errorf("export %s: %w", x.dir, err)
	}
	return st, nil
}

const statxMask = unix.STATX_BASIC_STATS | unix.STATX_BTIME

// dirFD is an open directory: an *os.File, or a rawDir.
type dirFD interface {
	Fd() uintptr
	Close() error
}

// rawDir is a directory opened by openDirAt with rawsys.Openat2 and
// closed with rawsys.Close (an *os.File costs an fcntl to open, not a
// raw one: see package rawsys).
type rawDir struct{ fd int }

func (d *rawDir) Fd() uintptr { return uintptr(d.fd) }

// Close closes the directory once; closing it again is an error, and
// closes nothing (the number may be another file's by then).
func (d *rawDir) Close() error {
	if d.fd < 0 {
		return os.ErrClosed
	}
	fd := d.fd
	d.fd = -1
	return rawsys.Close(fd)
}

func fstatx(f dirFD) (unix.Statx_t, error) {
	var st unix.Statx_t
	err := statxRetry(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, &st)
	return st, err
}

func statxAt(dir dirFD, name string) (unix.Statx_t, error) {
	var st unix.Statx_t
	err := statxRetry(int(dir.Fd()), name, unix.AT_SYMLINK_NOFOLLOW, &st)
	return st, err
}

// statxRetry is statx with the server's mask, retried on EINTR, a
// rawsys call.
func statxRetry(fd int, name string, flags int, st *unix.Statx_t) error {
	return rawsys.Statx(fd, name, flags, statxMask, st)
}

func keyOf(st *unix.Statx_t) fileKey {
	return fileKey{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino}
}

func btimeOf(st *unix.Statx_t) uint64 {
	if st.Mask&unix.STATX_BTIME == 0 {
		return 0
	}
	return uint64(st.Btime.Sec)<<30 ^ uint64(st.Btime.Nsec)
}

// RootHandle is the handle of the export's root directory.
func (x *Export) RootHandle() []byte { return x.makeHandle(x.rootKey, x.rootBt) }

// node is a resolved handle: the object and its current path.
type node struct {
	key   fileKey
	btime uint64
	comps []string // from the root; empty for the root
}

func (n *node) isRoot() bool { return len(n.comps) == 0 }
func (n *node) name() string { return n.comps[len(n.comps)-1] }
func (n *node) path() string {
	if n.isRoot() {
		return "."
	}
	return strings.Join(n.comps, "/")
}

const maxDepth = 4096

// resolve turns a handle into a node by walking the nodes index up to
// the root. It does not touch the host; callers verify what they open.
func (x *Export) resolve(h []byte) (*node, error) {
	k, gen, err := x.parseHandle(h)
	if err != nil {
		return nil, err
	}
	if k == x.rootKey {
		if gen != generation(x.rootBt) {
			return nil, ErrStale
		}
		return &node{key: k, btime: x.rootBt}, nil
	}
	return x.walkUp(k, gen, true)
}

// resolveKey is the node of a directory key (no birth-time check).
func (x *Export) resolveKey(k fileKey) (*node, error) {
	if k == x.rootKey {
		return &node{key: k, btime: x.rootBt}, nil
	}
	return x.walkUp(k, 0, false)
}

// walkUp is the node of k from the nodes index; with checkGen, the
// object must be of generation gen (a handle's).
func (x *Export) walkUp(k fileKey, gen uint32, checkGen bool) (*node, error) {
	n := &node{key: k}
	err := x.st.db.View(func(tx *bolt.Tx) error {
		var rev []string
		for cur := k; cur != x.rootKey; {
			rec, ok := getNode(tx, cur)
			if !ok || len(rev) > maxDepth || (cur == k && checkGen && generation(rec.btime) != gen) {
				return ErrStale
			}
			if cur == k {
				n.btime = rec.btime
			}
			rev = append(rev, rec.name)
			cur = rec.parent
		}
		n.comps = make([]string, len(rev))
		for i, c := range rev {
			n.comps[len(rev)-1-i] = c
		}
		return nil
	})
	return n, err
}

// checkName accepts a single path component a client may name.
func checkName(name string) error {
	switch {
	case len(name) > 255:
		return ErrNameLong
	case name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00"):
		return ErrBadName
	}
	return nil
}

// openDir opens the directory a handle names, through the os.Root, and
// verifies that what was opened is that directory.
func (x *Export) openDir(n *node) (dirFD, unix.Statx_t, error) {
	f, err := x.openDirAt(n.path())
	if err != nil {
		if isNotFound(err) {
			err = ErrStale
		}
		return nil, unix.Statx_t{}, err
	}
	st, err := fstatx(f)
	if err == nil && (keyOf(&st) != n.key || btimeOf(&st) != n.btime) {
		err = ErrStale
	}
	if err != nil {
		f.Close()
		return nil, unix.Statx_t{}, err
	}
	return f, st, nil
}

func isNotFound(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) ||
		errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) || strings.Contains(err.Error(), "escapes")
}

// openDirAt opens the directory at path (from the export's root, as
// node.path gives it) for reading. The kernel resolves it beneath the
// root and follows no symlink on the way (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS: a component swapped for a symlink fails with
// ELOOP, an escape with EXDEV); where openat2 is missing (Linux before
// 5.6) or keeps failing with EAGAIN (renames under way), the os.Root
// resolves it. Either way the caller verifies what it opened. (The
// os.Root's own OpenFile costs an openat per component and five
// fcntl and epoll_ctl calls for the poller, on every call.)
func (x *Export) openDirAt(path string) (dirFD, error) {
	if !noOpenat2.Load() {
		how := unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		}
		for range 8 {
			fd, err := rawsys.Openat2(int(x.rootDir.Fd()), path, &how)
			switch err {
			case nil:
				return &rawDir{fd}, nil
			case unix.EAGAIN:
				continue
			case unix.ENOSYS:
				noOpenat2.Store(true)
			default:
				return nil, &os.PathError{Op: "openat2", Path: path, Err: err}
			}
			break
		}
	}
	return x.root.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY, 0)
}

// noOpenat2 is set once openat2 is found missing.
var noOpenat2 atomic.Bool

// stat returns the host attributes of the object n names, verified.
func (x *Export) stat(n *node) (unix.Statx_t, error) {
	var st unix.Statx_t
	var err error
	if n.isRoot() {
		st, err = x.statRoot()
	} else if st, err = x.statNode(n); err != nil && isNotFound(err) {
		err = ErrStale
	}
	if err == nil && (keyOf(&st) != n.key || btimeOf(&st) != n.btime) {
		err = ErrStale
	}
	return st, err
}

// statNode stats the object n (not the root) names, not followed if a
// symlink, its path resolved beneath the root as openDirAt resolves: an
// O_PATH descriptor from openat2, statx of it, closed. The three are
// rawsys calls, so a GETATTR or ACCESS makes no scheduler-visible
// system call. Where openat2 is missing, n's directory is opened with
// openDirAt and n stat'ed in it.
func (x *Export) statNode(n *node) (unix.Statx_t, error) {
	var st unix.Statx_t
	if !noOpenat2.Load() {
		how := unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		}
		for range 8 {
			fd, err := rawsys.Openat2(int(x.rootDir.Fd()), n.path(), &how)
			switch err {
			case nil:
				err = rawsys.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, statxMask, &st)
				rawsys.Close(fd)
				return st, err
			case unix.EAGAIN:
				continue
			case unix.ENOSYS:
				noOpenat2.Store(true)
			default:
				return st, &os.PathError{Op: "openat2", Path: n.path(), Err: err}
			}
			break
		}
	}
	pn := &node{comps: n.comps[:len(n.comps)-1]}
	dir, err := x.openDirAt(pn.path())
	if err != nil {
		return st, err
	}
	defer dir.Close()
	return statxAt(dir, n.name())
}

// parentDir opens the directory holding n (not the root), verifying that
// n is still the entry named n.name() in it.
func (x *Export) parentDir(n *node) (dirFD, unix.Statx_t, error) {
	if n.isRoot() {
		return nil, unix.Statx_t{}, unix.EINVAL
	}
	pn := &node{comps: n.comps[:len(n.comps)-1]}
	dir, err := x.openDirAt(pn.path())
	if err != nil {
		if isNotFound(err) {
			err = ErrStale
		}
		return nil, unix.Statx_t{}, err
	}
	st, err := statxAt(dir, n.name())
	if err == nil && (keyOf(&st) != n.key || btimeOf(&st) != n.btime) {
		err = ErrStale
	}
	if err != nil {
		dir.Close()
		if errors.Is(err, unix.ENOENT) {
			err = ErrStale
		}
		return nil, st, err
	}
	return dir, st, nil
}

// openFile opens the regular file n names for I/O: its directory through
// the os.Root, then the entry itself with O_NOFOLLOW, verified by fstat.
func (x *Export) openFile(n *node, write bool) (*os.File, error) {
	dir, st, err := x.parentDir(n)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return nil, unix.EISDIR
		}
		return nil, unix.EINVAL
	}
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	fd, err := openat(dir, n.name(), flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), n.path())
	fst, err := fstatx(f)
	if err == nil && (keyOf(&fst) != n.key || btimeOf(&fst) != n.btime || fst.Mode&unix.S_IFMT != unix.S_IFREG) {
		err = ErrStale
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func openat(dir dirFD, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(int(dir.Fd()), name, flags, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// child is a node for name in directory n (after checkName).
func (n *node) child(name string, st *unix.Statx_t) *node {
	comps := make([]string, len(n.comps)+1)
	copy(comps, n.comps)
	comps[len(n.comps)] = name
	return &node{key: keyOf(st), btime: btimeOf(st), comps: comps}
}

// record remembers that child lives in dir under name, so its handle
// resolves later. It writes only when the record changed.
func (x *Export) record(dir *node, child *node, nlink uint32) error {
	rec := nodeRec{btime: child.btime, parent: dir.key, name: child.name()}
	if child.key == x.rootKey {
		return nil
	}
	if x.known.has(child.key, rec) {
		return nil
	}
	var same bool
	x.st.db.View(func(tx *bolt.Tx) error {
		old, ok := getNode(tx, child.key)
		same = ok && old == rec
		return nil
	})
	if !same || nlink > 1 {
		err := x.st.db.Update(func(tx *bolt.Tx) error {
			if nlink > 1 {
				if err := putAlias(tx, child.key, rec); err != nil {
					return err
				}
			}
			return putNode(tx, child.key, rec)
		})
		if err != nil {
			return err
		}
	}
	x.known.add(child.key, rec)
	return nil
}

// links is how many names a non-directory has (0 for a directory,
// whose link count says nothing about names).
func links(st *unix.Statx_t) uint32 {
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return 0
	}
	return st.Nlink
}

// relink points k's node record at another of its names after the
// recorded one was removed: the first recorded alias that still names k.
func (x *Export) relink(k fileKey) {
	var cands []nodeRec
	x.st.db.View(func(tx *bolt.Tx) error {
		cands = aliases(tx, k)
		return nil
	})
	for _, a := range cands {
		pn, err := x.resolveKey(a.parent)
		if err == nil {
			n := &node{key: k, btime: a.btime, comps: append(pn.comps, a.name)}
			if _, err = x.stat(n); err == nil {
				x.st.db.Update(func(tx *bolt.Tx) error { return putNode(tx, k, a) })
				return
			}
		}
		x.st.db.Update(func(tx *bolt.Tx) error { return delAlias(tx, k, a.parent, a.name) })
	}
}

// knownSet remembers node records known to be in the store, so that
// looking up and listing what was seen before costs no store lookup. It
// is an optimisation only: it never answers for the store, every change
// of a record goes to the store first and drops the entry here, and it
// is emptied when it grows past knownMax.
type knownSet struct {
	mu sync.RWMutex
	m  map[fileKey]nodeRec
}

const knownMax = 1 << 18

func (s *knownSet) has(k fileKey, rec nodeRec) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	old, ok := s.m[k]
	return ok && old == rec
}

func (s *knownSet) add(k fileKey, rec nodeRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= knownMax {
		s.m = map[fileKey]nodeRec{}
	}
	s.m[k] = rec
}

func (s *knownSet) drop(k fileKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
}
