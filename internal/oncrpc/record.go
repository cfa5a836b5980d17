package oncrpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrRecordTooLarge: a TCP record's fragments add up to more than the
// limit; the connection is closed.
var ErrRecordTooLarge = errors.New("oncrpc: RPC record larger than the server accepts")

// lastFragment marks the last fragment of a record (RFC 5531 section 11).
const lastFragment = 1 << 31

// bigBuf is the size of the pooled buffers that carry large records
// and replies: a 1 MiB NFS READ or WRITE and its headers.
const bigBuf = 1<<20 + 64<<10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, bigBuf); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

// putBuf returns a buffer from getBuf to the pool (others are left to
// the GC).
func putBuf(b []byte) {
	if cap(b) == bigBuf {
		b = b[:0]
		bufPool.Put(&b)
	}
}

// ReadRecord reads one record-marked message, joining its fragments;
// a record over limit bytes is ErrRecordTooLarge, read no further.
func ReadRecord(r *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if buf != nil && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			putBuf(buf)
			return nil, err
		}
		h := binary.BigEndian.Uint32(hdr[:])
		n := int(h &^ lastFragment)
		if len(buf)+n > limit {
			putBuf(buf)
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(buf)+n, limit)
		}
		buf = grow(buf, n, h&lastFragment != 0)
		start := len(buf)
		buf = buf[:start+n]
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			putBuf(buf)
			return nil, err
		}
		if h&lastFragment != 0 {
			return buf, nil
		}
	}
}

// grow makes room for a fragment of n bytes: a small single-fragment
// call gets its own slice, anything larger a pooled buffer.
func grow(buf []byte, n int, last bool) []byte {
	switch {
	case buf == nil && last && n <= 64<<10:
		return make([]byte, 0, n)
	case cap(buf)-len(buf) < n:
		nb := getBuf()
		if cap(nb) < len(buf)+n {
			nb = make([]byte, 0, len(buf)+n)
		}
		old := buf
		buf = append(nb, buf...)
		putBuf(old)
	}
	return buf
}

// RecordMark is the mark that sends a message of n bytes as one
// fragment.
func RecordMark(n int) [4]byte {
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], lastFragment|uint32(n))
	return m
}
