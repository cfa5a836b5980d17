package tftp

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of f, a regular file, read-only and
// shared, for a download to send its blocks from: each block then goes
// from the page cache into its datagram in one copy, by one writev(2),
// where pread(2) and write(2) copy it twice in two system calls. It
// returns nil when f cannot be mapped (empty, too large for the address
// space, mmap failing), and the download reads the file instead.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || size != int64(int(size)) {
		return nil
	}
	rc, err := f.SyscallConn() // not Fd, which would make f blocking
	if err != nil {
		return nil
	}
	var b []byte
	cerr := rc.Control(func(fd uintptr) {
		b, err = unix.Mmap(int(fd), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	})
	if cerr != nil || err != nil {
		return nil
	}
	return b
}

// unmap releases the sender's mapping of the file, if it has one; the
// file's blocks are read from then on.
func (w *windowSender) unmap() {
	if w.mapped != nil {
		unix.Munmap(w.mapped)
		w.mapped = nil
	}
}

// sendMapped sends block n from the mapping when the file still holds
// all of it there, and reports whether it did; when it did not, nothing
// was sent, and the block is read from the file.
//
// The file may have shrunk since it was mapped. The kernel's copy then
// fails with EFAULT on a page wholly past the new end (Go itself would
// take SIGBUS), but the page the new end falls in stays mapped and
// reads as zeros past it: a block ending in that page would go out
// whole, zero-filled, where pread returns it short and ends the
// transfer. So before the copy the sender reads one byte of the page
// after the one the block ends in, which faults when the file no longer
// reaches that page: then the block, and every block after it, is read
// instead, as the transfer would have read it all along. (A shrink in
// the microsecond between that read and the copy can still zero-fill
// the block's tail, as one racing pread's copy can: the kernel zeroes
// the page's tail after setting the new size, which pread checks
// before it copies.) Blocks whose next page is past the end of the
// mapping are always read: among them the final, short one, so that a
// file grown since it was mapped goes on to its new end.
func (w *windowSender) sendMapped(n uint64) (bool, error) {
	off := int64(n-1) * int64(w.blksize)
	end := off + int64(w.blksize)
	probe := (end - 1) | (pageSize - 1) + 1 // the page after the block's last byte
	if probe >= int64(len(w.mapped)) {
		return false, nil
	}
	if _, ok := load(&w.mapped[probe]); !ok {
		w.unmap()
		return false, nil
	}
	_, err := w.conn.Writev(w.pkt[:4], w.mapped[off:end])
	if errors.Is(err, unix.EFAULT) { // shrunk between the probe and the copy
		w.unmap()
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("sending block %d: %w", n, err)
	}
	w.fromMap++
	return true, nil
}

var pageSize = int64(os.Getpagesize())

// load reads the byte at p, in a file's mapping, and reports whether it
// could: whether the file still reaches its page. A page past the end
// raises SIGBUS, which debug.SetPanicOnFault makes a panic of this
// goroutine's, recovered here, rather than a crash of the process.
//
//go:noinline
func load(p *byte) (b byte, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
		}
	}()
	return *p, true
}
