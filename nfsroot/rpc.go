package nfsroot

import "github.com/bootrig/bootrig/internal/oncrpc"

// The authentication flavors, and the identity AUTH_NONE maps to.
const (
	authNone = oncrpc.AuthNone
	authUnix = oncrpc.AuthUnix
	nobody   = oncrpc.Nobody
)

// maxRecord bounds one RPC record (a WRITE of maxIO bytes plus headers).
const maxRecord = maxIO + 64<<10

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

// callOf is oncrpc's call as the procedures see it.
func callOf(c *oncrpc.CallMsg) *call {
	return &call{
		xid: c.XID, prog: c.Prog, vers: c.Vers, proc: c.Proc,
		cred: cred{flavor: c.Cred.Flavor, uid: c.Cred.UID, gid: c.Cred.GID, gids: c.Cred.GIDs},
		args: decoder{c.Args},
	}
}

// replyHeader starts an accepted reply with the given accept_stat.
func replyHeader(xid, stat uint32) *encoder {
	return &encoder{*oncrpc.AcceptedReply(xid, stat)}
}
