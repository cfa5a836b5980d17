package nfsroot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ONC RPC (RFC 5531) constants.
const (
	rpcCall  = 0
	rpcReply = 1

	msgAccepted = 0
	msgDenied   = 1

	acceptSuccess      = 0
	acceptProgUnavail  = 1
	acceptProgMismatch = 2
	acceptProcUnavail  = 3
	acceptGarbageArgs  = 4
	acceptSystemErr    = 5

	rejectRPCMismatch = 0
	rejectAuthError   = 1

	authNone = 0
	authUnix = 1

	authBadCred  = 1
	authTooWeak  = 5
	maxAuthBytes = 400
)

// maxRecord bounds one RPC record (a WRITE of maxIO bytes plus headers).
const maxRecord = maxIO + 64<<10

// Errors a connection is closed with.
var (
	ErrRecordTooLarge = errors.New("nfsroot: RPC record larger than the server accepts")
	errNotCall        = errors.New("nfsroot: RPC message is not a call")
)

// bigBuf is the size of the pooled buffers that carry large records
// (WRITE calls) and large replies (READ, READDIRPLUS).
const bigBuf = maxRecord

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, bigBuf); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

// putBuf returns a buffer from getBuf (others are left to the GC).
func putBuf(b []byte) {
	if cap(b) == bigBuf {
		b = b[:0]
		bufPool.Put(&b)
	}
}

// readRecord reads one record-marked RPC message (RFC 5531 section 11),
// joining its fragments. Large records go into pooled buffers (putBuf
// when done).
func readRecord(r *bufio.Reader) ([]byte, error) {
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
		n := int(h & 0x7fffffff)
		if len(buf)+n > maxRecord {
			putBuf(buf)
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(buf)+n, maxRecord)
		}
		switch {
		case buf == nil && h&0x80000000 != 0 && n <= 64<<10:
			buf = make([]byte, 0, n) // the common small call
		case buf == nil || cap(buf) < len(buf)+n:
			nb := getBuf()
			buf = append(nb, buf...)
		}
		start := len(buf)
		buf = buf[:start+n]
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			putBuf(buf)
			return nil, err
		}
		if h&0x80000000 != 0 {
			return buf, nil
		}
	}
}

// reserve makes room for n more bytes, moving a large reply into a
// pooled buffer.
func (e *encoder) reserve(n int) {
	if cap(e.b)-len(e.b) >= n {
		return
	}
	var nb []byte
	if len(e.b)+n <= bigBuf {
		nb = getBuf()
	} else {
		nb = make([]byte, 0, len(e.b)+n)
	}
	e.b = append(nb, e.b...)
}

// cred is the caller's identity from AUTH_UNIX (AUTH_NONE maps to
// nobody).
type cred struct {
	flavor   uint32
	uid, gid uint32
	gids     []uint32
}

// call is a decoded RPC call header; args holds the procedure arguments.
type call struct {
	xid, prog, vers, proc uint32
	cred                  cred
	args                  decoder
}

// rejection is a reply that parseCall produces when the header itself is
// not acceptable; it is returned as an error.
type rejection struct{ reply []byte }

func (r *rejection) Error() string { return "nfsroot: RPC call rejected" }

// parseCall decodes an RPC call header. A message that is not a call, or
// one too short to carry an xid, is an error with no reply; an
// unsupported RPC version or credential is a *rejection carrying the
// reply to send.
func parseCall(rec []byte) (*call, error) {
	d := decoder{b: rec}
	c := &call{xid: d.uint32()}
	if mt := d.uint32(); d.err != nil || mt != rpcCall {
		return nil, errNotCall
	}
	rpcvers := d.uint32()
	c.prog, c.vers, c.proc = d.uint32(), d.uint32(), d.uint32()
	flavor := d.uint32()
	body := d.opaque(maxAuthBytes)
	d.uint32() // verifier flavor
	d.opaque(maxAuthBytes)
	if d.err != nil {
		return nil, &rejection{denied(c.xid, rejectAuthError, authBadCred)}
	}
	if rpcvers != 2 {
		return nil, &rejection{denied(c.xid, rejectRPCMismatch, 2, 2)}
	}
	c.args = d
	switch flavor {
	case authNone:
		c.cred = cred{flavor: authNone, uid: nobody, gid: nobody}
	case authUnix:
		cr, err := parseAuthUnix(body)
		if err != nil {
			return nil, &rejection{denied(c.xid, rejectAuthError, authBadCred)}
		}
		c.cred = cr
	default:
		return nil, &rejection{denied(c.xid, rejectAuthError, authTooWeak)}
	}
	return c, nil
}

const nobody = 65534

func parseAuthUnix(body []byte) (cred, error) {
	d := decoder{b: body}
	d.uint32()    // stamp
	d.opaque(255) // machine name
	c := cred{flavor: authUnix, uid: d.uint32(), gid: d.uint32()}
	n := d.uint32()
	if n > 16 {
		return cred{}, errGarbage
	}
	for i := uint32(0); i < n; i++ {
		c.gids = append(c.gids, d.uint32())
	}
	return c, d.err
}

// replyHeader starts an accepted reply with the given accept_stat.
func replyHeader(xid, stat uint32) *encoder {
	e := &encoder{b: make([]byte, 0, 256)}
	e.uint32(xid)
	e.uint32(rpcReply)
	e.uint32(msgAccepted)
	e.uint32(authNone) // verifier
	e.uint32(0)
	e.uint32(stat)
	return e
}

// accepted is a complete accepted reply with no results (errors) or with
// the version range for PROG_MISMATCH.
func accepted(xid, stat uint32, extra ...uint32) []byte {
	e := replyHeader(xid, stat)
	for _, v := range extra {
		e.uint32(v)
	}
	return e.b
}

func denied(xid, stat uint32, extra ...uint32) []byte {
	e := &encoder{}
	e.uint32(xid)
	e.uint32(rpcReply)
	e.uint32(msgDenied)
	e.uint32(stat)
	for _, v := range extra {
		e.uint32(v)
	}
	return e.b
}
