package portmap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ONC RPC message constants (RFC 5531).
const (
	msgCall  = 0
	msgReply = 1

	replyAccepted = 0
	replyDenied   = 1

	// accept_stat
	success      = 0
	progUnavail  = 1
	progMismatch = 2
	procUnavail  = 3
	garbageArgs  = 4

	// reject_stat
	rpcMismatch = 0

	maxAuthBytes = 400 // RFC 5531: opaque_auth body
)

// ErrMalformed is wrapped by the errors of the XDR decoder.
var ErrMalformed = errors.New("malformed RPC message")

// decoder reads XDR (RFC 4506) from a byte slice; the first error
// sticks, so a sequence of reads is checked once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint32() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.err = fmt.Errorf("%w: %d bytes left, want 4", ErrMalformed, len(d.b))
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

// opaque reads a variable-length opaque of at most max bytes.
func (d *decoder) opaque(max int) []byte {
	n := d.uint32()
	if d.err != nil {
		return nil
	}
	if n > uint32(max) {
		d.err = fmt.Errorf("%w: opaque of %d bytes, limit %d", ErrMalformed, n, max)
		return nil
	}
	padded := (int(n) + 3) &^ 3
	if len(d.b) < padded {
		d.err = fmt.Errorf("%w: opaque of %d bytes, %d left", ErrMalformed, n, len(d.b))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[padded:]
	return v
}

func (d *decoder) string(max int) string { return string(d.opaque(max)) }

// encoder appends XDR.
type encoder struct{ b []byte }

func (e *encoder) uint32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.uint32(1)
	} else {
		e.uint32(0)
	}
}

func (e *encoder) string(s string) {
	e.uint32(uint32(len(s)))
	e.b = append(e.b, s...)
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

// call is the header of an RPC call and its undecoded arguments.
type call struct {
	xid, rpcvers, prog, vers, proc uint32
	args                           []byte
}

// errNotCall: the message is too short to carry an xid, or is not a
// call; there is nobody to answer.
var errNotCall = fmt.Errorf("%w: not an RPC call", ErrMalformed)

// decodeCall decodes a call header. The credential and verifier are
// skipped: the portmapper answers everyone (AUTH_NONE or AUTH_SYS alike).
func decodeCall(b []byte) (call, error) {
	d := decoder{b: b}
	c := call{xid: d.uint32()}
	if d.uint32() != msgCall || d.err != nil {
		return c, errNotCall
	}
	c.rpcvers, c.prog, c.vers, c.proc = d.uint32(), d.uint32(), d.uint32(), d.uint32()
	for range 2 { // credential, verifier
		d.uint32()
		d.opaque(maxAuthBytes)
	}
	c.args = d.b
	return c, d.err
}

// acceptedReply starts an accepted reply with an AUTH_NONE verifier.
func acceptedReply(xid, stat uint32) *encoder {
	e := &encoder{b: make([]byte, 0, 128)}
	e.uint32(xid)
	e.uint32(msgReply)
	e.uint32(replyAccepted)
	e.uint32(0) // AUTH_NONE
	e.uint32(0) // empty body
	e.uint32(stat)
	return e
}

// rpcMismatchReply denies a call of an RPC version other than 2.
func rpcMismatchReply(xid uint32) []byte {
	e := &encoder{}
	e.uint32(xid)
	e.uint32(msgReply)
	e.uint32(replyDenied)
	e.uint32(rpcMismatch)
	e.uint32(2) // low
	e.uint32(2) // high
	return e.b
}
