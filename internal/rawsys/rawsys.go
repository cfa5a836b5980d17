// Package rawsys makes the few system calls of the NFS server's
// small-call path (the socket's read and writev, statx, openat2 and
// close of an O_PATH descriptor) without telling the Go scheduler, as
// unix.RawSyscall does.
//
// Why: after an idle stretch (a board thinks 0.5 to 2 ms between the
// calls of a directory walk) the runtime's sysmon thread is in its deep
// sleep, and the first system call that goes through syscall.Syscall
// wakes it: a futex wake, an inter-processor interrupt, and a thread
// that competes with the server for a CPU (perf shows the waker
// rescheduled on its way out of the futex call). In the lab, measured
// at the board's interface, an ACCESS took 48 µs that way and 29 µs
// with its calls raw. A raw call leaves sysmon asleep.
//
// Only calls that do not block belong here: the caller holds its P
// (its share of GOMAXPROCS) for the whole call. The socket is
// non-blocking (the poller waits, not the call); statx and openat2
// resolve names on the export's local file system. Reads, writes and
// syncs of file data do not come here.
package rawsys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read reads into p from the non-blocking descriptor fd, retrying
// EINTR. EAGAIN is returned as is.
func Read(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(ptr), uintptr(len(p)))
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// Writev writes what it can of bufs to the non-blocking descriptor fd
// in one call (at most 8 buffers), retrying EINTR, and returns how many
// bytes went. EAGAIN is returned as is.
func Writev(fd int, bufs [][]byte) (int, error) {
	var iov [8]unix.Iovec
	n := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if n == len(iov) {
			break
		}
		iov[n].Base = &b[0]
		iov[n].SetLen(len(b))
		n++
	}
	if n == 0 {
		return 0, nil
	}
	for {
		w, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
		switch e {
		case 0:
			return int(w), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// Statx is unix.Statx, retrying EINTR.
func Statx(dirfd int, path string, flags, mask int, st *unix.Statx_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_STATX, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mask), uintptr(unsafe.Pointer(st)), 0)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}

// Openat2 is unix.Openat2, retrying EINTR (EAGAIN, a rename seen under
// way, is the caller's to retry or not).
func Openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	for {
		fd, _, e := unix.RawSyscall6(unix.SYS_OPENAT2, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
		switch e {
		case 0:
			return int(fd), nil
		case unix.EINTR:
			continue
		}
		return -1, e
	}
}

// Close closes fd (never retried: Linux frees the descriptor even when
// close reports EINTR).
func Close(fd int) error {
	if _, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0); e != 0 {
		return e
	}
	return nil
}
