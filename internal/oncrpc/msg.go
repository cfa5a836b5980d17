package oncrpc

import (
	"errors"
	"fmt"
)

// Message types, reply and accept states, reject reasons and
// authentication flavors and errors (RFC 5531 section 9).
const (
	Call  = 0
	Reply = 1

	MsgAccepted = 0
	MsgDenied   = 1

	Success      = 0
	ProgUnavail  = 1
	ProgMismatch = 2
	ProcUnavail  = 3
	GarbageArgs  = 4
	SystemErr    = 5

	RPCMismatch = 0
	AuthError   = 1

	AuthNone = 0
	AuthUnix = 1

	AuthBadCred = 1
	AuthTooWeak = 5
)

const (
	maxAuthBytes = 400 // RFC 5531: opaque_auth body
	maxGroups    = 16  // RFC 5531: authsys_parms gids<16>
	maxMachine   = 255
)

// Nobody is the uid and gid an AUTH_NONE caller gets.
const Nobody = 65534

// ErrNotCall: a message too short to carry an xid, or not a call;
// there is nobody to answer.
var ErrNotCall = errors.New("oncrpc: message is not an RPC call")

// Cred is a caller's identity: AUTH_UNIX's uid, gid and groups, or
// Nobody for AUTH_NONE. Other flavors are left to the Handler.
type Cred struct {
	Flavor   uint32
	UID, GID uint32
	GIDs     []uint32
}

// Header is what identifies a call: its xid, program, version and
// procedure.
type Header struct {
	XID, Prog, Vers, Proc uint32
}

// CallMsg is a decoded call: its header, credential and the undecoded
// procedure arguments.
type CallMsg struct {
	Header
	Cred Cred
	Args Decoder
}

// Rejection is a call whose header is not acceptable, with the reply
// that says why.
type Rejection struct {
	Reply []byte
	Cause string
}

func (r *Rejection) Error() string { return "oncrpc: call rejected: " + r.Cause }

// ParseCall decodes a call header. A message that is not a call is
// ErrNotCall (no reply); an RPC version other than 2 or a malformed
// credential is a *Rejection carrying the reply to send.
func ParseCall(msg []byte) (*CallMsg, error) {
	d := NewDecoder(msg)
	h, isCall, rpcvers := decodeHeader(&d)
	if !isCall {
		return nil, ErrNotCall
	}
	c := &CallMsg{Header: h}
	flavor := d.Uint32()
	body := d.Opaque(maxAuthBytes)
	d.Uint32() // verifier flavor
	d.Opaque(maxAuthBytes)
	if d.err != nil {
		return nil, &Rejection{Denied(c.XID, AuthError, AuthBadCred), "truncated header"}
	}
	if rpcvers != 2 {
		return nil, &Rejection{Denied(c.XID, RPCMismatch, 2, 2), fmt.Sprintf("RPC version %d", rpcvers)}
	}
	c.Args = d
	c.Cred = Cred{Flavor: flavor, UID: Nobody, GID: Nobody}
	if flavor == AuthUnix {
		cr, err := parseAuthUnix(body)
		if err != nil {
			return nil, &Rejection{Denied(c.XID, AuthError, AuthBadCred), "malformed AUTH_UNIX credential"}
		}
		c.Cred = cr
	}
	return c, nil
}

// peekHeader is the header of a call, read no further (false: not a
// call, or too short for its header).
func peekHeader(msg []byte) (Header, bool) {
	d := NewDecoder(msg)
	h, isCall, _ := decodeHeader(&d)
	return h, isCall && d.err == nil
}

// decodeHeader reads the fixed words that open a call: the xid, the
// message type (isCall: it was read and says CALL), the RPC version and
// the program, version and procedure.
func decodeHeader(d *Decoder) (h Header, isCall bool, rpcvers uint32) {
	h.XID = d.Uint32()
	mt := d.Uint32()
	isCall = d.err == nil && mt == Call
	rpcvers = d.Uint32()
	h.Prog, h.Vers, h.Proc = d.Uint32(), d.Uint32(), d.Uint32()
	return h, isCall, rpcvers
}

func parseAuthUnix(body []byte) (Cred, error) {
	d := NewDecoder(body)
	d.Uint32()           // stamp
	d.Opaque(maxMachine) // machine name
	c := Cred{Flavor: AuthUnix, UID: d.Uint32(), GID: d.Uint32()}
	n := d.Uint32()
	if n > maxGroups {
		return Cred{}, ErrGarbage
	}
	for range n {
		c.GIDs = append(c.GIDs, d.Uint32())
	}
	return c, d.err
}

// AcceptedReply starts an accepted reply with the given accept_stat and
// an AUTH_NONE verifier; the procedure appends its results.
func AcceptedReply(xid, stat uint32) *Encoder {
	e := &Encoder{B: make([]byte, 0, 256)}
	e.Uint32(xid)
	e.Uint32(Reply)
	e.Uint32(MsgAccepted)
	e.Uint32(AuthNone)
	e.Uint32(0)
	e.Uint32(stat)
	return e
}

// Accepted is a whole accepted reply with no results, or with extra
// words (the version range of PROG_MISMATCH).
func Accepted(xid, stat uint32, extra ...uint32) []byte {
	e := AcceptedReply(xid, stat)
	for _, v := range extra {
		e.Uint32(v)
	}
	return e.B
}

// Denied is a rejected reply: RPC_MISMATCH with the version range, or
// AUTH_ERROR with its auth_stat.
func Denied(xid, stat uint32, extra ...uint32) []byte {
	e := &Encoder{}
	e.Uint32(xid)
	e.Uint32(Reply)
	e.Uint32(MsgDenied)
	e.Uint32(stat)
	for _, v := range extra {
		e.Uint32(v)
	}
	return e.B
}
