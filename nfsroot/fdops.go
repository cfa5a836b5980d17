package nfsroot

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Every system call that names a file on a client's behalf either
// names an entry in a directory descriptor that was verified against
// its handle, with a single checked name, in a form that never follows a
// final symlink, or acts on a descriptor of the object itself, opened
// O_PATH|O_NOFOLLOW and verified by fstat (device, inode, birth time)
// to be the object that was checked. What each call does:
//
//	chmod     chmod("/proc/self/fd/N") of the verified O_PATH descriptor
//	          (the kernel refuses a symlink: EOPNOTSUPP, never followed);
//	          fchmod on the descriptor CREATE opened, or on the file WRITE
//	          opened
//	chown     fchownat(fd, "", AT_EMPTY_PATH) on the verified descriptor
//	utimes    utimensat(fd, "", AT_EMPTY_PATH) on the verified descriptor
//	          (/proc/self/fd/N on kernels without it)
//	ctime     fchownat(fd, "", -1, -1, AT_EMPTY_PATH): the overlay's own
//	          changes (owner, setuid) move the host ctime the board sees
//	truncate  ftruncate of the file reopened through /proc/self/fd/N of
//	          the verified descriptor (CREATE: of the descriptor it made)
//	open      openat(dirfd, name, O_NOFOLLOW), verified by fstat
//	create    openat(dirfd, name, O_CREAT|O_EXCL|O_NOFOLLOW); owner and
//	          mode applied on that descriptor
//	mkdir     mkdirat, then the new entry opened O_PATH|O_NOFOLLOW and
//	          checked to be a directory before owner and mode are applied
//	mknod     mknodat (--real-ownership) or an O_EXCL placeholder, then
//	          as mkdir
//	symlink   symlinkat; the target is stored verbatim, never resolved
//	link      linkat without AT_SYMLINK_FOLLOW (links the entry itself)
//	rename    renameat (entries, never followed)
//	remove    unlinkat
//	readlink  readlinkat of the entry in the verified directory
//	stat      statx(AT_SYMLINK_NOFOLLOW), or fstat of a descriptor
//
// A name may still be swapped between two of these calls for another
// object inside the export; the checks then fail (ESTALE) or apply to
// the object that was checked, never to what the name now holds.

// pathFd is an O_PATH descriptor of one object and its attributes.
type pathFd struct {
	fd int
	st unix.Statx_t
}

func (p *pathFd) close() { unix.Close(p.fd) }

func (p *pathFd) isLink() bool { return p.st.Mode&unix.S_IFMT == unix.S_IFLNK }

// openPathAt opens name in dir without following it.
func openPathAt(dirfd int, name string) (*pathFd, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		p := &pathFd{fd: fd}
		if err := statxRetry(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, &p.st); err != nil {
			unix.Close(fd)
			return nil, err
		}
		return p, nil
	}
}

// openNode opens the object n names as an O_PATH descriptor, verified
// to be n (ErrStale if the name now holds another object).
func (x *Export) openNode(n *node) (*pathFd, error) {
	var dir dirFD
	var err error
	if n.isRoot() {
		dir, err = x.root.Open(".")
	} else {
		dir, _, err = x.parentDir(n)
	}
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	p, err := openPathAt(int(dir.Fd()), dotOr(n))
	if err != nil {
		if err == unix.ENOENT {
			err = ErrStale
		}
		return nil, err
	}
	if keyOf(&p.st) != n.key || btimeOf(&p.st) != n.btime {
		p.close()
		return nil, ErrStale
	}
	return p, nil
}

func dotOr(n *node) string {
	if n.isRoot() {
		return "."
	}
	return n.name()
}

func procFd(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// chmod sets the host mode of the object (never a symlink's target).
func (p *pathFd) chmod(mode uint32) error {
	if p.isLink() {
		return unix.EOPNOTSUPP
	}
	return eintr(func() error { return unix.Fchmodat(unix.AT_FDCWD, procFd(p.fd), mode, 0) })
}

// chown sets the host owner (-1: unchanged) of the object itself.
func (p *pathFd) chown(uid, gid int) error {
	return eintr(func() error { return unix.Fchownat(p.fd, "", uid, gid, unix.AT_EMPTY_PATH) })
}

// touchCtime moves the object's host ctime to now (a chown to -1, -1),
// for changes only the overlay records.
func (p *pathFd) touchCtime() error { return p.chown(-1, -1) }

// utimes sets the object's times (UTIME_OMIT, UTIME_NOW allowed).
func (p *pathFd) utimes(ts []unix.Timespec) error {
	err := eintr(func() error { return unix.UtimesNanoAt(p.fd, "", ts, unix.AT_EMPTY_PATH) })
	if err == unix.EINVAL && !p.isLink() {
		err = eintr(func() error { return unix.UtimesNanoAt(unix.AT_FDCWD, procFd(p.fd), ts, 0) })
	}
	return err
}

// truncate sets the size of the regular file p.
func (p *pathFd) truncate(size int64) error {
	if p.st.Mode&unix.S_IFMT != unix.S_IFREG {
		return unix.EINVAL
	}
	fd, err := unix.Open(procFd(p.fd), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return eintr(func() error { return unix.Ftruncate(fd, size) })
}

// refresh re-reads p's attributes.
func (p *pathFd) refresh() error {
	return statxRetry(p.fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, &p.st)
}

func eintr(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}
