package nfsroot

import (
	"errors"
	"net"
	"time"

	"github.com/bootrig/bootrig/internal/oncrpc"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// dtpref is the READDIR(PLUS) reply size the server prefers (FSINFO).
// Linux's client (6.1) allocates min(dtpref, 64 KiB) of pages for each
// directory it lists, growing up to dtpref for big ones: at 256 KiB
// every directory cost the board 16 pages, about 100 µs more per
// directory on the emulated board than nfs-ganesha's 16 KiB (4 pages),
// whose value this is. A big directory takes more round trips.
const dtpref = 16 << 10

// maxIO is the largest READ or WRITE the server offers (FSINFO rtmax,
// wtmax).
const maxIO = 1 << 20

// fhMax is the largest nfs_fh3 a client may send.
const fhMax = 64

// request is one call being served.
type request struct {
	*call
	s    *Server
	x    *Export
	addr net.Addr
	// maxReply bounds READ and READDIR(PLUS) replies: maxIO on TCP,
	// less over UDP, where a reply must fit one datagram.
	maxReply uint32
}

// maxUDPData is the most data a READ or READDIR puts in a UDP reply.
const maxUDPData = 32 << 10

type procFunc func(r *request, e *encoder) error

var nfsProcs = [...]procFunc{
	nfs.NFSProcedureNull:        func(*request, *encoder) error { return nil },
	nfs.NFSProcedureGetAttr:     nfsGetattr,
	nfs.NFSProcedureSetAttr:     nfsSetattr,
	nfs.NFSProcedureLookup:      nfsLookup,
	nfs.NFSProcedureAccess:      nfsAccess,
	nfs.NFSProcedureReadlink:    nfsReadlink,
	nfs.NFSProcedureRead:        nfsRead,
	nfs.NFSProcedureWrite:       nfsWrite,
	nfs.NFSProcedureCreate:      nfsCreate,
	nfs.NFSProcedureMkDir:       nfsMkdir,
	nfs.NFSProcedureSymlink:     nfsSymlink,
	nfs.NFSProcedureMkNod:       nfsMknod,
	nfs.NFSProcedureRemove:      nfsRemove,
	nfs.NFSProcedureRmDir:       nfsRmdir,
	nfs.NFSProcedureRename:      nfsRename,
	nfs.NFSProcedureLink:        nfsLink,
	nfs.NFSProcedureReadDir:     nfsReaddir,
	nfs.NFSProcedureReadDirPlus: nfsReaddirplus,
	nfs.NFSProcedureFSStat:      nfsFsstat,
	nfs.NFSProcedureFSInfo:      nfsFsinfo,
	nfs.NFSProcedurePathConf:    nfsPathconf,
	nfs.NFSProcedureCommit:      nfsCommit,
}

var mountProcs = [...]procFunc{
	nfs.MountProcNull:    func(*request, *encoder) error { return nil },
	nfs.MountProcMount:   mountMnt,
	nfs.MountProcDump:    mountDump,
	nfs.MountProcUmnt:    mountUmnt,
	nfs.MountProcUmntAll: mountUmntAll,
	nfs.MountProcExport:  mountExport,
}

// quick says which calls oncrpc may serve on the goroutine that read
// them (oncrpc.Server.Inline): MOUNT's, and the NFS calls that only
// look (a recursive listing is all of them). Not READ, which may wait
// for a disk, nor the calls that change the export (the metadata store's
// writer lock, fsync).
func quick(h oncrpc.Header) bool {
	switch h.Prog {
	case oncrpc.ProgMount:
		return true
	case oncrpc.ProgNFS:
		switch nfs.NFSProcedure(h.Proc) {
		case nfs.NFSProcedureNull, nfs.NFSProcedureGetAttr, nfs.NFSProcedureLookup, nfs.NFSProcedureAccess,
			nfs.NFSProcedureReadlink, nfs.NFSProcedureReadDir, nfs.NFSProcedureReadDirPlus,
			nfs.NFSProcedureFSStat, nfs.NFSProcedureFSInfo, nfs.NFSProcedurePathConf:
			return true
		}
	}
	return false
}

// handle answers one RPC record as if it came over TCP from addr; nil
// means no reply (not a call).
func (s *Server) handle(rec []byte, addr net.Addr) (reply []byte) {
	return s.server().Answer(rec, oncrpc.Request{Remote: addr, Transport: oncrpc.TCP})
}

// serveRPC is the oncrpc Handler: the caller's checks, then the program
// and procedure.
func (s *Server) serveRPC(rq *oncrpc.Request) []byte {
	if refusal := s.check(rq); refusal != nil {
		return refusal
	}
	var procs []procFunc
	switch {
	case rq.Prog == oncrpc.ProgNFS && (rq.Transport == oncrpc.TCP || s.NFSOverUDP):
		procs = nfsProcs[:]
	case rq.Prog == oncrpc.ProgMount:
		procs = mountProcs[:]
	default:
		return oncrpc.Accepted(rq.XID, oncrpc.ProgUnavail)
	}
	if rq.Vers != 3 {
		return oncrpc.Accepted(rq.XID, oncrpc.ProgMismatch, 3, 3)
	}
	if rq.Proc >= uint32(len(procs)) {
		return oncrpc.Accepted(rq.XID, oncrpc.ProcUnavail)
	}
	maxReply := uint32(maxIO)
	if rq.Transport == oncrpc.UDP {
		maxReply = maxUDPData
	}
	c := callOf(rq.CallMsg)
	r := &request{call: c, s: s, x: s.Export, addr: rq.Remote, maxReply: maxReply}
	if s.debug {
		defer func(t0 time.Time) {
			s.log().Debug("nfs: call", "client", rq.Remote.String(), "prog", c.prog, "proc", c.proc, "xid", c.xid, "took", time.Since(t0))
		}(time.Now())
	}
	e := replyHeader(c.xid, oncrpc.Success)
	if err := procs[c.proc](r, e); err != nil {
		if errors.Is(err, errGarbage) {
			return oncrpc.Accepted(c.xid, oncrpc.GarbageArgs)
		}
		s.log().Error("nfs: call failed", "prog", c.prog, "proc", c.proc, "err", err)
		return oncrpc.Accepted(c.xid, oncrpc.SystemErr)
	}
	return e.B
}

// check refuses, with AUTH_ERROR / AUTH_TOOWEAK, a call in a credential
// flavor the server does not take, from a client not in Allow, or one
// that needsPrivilegedPort from a port >= 1024 without InsecurePorts;
// nil lets the call through.
func (s *Server) check(rq *oncrpc.Request) []byte {
	tooWeak := oncrpc.Denied(rq.XID, oncrpc.AuthError, oncrpc.AuthTooWeak)
	switch {
	case rq.Cred.Flavor != oncrpc.AuthNone && rq.Cred.Flavor != oncrpc.AuthUnix:
		s.rl.Warn("nfs: refused a call in a credential flavor other than AUTH_NONE and AUTH_UNIX", "client", rq.Remote.String(), "flavor", rq.Cred.Flavor)
		return tooWeak
	case !s.allowed(rq.Remote):
		s.refuse(rq.Remote, "call")
		return tooWeak
	case !s.InsecurePorts && needsPrivilegedPort(rq.Header) && oncrpc.ClientAddr(rq.Remote).Port() >= 1024:
		s.rl.Warn("nfs: refused a call from a non-privileged port (>= 1024; --insecure-ports allows them)", "client", rq.Remote.String())
		return tooWeak
	}
	return nil
}

// needsPrivilegedPort is what kernel nfsd's "secure" and mountd check
// the source port of: every NFS procedure but NULL, and MOUNT's MNT and
// UMNT; NULL, and MOUNT's EXPORT and DUMP (showmount), are anyone's.
func needsPrivilegedPort(h oncrpc.Header) bool {
	switch {
	case h.Proc == 0:
		return false
	case h.Prog == oncrpc.ProgMount:
		return h.Proc == uint32(nfs.MountProcMount) || h.Proc == uint32(nfs.MountProcUmnt) || h.Proc == uint32(nfs.MountProcUmntAll)
	}
	return true
}

// errReadOnly is returned by every change on a --read-only server.
var errReadOnly = errors.New("nfsroot: export is read-only")

// status maps an error to its nfsstat3.
func status(err error) nfs.NFSStatus {
	var errno unix.Errno
	switch {
	case err == nil:
		return nfs.NFSStatusOk
	case errors.Is(err, ErrStale):
		return nfs.NFSStatusStale
	case errors.Is(err, ErrBadHandle):
		return nfs.NFSStatusBadHandle
	case errors.Is(err, ErrNameLong):
		return nfs.NFSStatusNameTooLong
	case errors.Is(err, ErrBadName):
		return nfs.NFSStatusAccess
	case errors.Is(err, errReadOnly):
		return nfs.NFSStatusROFS
	case errors.As(err, &errno):
		return errnoStatus(errno)
	}
	return nfs.NFSStatusIO
}

func errnoStatus(e unix.Errno) nfs.NFSStatus {
	switch e {
	case unix.EPERM:
		return nfs.NFSStatusPerm
	case unix.ENOENT:
		return nfs.NFSStatusNoEnt
	case unix.EACCES:
		return nfs.NFSStatusAccess
	case unix.EEXIST:
		return nfs.NFSStatusExist
	case unix.EXDEV:
		return nfs.NFSStatusXDev
	case unix.ENODEV:
		return nfs.NFSStatusNoDev
	case unix.ENOTDIR:
		return nfs.NFSStatusNotDir
	case unix.EISDIR:
		return nfs.NFSStatusIsDir
	case unix.EINVAL:
		return nfs.NFSStatusInval
	case unix.EFBIG:
		return nfs.NFSStatusFBig
	case unix.ENOSPC:
		return nfs.NFSStatusNoSPC
	case unix.EROFS:
		return nfs.NFSStatusROFS
	case unix.EMLINK:
		return nfs.NFSStatusMlink
	case unix.ENAMETOOLONG:
		return nfs.NFSStatusNameTooLong
	case unix.ENOTEMPTY:
		return nfs.NFSStatusNotEmpty
	case unix.EDQUOT:
		return nfs.NFSStatusDQuot
	case unix.ELOOP:
		return nfs.NFSStatusStale
	}
	return nfs.NFSStatusIO
}
